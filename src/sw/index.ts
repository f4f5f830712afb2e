/// <reference lib="webworker" />
import {
  BROADCAST_CHANNEL,
  CLAIM_MESSAGE,
  CONNECT_MESSAGE,
  type BroadcastEnvelope,
  type SessionEvent,
} from '../shared/protocol.js';
import { createApiMatcher, resolveConfig, routeMatcher, type TokenProxyConfig } from './config.js';
import { createDbConnection } from './db.js';
import { createFacade } from './facade.js';
import { isProxiable, proxyApiRequest, sendAuthorized, sendWithSession, type ProxyDeps } from './fetch-handler.js';
import { createRefreshEngine } from './refresh-engine.js';
import { serveFacade } from './rpc.js';
import { revokeSession } from './revocation.js';
import type { SessionStorage } from './session.js';
import { createIdbSessionStore, storedKey } from './session-store.js';
import { forwardTokenRequest } from './token-route.js';
import { requestRefresh } from './token-endpoint.js';

export type { ApiScope, RefreshRequestContext, RefreshRequestShape, TokenProxyConfig } from './config.js';
export { dpopProofs, type DpopFeature } from './dpop.js';
export { captureLogins, type CaptureFeature, type CaptureOptions } from './login-capture.js';
export { memoryStorage, type StorageFeature } from './memory-storage.js';
export { offlineOutbox, type OutboxFeature, type OutboxOptions } from './offline-outbox.js';
export { TokenProxyError } from '../shared/errors.js';
export type * from '../shared/protocol.js';

declare const self: ServiceWorkerGlobalScope;

/** Name of the Web Lock every worker version takes around a refresh. */
const REFRESH_LOCK = 'sw-token-proxy:refresh';
/** Longest a page's call may keep the worker alive; a call normally answers in milliseconds. */
const CALL_LIFETIME_MS = 30_000;

/**
 * A Web Lock shared by every worker version and page of the origin. Where Web Locks are missing (Safari
 * before 15.4) each worker still runs one flight at a time; only two versions side by side during an
 * update are then not coordinated.
 */
function originLock(name: string): <T>(task: () => Promise<T>) => Promise<T> {
  return (task) => ('locks' in navigator ? navigator.locks.request(name, task) : task());
}

export interface InstallOptions {
  /** Call `skipWaiting()` on install so a new version takes over at once. Default true. */
  skipWaiting?: boolean;
}

/**
 * Installs the token proxy's event handlers in this service worker. Call it once, at the top level of
 * the worker script (handlers must be added during the script's first evaluation).
 * Throws `TokenProxyError('invalid-config')` for a bad config, so a broken deployment fails loudly.
 */
export function installTokenProxy(userConfig: TokenProxyConfig, options: InstallOptions = {}): void {
  const origin = self.location.origin;
  const config = resolveConfig(userConfig, origin);
  const fetchFn = fetch.bind(self);
  const now = () => Date.now();
  const newId = () => crypto.randomUUID();
  const online = () => navigator.onLine;
  const channel = new BroadcastChannel(BROADCAST_CHANNEL);
  const emit = (event: SessionEvent) => channel.postMessage({ source: BROADCAST_CHANNEL, event } satisfies BroadcastEnvelope);
  const db = createDbConnection();
  const storage: SessionStorage = config.storage?.start({ db }) ?? { store: createIdbSessionStore(db), keys: (record, make) => storedKey(db, record, make) };
  const dpop = config.dpop?.start({ keys: storage.keys, now, newId }) ?? null;

  const engine = createRefreshEngine({
    store: storage.store,
    refresh: (refreshToken) => requestRefresh(config, fetchFn, refreshToken, now, dpop ?? undefined),
    now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    withLock: originLock(REFRESH_LOCK),
    online,
    emit,
    // A session's queued writes are never sent under another one. (`outbox` is set below, before any
    // event can end a session.)
    onEnded: async () => outbox?.sessionEnded(),
    newId,
    skewMs: config.refreshSkewMs,
    attempts: config.refreshAttempts,
    maxRetryDelayMs: config.maxRetryDelayMs,
    dpop: dpop !== null,
  });
  // Another worker version changed the session: our cache is stale. (A channel never hears its own posts.)
  const sessionChanges: readonly unknown[] = ['logged-in', 'logged-out', 'refreshed'] satisfies Array<SessionEvent['type']>;
  channel.onmessage = ({ data }: MessageEvent<BroadcastEnvelope | null>) => {
    if (sessionChanges.includes(data?.event?.type)) engine.invalidate();
  };

  const outbox =
    config.outbox?.start({
      db,
      engine,
      send: (request, body) => sendWithSession(request, body, proxyDeps),
      sendAuthorized: (build, headers, session) => sendAuthorized(build, headers, session, fetchFn, dpop),
      isTokenRejected: config.isTokenRejected,
      now,
      newId,
      online,
      emit,
      lock: originLock,
    }) ?? null;
  const proxyDeps: ProxyDeps = { engine, config, fetch: fetchFn, outbox, dpop };
  const capture = config.capture?.start({ tokenEndpoint: config.tokenEndpoint, origin, engine }) ?? null;
  // The OAuth endpoints never get the access token, even when they sit under an API prefix; page calls
  // to them go through forwardTokenRequest instead.
  const revocation = config.revocationEndpoint === undefined ? [] : [config.revocationEndpoint];
  const tokenRoutes = [...new Set([config.tokenEndpoint, ...revocation, ...(capture?.endpoints ?? [])])];
  const tokenRouteOf = routeMatcher(tokenRoutes);
  const isApi = createApiMatcher(config.scopes, tokenRoutes);

  const facade = createFacade(engine, outbox, (session) => revokeSession(config, fetchFn, session, now), now);
  // Open the database and read the session while the script starts, before the first request needs it.
  void engine.load().catch(() => undefined);

  self.addEventListener('install', () => {
    if (options.skipWaiting !== false) void self.skipWaiting();
  });
  self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

  self.addEventListener('fetch', (event) => {
    const { request } = event;
    if (isProxiable(request, isApi)) {
      const response = proxyApiRequest(request, proxyDeps, (work) => event.waitUntil(work));
      event.respondWith(response);
      outbox?.wake(event, response);
      return;
    }
    const route = request.method !== 'GET' && request.mode !== 'navigate' ? tokenRouteOf(request.url) : undefined;
    if (route !== undefined) {
      const forwarded = forwardTokenRequest(request, fetchFn, route !== config.revocationEndpoint ? dpop : null);
      const onLogin = () => outbox && event.waitUntil(outbox.replay()); // queued writes waiting for a session can go
      event.respondWith(capture?.endpoints.includes(route) ? forwarded.then((response) => capture.capture(response, onLogin)) : forwarded);
    }
    outbox?.wake(event);
  });

  self.addEventListener('message', (event) => {
    // Commands come only from window clients of our own origin; anything else is ignored.
    const source = event.source;
    if (!(source instanceof WindowClient) || event.origin !== origin) return;
    outbox?.wake(event);
    const data: unknown = event.data;
    const type = typeof data === 'object' && data !== null ? (data as { type?: unknown }).type : undefined;
    if (type === CONNECT_MESSAGE && event.ports[0]) {
      event.waitUntil(serveFacade(event.ports[0], facade, now, CALL_LIFETIME_MS));
    } else if (type === CLAIM_MESSAGE) {
      event.waitUntil(self.clients.claim());
    }
  });
}
