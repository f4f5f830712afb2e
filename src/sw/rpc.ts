import { messageOf, TokenProxyError } from '../shared/errors.js';
import type { ErrorInfo, Result, WorkerFacade } from '../shared/protocol.js';
import type { WorkerCalls } from './facade.js';

/**
 * The worker's half of comlink's wire protocol, written out instead of comlink's `expose`: pages talk to
 * us through `comlink.wrap`, but `expose` would also grant GET/SET/CONSTRUCT on any property path, accept
 * proxied functions as arguments, and throw unanswered on some malformed messages (the page then waits
 * for its timeout) — and it would cost 1.7 KB gzip, a quarter of the worker's budget. Here exactly one
 * thing is served: a call of a facade function with at most one plain argument. Everything else gets a
 * typed answer.
 */
type Call = { id: unknown; type: 'APPLY'; path: [keyof WorkerFacade]; argumentList: Array<{ type: 'RAW'; value: unknown }> } | { id: unknown; type: 'RELEASE' };

const isRawWireValue = (value: unknown) => typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'RAW';

/** Returns null when `data` is a call of one of `facade`'s own functions that we serve, else what is wrong with it. */
export function callProblem(data: unknown, facade: WorkerCalls): string | null {
  const { type, path, argumentList } = ((typeof data === 'object' && data) || {}) as { type?: unknown; path?: unknown; argumentList?: unknown };
  if (type === 'RELEASE') return null;
  if (type !== 'APPLY') return 'not a call';
  // own properties only: `toString`, `constructor` and the like are no facade functions
  if (!Array.isArray(path) || path.length !== 1 || !Object.hasOwn(facade, path[0] as PropertyKey)) {
    return 'no such function';
  }
  if (!Array.isArray(argumentList) || argumentList.length > 1 || !argumentList.every(isRawWireValue)) {
    return 'at most one plain argument';
  }
  return null;
}

function failed(code: ErrorInfo['code'], message: string, at: number): Result<never> {
  return { ok: false, error: { code, message, at } };
}

/** A typed error as data; IndexedDB's own errors (DOMExceptions) say that storage failed; anything else is a bug. */
function failure(error: unknown, at: number): Result<never> {
  if (error instanceof TokenProxyError) {
    const { code, message, field } = error;
    return { ok: false, error: field === undefined ? { code, message, at } : { code, message, field, at } };
  }
  if (error instanceof DOMException) return failed('storage-unavailable', `storage failed: ${error.message}`, at);
  return failed('internal-error', `the worker failed: ${messageOf(error)}`, at);
}

/**
 * Serves calls arriving on `port` (one page call per port: a port made before the worker was stopped
 * would hang). Resolves once the first call is answered, so the caller's `waitUntil` keeps the worker
 * alive exactly as long as a page waits for it; the port closes on RELEASE or after `lifetimeMs`.
 */
export function serveFacade(port: MessagePort, facade: WorkerCalls, now: () => number, lifetimeMs: number): Promise<void> {
  return new Promise((answered) => {
    const timer = setTimeout(() => {
      port.close();
      answered();
    }, lifetimeMs);
    port.onmessage = async ({ data }: MessageEvent<unknown>) => {
      const id = (data as { id?: unknown } | null)?.id;
      const problem = callProblem(data, facade);
      let value: unknown;
      if (problem !== null) {
        value = failed('bad-message', problem, now());
      } else if ((data as Call).type === 'RELEASE') {
        clearTimeout(timer);
        port.postMessage({ id, type: 'RAW', value: undefined });
        port.close();
        return;
      } else {
        const { path, argumentList } = data as Extract<Call, { type: 'APPLY' }>;
        try {
          value = { ok: true, value: await (facade[path[0]] as (argument: unknown) => Promise<unknown>)(argumentList[0]?.value) };
        } catch (error) {
          value = failure(error, now());
        }
      }
      port.postMessage({ id, type: 'RAW', value });
      answered();
    };
  });
}
