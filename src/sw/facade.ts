import { TokenProxyError } from '../shared/errors.js';
import type { LogoutAnswer, LogoutResult, Result, WorkerFacade } from '../shared/protocol.js';
import type { OutboxRuntime, SignInRuntime } from './feature-contracts.js';
import type { RefreshEngine } from './refresh-engine.js';
import type { Session } from './session.js';

/** What a page's call of `WorkerFacade` runs in the worker: its value, or a throw that rpc.ts turns into the failed Result. */
export type WorkerCalls = {
  [K in keyof WorkerFacade]: (...args: Parameters<WorkerFacade[K]>) => Promise<Awaited<ReturnType<WorkerFacade[K]>> extends Result<infer T> ? T : never>;
};

/**
 * The functions pages may call (served by rpc.ts, which answers calls and nothing else). Arguments are
 * checked here: they come from page script.
 */
export interface FacadeDeps {
  engine: RefreshEngine;
  outbox: OutboxRuntime | null;
  signIn: SignInRuntime | null;
  revoke: (session: Session) => Promise<LogoutResult>;
}

export function createFacade({ engine, outbox, signIn, revoke }: FacadeDeps): WorkerCalls {
  return {
    login: (response: unknown) => engine.login(response),
    async logout(options: unknown): Promise<LogoutAnswer> {
      const { revoke: revokes, endSession } = Object(options) as { revoke?: unknown; endSession?: unknown };
      if ((options !== undefined && typeof options !== 'object') || ![revokes, endSession].every((o) => o === undefined || typeof o === 'boolean')) {
        throw new TokenProxyError('bad-message', 'logout options: { revoke?, endSession? } (booleans)');
      }
      // Local first: every tab hears `logged-out` at once; revocation follows with the token we held, then
      // the provider's logout, where the page goes next.
      const previous = await engine.logout('user');
      const answer: LogoutAnswer = previous === null || revokes === false ? { revoked: false } : await revoke(previous);
      const navigate = endSession === true ? await signIn?.endSession(previous?.idToken) : undefined;
      return navigate === undefined ? answer : { ...answer, navigate, endingSession: true };
    },
    async signIn(options: unknown) {
      if (!signIn) throw new TokenProxyError('invalid-config', 'signIn: the worker has no oidcSignIn()', { field: 'signIn' });
      return signIn.start(options);
    },
    // (Writes waiting for this session go out with the landing page's first API call, or the worker's next start.)
    completeSignIn: async (url: unknown) => (signIn && typeof url === 'string' ? signIn.complete(url, engine) : null),
    status: () => engine.status(),
    outbox: async () => (outbox ? outbox.list() : []),
    replayOutbox: async () => (outbox ? outbox.replay() : { replayed: 0, failed: 0, remaining: 0 }),
  };
}
