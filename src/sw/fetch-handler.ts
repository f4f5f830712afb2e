import type { ResolvedConfig } from './config.js';
import type { DpopProver } from './dpop.js';
import type { OutboxRuntime } from './offline-outbox.js';
import type { RefreshEngine } from './refresh-engine.js';
import type { Session } from './session.js';

export interface ProxyDeps {
  engine: RefreshEngine;
  config: Pick<ResolvedConfig, 'isTokenRejected' | 'existingAuthorization'>;
  fetch: typeof fetch;
  outbox: OutboxRuntime | null;
  /** Signs DPoP proofs when `dpop` is configured. */
  dpop: DpopProver | null;
}

/** Navigations and no-cors requests never carry the token (no-cors would drop the header silently anyway). */
export function isProxiable(request: Request, isApi: (url: string) => boolean): boolean {
  return request.mode !== 'navigate' && request.mode !== 'no-cors' && isApi(request.url);
}

function authorize(headers: Headers, session: Session): Headers {
  headers.set('Authorization', `${session.tokenType} ${session.accessToken}`);
  return headers;
}

/** Sends `build()` with the session's token, and a DPoP proof when the token is DPoP-bound. */
export function sendAuthorized(build: (headers: Headers) => Request, headers: HeadersInit, session: Session, fetchFn: typeof fetch, dpop: DpopProver | null): Promise<Response> {
  const authorized = () => build(authorize(new Headers(headers), session));
  return session.tokenType === 'DPoP' && dpop ? dpop.send(fetchFn, authorized, session.accessToken) : fetchFn(authorized());
}

function send(request: Request, body: ArrayBuffer | undefined, session: Session | null, deps: ProxyDeps): Promise<Response> {
  const keepPageHeader = deps.config.existingAuthorization === 'keep' && request.headers.has('Authorization');
  if (session === null || keepPageHeader) return deps.fetch(body === undefined ? request : new Request(request, { body }));
  return sendAuthorized((headers) => new Request(request, body === undefined ? { headers } : { headers, body }), request.headers, session, deps.fetch, deps.dpop);
}

/** Sends with the current token (refreshed first when due); on a rejected token, one shared refresh and one replay. */
export async function sendWithSession(request: Request, body: ArrayBuffer | undefined, deps: ProxyDeps): Promise<Response> {
  let session = deps.engine.ready();
  if (session === undefined) session = await deps.engine.sessionForRequest();
  const response = await send(request, body, session, deps);
  if (session === null || !deps.config.isTokenRejected(response)) return response;
  const next = await deps.engine.sessionAfterRejection(session.accessToken);
  if (next === null || next.accessToken === session.accessToken) return response;
  return send(request, body, next, deps);
}

/**
 * The hot path. A fresh cached token costs no IndexedDB read and no lock. Bodies are buffered before the
 * first send because a 401 replay or the outbox needs them again (request bodies are one-shot streams).
 */
export async function proxyApiRequest(request: Request, deps: ProxyDeps, waitUntil: (work: Promise<unknown>) => void): Promise<Response> {
  const { outbox } = deps;
  const deferred = outbox?.intercept(request, waitUntil);
  if (deferred) return deferred;
  const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
  const response = await sendWithSession(request, body, deps);
  if (response.ok && outbox?.pending) waitUntil(outbox.replay()); // the network is back: deliver what waits
  return response;
}
