import type { ErrorInfo, WorkerFacade } from '../shared/protocol.js';

const FACADE_FUNCTIONS: ReadonlySet<string> = new Set<keyof WorkerFacade>(['login', 'logout', 'status', 'outbox', 'replayOutbox']);

const isRawWireValue = (value: unknown) => typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'RAW';

/**
 * Checks a comlink message from a page before comlink sees it. Only a call of one facade function with
 * plain-value arguments (or a release) passes: no GET/SET/CONSTRUCT of arbitrary paths, no proxies or
 * transferred handlers. comlink itself throws, unanswered, on some malformed messages — the page would
 * wait for its timeout; here every bad call gets a typed answer at once.
 * Returns null when the message may pass, else the problem.
 */
export function callProblem(data: unknown): string | null {
  if (typeof data !== 'object' || data === null) return 'a call must be an object';
  const { type, path, argumentList } = data as { type?: unknown; path?: unknown; argumentList?: unknown };
  if (type === 'RELEASE') return null;
  if (type !== 'APPLY') return `calls of type ${JSON.stringify(type)?.slice(0, 40)} are not accepted`;
  if (!Array.isArray(path) || path.length !== 1 || !FACADE_FUNCTIONS.has(path[0] as string)) {
    return `no such function: ${JSON.stringify(path)?.slice(0, 80)}`;
  }
  if (!Array.isArray(argumentList) || argumentList.length > 1 || !argumentList.every(isRawWireValue)) {
    return 'arguments must be at most one plain value';
  }
  return null;
}

/** comlink's wire form of a returned value: our typed error as a `Result`. */
export function rejection(id: unknown, problem: string, at: number): { id: unknown; type: 'RAW'; value: { ok: false; error: ErrorInfo } } {
  return { id, type: 'RAW', value: { ok: false, error: { code: 'bad-message', message: problem, at } } };
}
