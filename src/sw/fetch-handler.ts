import type { ResolvedConfig } from './config.js';
import type { RefreshEngine } from './refresh-engine.js';
import type { Session } from './session.js';

export interface ProxyDeps {
  engine: RefreshEngine;
  config: Pick<ResolvedConfig, 'isTokenRejected' | 'existingAuthorization'>;
  fetch: typeof fetch;
}

/** Navigations and no-cors requests never carry the token (no-cors would drop the header silently anyway). */
export function isProxiable(request: Request, isApi: (url: string) => boolean): boolean {
  return request.mode !== 'navigate' && request.mode !== 'no-cors' && isApi(request.url);
}

function send(request: Request, body: ArrayBuffer | undefined, session: Session | null, deps: ProxyDeps): Promise<Response> {
  const keepPageHeader = deps.config.existingAuthorization === 'keep' && request.headers.has('Authorization');
  if (session === null || keepPageHeader) return deps.fetch(body === undefined ? request : new Request(request, { body }));
  const headers = new Headers(request.headers);
  headers.set('Authorization', `${session.tokenType} ${session.accessToken}`);
  return deps.fetch(new Request(request, body === undefined ? { headers } : { headers, body }));
}

/**
 * The hot path. A fresh cached token costs no IndexedDB read and no lock. The body is buffered before the
 * first send because a 401 replay needs it again (request bodies are one-shot streams).
 */
export async function proxyApiRequest(request: Request, deps: ProxyDeps): Promise<Response> {
  const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
  let session = deps.engine.ready();
  if (session === undefined) session = await deps.engine.sessionForRequest();
  const response = await send(request, body, session, deps);
  if (session === null || !deps.config.isTokenRejected(response)) return response;
  // One refresh shared with every other rejected request, then one replay; never a second.
  const next = await deps.engine.sessionAfterRejection(session.accessToken);
  if (next === null || next.accessToken === session.accessToken) return response;
  return send(request, body, next, deps);
}
