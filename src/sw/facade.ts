import { TokenProxyError } from '../shared/errors.js';
import type { ErrorInfo, LogoutAnswer, LogoutResult, Result, WorkerFacade } from '../shared/protocol.js';
import type { OutboxRuntime, SignInRuntime } from './feature-contracts.js';
import type { RefreshEngine } from './refresh-engine.js';
import type { Session } from './session.js';

/** A typed error as data; IndexedDB's own errors (DOMExceptions) say that storage failed; anything else is a bug (rpc.ts answers internal-error). */
function failure(error: unknown, now: number): { ok: false; error: ErrorInfo } {
  if (error instanceof TokenProxyError) return { ok: false, error: error.toInfo(now) };
  if (error instanceof DOMException) return { ok: false, error: { code: 'storage-unavailable', message: `storage failed: ${error.message}`, at: now } };
  throw error;
}

/** `run`'s value as a result, its typed failure as data. */
async function attempt<T>(run: () => Promise<T>, now: () => number): Promise<Result<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return failure(error, now());
  }
}

/**
 * The functions pages may call (served by rpc.ts, which answers calls and nothing else). Arguments are
 * checked here: they come from page script.
 */
export interface FacadeDeps {
  engine: RefreshEngine;
  outbox: OutboxRuntime | null;
  signIn: SignInRuntime | null;
  revoke: (session: Session) => Promise<LogoutResult>;
  now: () => number;
}

export function createFacade({ engine, outbox, signIn, revoke, now }: FacadeDeps): WorkerFacade {
  const run = <T>(task: () => Promise<T>) => attempt(task, now);
  return {
    login: (response: unknown) => run(() => engine.login(response)),
    logout: (options: unknown) =>
      run(async (): Promise<LogoutAnswer> => {
        const { revoke: revokes, endSession } = Object(options) as { revoke?: unknown; endSession?: unknown };
        if ((options !== undefined && typeof options !== 'object') || ![revokes, endSession].every((o) => o === undefined || typeof o === 'boolean')) {
          throw new TokenProxyError('bad-message', 'logout takes { revoke?: boolean, endSession?: boolean }');
        }
        // Local first: every tab hears `logged-out` at once; revocation follows with the token we held, then
        // the provider's logout, where the page goes next.
        const previous = await engine.logout('user');
        const answer: LogoutAnswer = previous === null || revokes === false ? { revoked: false } : await revoke(previous);
        const navigate = endSession === true ? await signIn?.endSession(previous?.idToken) : undefined;
        return navigate === undefined ? answer : { ...answer, navigate, endingSession: true };
      }),
    signIn: (options: unknown) =>
      run(async () => {
        if (!signIn) throw new TokenProxyError('invalid-config', 'signIn: the worker has no oidcSignIn()', { field: 'signIn' });
        return signIn.start(options);
      }),
    // (Writes waiting for this session go out with the landing page's first API call, or the worker's next start.)
    completeSignIn: (url: unknown) => run(async () => (signIn && typeof url === 'string' ? signIn.complete(url, engine) : null)),
    status: () => run(() => engine.status()),
    outbox: () => run(async () => (outbox ? outbox.list() : [])),
    replayOutbox: () => run(async () => (outbox ? outbox.replay() : { replayed: 0, failed: 0, remaining: 0 })),
  };
}
