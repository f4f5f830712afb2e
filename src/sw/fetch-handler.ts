import type { ResolvedConfig } from './config.js';
import { fetchWithProof, type DpopProver } from './dpop.js';
import type { Outbox } from './outbox.js';
import type { OutboxEntry } from './outbox-store.js';
import type { RefreshEngine } from './refresh-engine.js';
import { jsonResponse } from './responses.js';
import type { Session } from './session.js';

export interface ProxyDeps {
  engine: RefreshEngine;
  config: Pick<ResolvedConfig, 'isTokenRejected' | 'existingAuthorization' | 'outbox'>;
  fetch: typeof fetch;
  outbox: Outbox | null;
  /** False when the browser knows it is offline: writes are queued without trying the network. */
  online: () => boolean;
  newId: () => string;
  /** A write was queued (the worker asks for a Background Sync). */
  onQueued: () => Promise<void>;
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
function sendAuthorized(build: (headers: Headers) => Request, headers: HeadersInit, session: Session, fetchFn: typeof fetch, dpop: DpopProver | null): Promise<Response> {
  const authorized = () => build(authorize(new Headers(headers), session));
  return session.tokenType === 'DPoP' && dpop ? fetchWithProof(dpop, fetchFn, authorized, session.accessToken) : fetchFn(authorized());
}

function send(request: Request, body: ArrayBuffer | undefined, session: Session | null, deps: ProxyDeps): Promise<Response> {
  const keepPageHeader = deps.config.existingAuthorization === 'keep' && request.headers.has('Authorization');
  if (session === null || keepPageHeader) return deps.fetch(body === undefined ? request : new Request(request, { body }));
  return sendAuthorized((headers) => new Request(request, body === undefined ? { headers } : { headers, body }), request.headers, session, deps.fetch, deps.dpop);
}

/** Sends with the current token (refreshed first when due); on a rejected token, one shared refresh and one replay. */
async function sendWithSession(request: Request, body: ArrayBuffer | undefined, deps: ProxyDeps): Promise<Response> {
  let session = deps.engine.ready();
  if (session === undefined) session = await deps.engine.sessionForRequest();
  const response = await send(request, body, session, deps);
  if (session === null || !deps.config.isTokenRejected(response)) return response;
  const next = await deps.engine.sessionAfterRejection(session.accessToken);
  if (next === null || next.accessToken === session.accessToken) return response;
  return send(request, body, next, deps);
}

/** Sends a stored write with `session`'s token (replay from the outbox). */
export function sendStored(entry: OutboxEntry, session: Session, fetchFn: typeof fetch, dpop: DpopProver | null): Promise<Response> {
  const build = (headers: Headers) => new Request(entry.url, { method: entry.method, headers, body: entry.body, credentials: entry.credentials });
  return sendAuthorized(build, entry.headers, session, fetchFn, dpop);
}

/**
 * The hot path. A fresh cached token costs no IndexedDB read and no lock. Bodies are buffered before the
 * first send because a 401 replay or the outbox needs them again (request bodies are one-shot streams).
 */
export async function proxyApiRequest(request: Request, deps: ProxyDeps, waitUntil: (work: Promise<unknown>) => void): Promise<Response> {
  const { outbox } = deps;
  const outboxConfig = deps.config.outbox;
  if (outbox !== null && outboxConfig !== null && outboxConfig.defer(request)) return proxyWrite(request, deps, outbox, outboxConfig, waitUntil);
  const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
  const response = await sendWithSession(request, body, deps);
  if (response.ok && outbox?.pending) waitUntil(outbox.replay()); // the network is back: deliver what waits
  return response;
}

async function proxyWrite(
  request: Request,
  deps: ProxyDeps,
  outbox: Outbox,
  config: NonNullable<ProxyDeps['config']['outbox']>,
  waitUntil: (work: Promise<unknown>) => void,
): Promise<Response> {
  const body = await request.arrayBuffer();
  const headers = new Headers(request.headers);
  // Fixed before the first attempt, so a write that reached the server but lost its answer is recognisable.
  const idempotencyKey = headers.get(config.idempotencyHeader) ?? deps.newId();
  headers.set(config.idempotencyHeader, idempotencyKey);
  const write = new Request(request, { headers, body });

  if (outbox.pending) await outbox.replay(); // older writes first: order is kept
  if (deps.online() && !outbox.pending) {
    try {
      return await sendWithSession(write, body, deps);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // only network failures are deferred
    }
  }

  const id = deps.newId();
  headers.delete('Authorization');
  headers.delete('DPoP');
  const session = await deps.engine.load();
  const summary = await outbox.enqueue({
    id,
    url: request.url,
    method: request.method,
    headers: [...headers],
    body: body.byteLength > 0 ? body : null,
    credentials: request.credentials,
    idempotencyKey,
    sessionId: session?.id ?? null,
    ...(session?.subject === undefined ? {} : { subject: session.subject }),
  });
  if (summary === null) return jsonResponse(507, { error: 'outbox_full', error_description: 'the offline outbox is full; the write was not kept' });
  waitUntil(deps.onQueued());
  return jsonResponse(202, { queued: true, id }, { [config.entryHeader]: id });
}
