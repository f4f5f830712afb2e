/// <reference lib="webworker" />
import {
  BROADCAST_CHANNEL,
  CLAIM_MESSAGE,
  CONNECT_MESSAGE,
  type BroadcastEnvelope,
  type SessionEvent,
} from '../shared/protocol.js';
import { createApiMatcher, resolveConfig, type TokenProxyConfig } from './config.js';
import { createDbConnection } from './db.js';
import { createDpopProver, generateDpopKeys } from './dpop.js';
import { createFacade } from './facade.js';
import { isProxiable, proxyApiRequest, sendStored, type ProxyDeps } from './fetch-handler.js';
import { Outbox } from './outbox.js';
import { createIdbOutboxStore } from './outbox-store.js';
import { RefreshEngine } from './refresh-engine.js';
import { serveFacade } from './rpc.js';
import { revokeSession } from './revocation.js';
import { createIdbSessionStore, createMemorySessionStoreWithMarker, storedKey } from './session-store.js';
import { handleTokenRoute } from './token-capture.js';
import { requestRefresh } from './token-endpoint.js';

export type { ApiScope, RefreshRequestContext, RefreshRequestShape, TokenProxyConfig } from './config.js';
export { TokenProxyError } from '../shared/errors.js';
export type * from '../shared/protocol.js';

declare const self: ServiceWorkerGlobalScope;
// Background Sync is Chromium-only and not in TypeScript's lib.
interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
}
type SyncRegistration = ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } };

/** Name of the Web Lock every worker version takes around a refresh. */
const REFRESH_LOCK = 'sw-token-proxy:refresh';
/** Name of the Web Lock around an outbox replay, and the Background Sync tag. */
const OUTBOX_LOCK = 'sw-token-proxy:outbox';
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

/** `make()` once, on first use. */
function memo<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | null = null;
  return () => (made ??= make());
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
  const config = resolveConfig(userConfig, self.location.origin);
  // The OAuth endpoints never get the access token, even when they sit under an API prefix; page calls
  // to them go through handleTokenRoute instead.
  const revocation = config.revocationEndpoint === undefined ? [] : [config.revocationEndpoint];
  const tokenRoutes = [...new Set([config.tokenEndpoint, ...revocation, ...config.captureEndpoints])];
  const tokenRouteOf = (url: string) => tokenRoutes.find((route) => url === route || url.startsWith(route + '?'));
  const isApi = createApiMatcher(config.scopes, tokenRoutes);
  const fetchFn = fetch.bind(self);
  const now = () => Date.now();
  const newId = () => crypto.randomUUID();
  const online = () => navigator.onLine;
  const channel = new BroadcastChannel(BROADCAST_CHANNEL);
  const emit = (event: SessionEvent) => channel.postMessage({ source: BROADCAST_CHANNEL, event } satisfies BroadcastEnvelope);
  const db = createDbConnection();
  let outbox: Outbox | null = null;
  // Memory-only mode keeps the DPoP key in memory too: nothing of the session is stored.
  const dpopKeys = config.storage === 'memory' ? memo(generateDpopKeys) : storedKey(db, 'dpop-key', generateDpopKeys);
  const dpop = config.dpop ? createDpopProver(dpopKeys, now, newId) : null;

  const engine = new RefreshEngine({
    store: config.storage === 'memory' ? createMemorySessionStoreWithMarker(db) : createIdbSessionStore(db),
    refresh: (refreshToken) => requestRefresh(config, fetchFn, refreshToken, now, dpop ?? undefined),
    now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    withLock: originLock(REFRESH_LOCK),
    online,
    emit,
    // A session's queued writes are never sent under another one.
    onEnded: async () => outbox?.sessionEnded(),
    newId,
    skewMs: config.refreshSkewMs,
    attempts: config.refreshAttempts,
    maxRetryDelayMs: config.maxRetryDelayMs,
    dpop: config.dpop,
  });
  // Another worker version changed the session: our cache is stale. (A channel never hears its own posts.)
  const sessionChanges = new Set<SessionEvent['type']>(['logged-in', 'logged-out', 'refreshed']);
  channel.onmessage = ({ data }: MessageEvent<BroadcastEnvelope | null>) => {
    if (sessionChanges.has(data?.event?.type as SessionEvent['type'])) engine.invalidate();
  };

  if (config.outbox !== null) {
    outbox = new Outbox({
      store: createIdbOutboxStore(db),
      engine,
      send: (entry, session) => sendStored(entry, session, fetchFn, dpop),
      isTokenRejected: config.isTokenRejected,
      now,
      withLock: originLock(OUTBOX_LOCK),
      emit,
      policy: config.outbox,
    });
  }

  const facade = createFacade(engine, outbox, (session) => revokeSession(config, fetchFn, session, now), now);
  const proxyDeps: ProxyDeps = {
    engine,
    config,
    fetch: fetchFn,
    outbox,
    online,
    newId,
    dpop,
    // Background Sync (Chromium) replays even with no tab open; elsewhere the other triggers do.
    onQueued: async () => {
      await (self.registration as SyncRegistration).sync?.register(OUTBOX_LOCK).catch(() => undefined);
    },
  };
  // Worker start is a replay trigger: the first event this worker instance handles starts one — after
  // that event's own response, so the replay does not compete with the request that woke the worker.
  let startReplay = outbox !== null;
  const replayOnStart = (event: ExtendableEvent, after: Promise<unknown> = Promise.resolve()) => {
    if (!startReplay) return;
    startReplay = false;
    event.waitUntil(after.catch(() => undefined).then(() => outbox!.replay()));
  };
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
      replayOnStart(event, response);
      return;
    }
    replayOnStart(event);
    if (request.method !== 'GET' && request.mode !== 'navigate') {
      const route = tokenRouteOf(request.url);
      if (route === undefined) return;
      const onLogin = () => outbox && event.waitUntil(outbox.replay());
      const proves = route !== config.revocationEndpoint ? dpop : null;
      event.respondWith(handleTokenRoute(request, config.captureEndpoints.includes(route), { engine, fetch: fetchFn, onLogin, dpop: proves }));
    }
  });

  self.addEventListener('sync', (syncEvent) => {
    const event = syncEvent as SyncEvent;
    if (event.tag !== OUTBOX_LOCK || outbox === null) return;
    // Rejecting asks the browser to try again later, with its own backoff.
    event.waitUntil(outbox.replay().then((report) => {
      if (report.remaining > 0) throw new Error(`${report.remaining} queued write(s) still waiting`);
    }));
  });

  self.addEventListener('message', (event) => {
    // Commands come only from window clients of our own origin; anything else is ignored.
    const source = event.source;
    if (!(source instanceof WindowClient) || event.origin !== self.location.origin) return;
    replayOnStart(event);
    const data: unknown = event.data;
    const type = typeof data === 'object' && data !== null ? (data as { type?: unknown }).type : undefined;
    if (type === CONNECT_MESSAGE && event.ports[0]) {
      event.waitUntil(serveFacade(event.ports[0], facade, now, CALL_LIFETIME_MS));
    } else if (type === CLAIM_MESSAGE) {
      event.waitUntil(self.clients.claim());
    }
  });
}
