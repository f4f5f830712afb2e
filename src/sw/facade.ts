import { TokenProxyError } from '../shared/errors.js';
import type { ErrorInfo, LogoutResult, Result, SessionStatus, WorkerFacade } from '../shared/protocol.js';
import type { OutboxRuntime } from './feature-contracts.js';
import type { RefreshEngine } from './refresh-engine.js';
import type { Session } from './session.js';

const ok = <T>(value: T): Result<T> => ({ ok: true, value });

function failure(error: unknown, now: number): { ok: false; error: ErrorInfo } {
  if (error instanceof TokenProxyError) return { ok: false, error: error.toInfo(now) };
  throw error;
}

/**
 * The functions pages may call (served by rpc.ts, which answers calls and nothing else). Arguments are
 * checked here: they come from page script.
 */
export function createFacade(
  engine: RefreshEngine,
  outbox: OutboxRuntime | null,
  revoke: (session: Session) => Promise<LogoutResult>,
  now: () => number,
): WorkerFacade {
  return {
    async login(response: unknown): Promise<Result<SessionStatus>> {
      try {
        return ok(await engine.login(response));
      } catch (error) {
        return failure(error, now());
      }
    },
    async logout(options: unknown): Promise<Result<LogoutResult>> {
      const revokeOption = typeof options === 'object' && options !== null ? (options as { revoke?: unknown }).revoke : undefined;
      if ((options !== undefined && (typeof options !== 'object' || options === null)) || (revokeOption !== undefined && typeof revokeOption !== 'boolean')) {
        return failure(new TokenProxyError('bad-message', 'logout options must be { revoke?: boolean }'), now());
      }
      // Local first: every tab hears `logged-out` at once; revocation follows with the token we held.
      const previous = await engine.logout('user');
      return ok(previous === null || revokeOption === false ? { revoked: false } : await revoke(previous));
    },
    status: async () => ok(await engine.status()),
    outbox: async () => ok(outbox ? await outbox.list() : []),
    replayOutbox: async () => ok(outbox ? await outbox.replay() : { replayed: 0, failed: 0, remaining: 0 }),
  };
}
