import type { ResolvedConfig } from './resolved-config.js';
import type { DpopProver, OutboxRuntime } from './feature-contracts.js';
import type { RefreshEngine } from './refresh-engine.js';
import type { Session } from './session.js';

/** What sending an API request with the session's token needs. */
export interface SendDeps {
  engine: Pick<RefreshEngine, 'ready' | 'sessionForRequest' | 'sessionAfterRejection'>;
  config: Pick<ResolvedConfig, 'isTokenRejected' | 'existingAuthorization'>;
  fetch: typeof fetch;
  /** Signs DPoP proofs when `dpop` is configured. */
  dpop: DpopProver | null;
}

/** The hot path's dependencies: sending, and the outbox when it is on. */
export interface ProxyDeps extends SendDeps {
  outbox: OutboxRuntime | null;
}

/** Navigations and no-cors requests never carry the token (no-cors would drop the header silently anyway). */
export function isProxiable(request: Request, isApi: (url: string) => boolean): boolean {
  return request.mode !== 'navigate' && request.mode !== 'no-cors' && isApi(request.url);
}

/**
 * Sends `build()` with the session's token, and a DPoP proof when the token is DPoP-bound. `build` makes a
 * new Request (not no-cors), whose headers can still be set: one headers copy per send, not two.
 */
export function sendAuthorized(build: () => Request, session: Session, fetchFn: typeof fetch, dpop: DpopProver | null): Promise<Response> {
  const authorized = () => {
    const request = build();
    request.headers.set('Authorization', `${session.tokenType} ${session.accessToken}`);
    return request;
  };
  return session.tokenType === 'DPoP' && dpop ? dpop.send(fetchFn, authorized, session.accessToken) : fetchFn(authorized());
}

/** The request as the page made it (its body already read into `body`). */
const sendAsIs = (request: Request, body: ArrayBuffer | undefined, deps: SendDeps) => deps.fetch(body === undefined ? request : new Request(request, { body }));

function send(request: Request, body: ArrayBuffer | undefined, session: Session, deps: SendDeps): Promise<Response> {
  return sendAuthorized(() => new Request(request, body === undefined ? undefined : { body }), session, deps.fetch, deps.dpop);
}

/**
 * Sends with the current token (an expired one is refreshed first; one inside the skew window goes out at
 * once, with a refresh behind it kept alive by `keepAlive`); on a rejected token, one shared refresh and one replay.
 */
export async function sendWithSession(request: Request, body: ArrayBuffer | undefined, deps: SendDeps, keepAlive?: (work: Promise<unknown>) => void): Promise<Response> {
  // A page-set Authorization that the config keeps is the page's own credential: ours is not sent, and a
  // 401 for it is not a reason to refresh ours.
  if (deps.config.existingAuthorization === 'keep' && request.headers.has('Authorization')) return sendAsIs(request, body, deps);
  let session = deps.engine.ready(keepAlive);
  if (session === undefined) session = await deps.engine.sessionForRequest(keepAlive);
  if (session === null) return sendAsIs(request, body, deps);
  const response = await send(request, body, session, deps);
  if (!deps.config.isTokenRejected(response)) return response;
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
  const response = await sendWithSession(request, body, deps, waitUntil);
  if (response.ok && outbox?.pending) waitUntil(outbox.replay()); // the network is back: deliver what waits
  return response;
}
