/// <reference lib="webworker" />
import {
  appNames,
  appOf,
  BROADCAST_SOURCE,
  CLAIM_MESSAGE,
  CONNECT_MESSAGE,
  type BroadcastEnvelope,
  type SessionEvent,
} from '../shared/protocol.js';
import type { InstallOptions, TokenProxyConfig } from './config.js';
import { startFeature, type OutboxContext } from './feature-contracts.js';
import { createFacade } from './facade.js';
import { isProxiable, proxyApiRequest, sendAuthorized, sendWithSession, type ProxyDeps, type SendDeps } from './fetch-handler.js';
import { gateFetch } from './fetch-gate.js';
import { forwardTokenRequest } from './page-token-requests.js';
import { createRefreshEngine } from './refresh-engine.js';
import { requestRefresh } from './refresh-request.js';
import { resolveConfig } from './resolved-config.js';
import { revokeSession } from './revocation.js';
import { serveFacade } from './rpc.js';
import type { Session, StorageBackend } from './session.js';
import { openDatabase } from './storage/database.js';
import { persistedKeys } from './storage/key-store.js';
import { createSealedSessionStore } from './storage/sealed-session-store.js';
import { createApiMatcher, routeMatcher } from './url-matchers.js';
import { webLock } from './web-lock.js';

// The public surface, by name: everything else in this folder is internal.
export type { ApiScope, InstallOptions, RefreshRequestContext, RefreshRequestShape, TokenProxyConfig } from './config.js';
export type { CaptureFeature, DpopFeature, OutboxFeature, SignInFeature, StorageFeature, StrategiesFeature } from './feature.js';
export { captureLogins, type CaptureOptions } from './features/login-capture.js';
export { dpopProofs } from './features/dpop/dpop-proofs.js';
export { memoryStorage } from './features/memory-storage.js';
export { offlineOutbox, type OutboxOptions } from './features/outbox/offline-outbox.js';
export { oidcSignIn, type OidcSignInOptions } from './features/sign-in/oidc-sign-in.js';
export { apiStrategies, type ApiRoute, type StrategyLike } from './features/api-strategies.js';
export { TokenProxyError, type TokenProxyErrorOptions } from '../shared/errors.js';
export type { ErrorCode, ErrorInfo, TokenResponse } from '../shared/protocol.js';

declare const self: ServiceWorkerGlobalScope;

/** Longest a page's call may keep the worker alive; a call normally answers in milliseconds. */
const CALL_LIFETIME_MS = 30_000;

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
  const names = appNames(appOf(self.registration.scope, config.name));
  // (The channel itself is made once the session read is under way: see below.)
  const emit = (event: SessionEvent) => channel.postMessage({ source: BROADCAST_SOURCE, event } satisfies BroadcastEnvelope);
  const db = openDatabase(names.database);
  const keys = persistedKeys(db);
  const storage: StorageBackend = startFeature(config.storage, { db, emit, now }) ?? { sessions: createSealedSessionStore(db, keys), keys };
  const dpop = startFeature(config.dpop, { keys: storage.keys, now, newId });
  const appUrl = self.registration.scope;
  const signIn = startFeature(config.signIn, { configured: config, db, fetch: fetchFn, origin, appUrl, now, newId, dpop });
  // A public client names itself in refreshes and revocations: the sign-in's client id unless the config names one.
  const client = { ...config, clientId: config.clientId ?? signIn?.clientId };
  // Without sign-in, resolveConfig made sure a token endpoint is named.
  const tokenEndpoint = signIn ? signIn.tokenEndpoint : config.tokenEndpoint!;
  const revocationEndpoint = signIn ? signIn.revocationEndpoint : async () => config.revocationEndpoint;

  const engine = createRefreshEngine({
    store: storage.sessions,
    async refresh(refreshToken) {
      const outcome = await requestRefresh({ ...client, tokenEndpoint }, fetchFn, refreshToken, now, dpop ?? undefined);
      if (outcome.kind === 'transient') signIn?.failed(); // discovery may be stale: look it up again next time
      return outcome;
    },
    now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    withLock: webLock(names.refreshLock),
    online,
    emit,
    newId,
    skewMs: config.refreshSkewMs,
    attempts: config.refreshAttempts,
    maxRetryDelayMs: config.maxRetryDelayMs,
    dpop: dpop !== null,
  });
  // Open the database and read the session now, before the first request needs it: on a cold start the
  // fetch event that woke the worker waits for this read, so nothing else runs ahead of it. Even the
  // channel comes after (its constructor costs up to a millisecond there); nothing emits before storage answers.
  void engine.load().catch(() => undefined);
  const channel = new BroadcastChannel(names.channel);
  // The database was deleted or the site's data cleared: a session we held is gone.
  db.onCleared(() => void engine.storageCleared());
  // Another worker version said something (a channel never hears its own posts): its session may be newer
  // than our cache, so read it again on next use.
  channel.onmessage = ({ data }: MessageEvent<BroadcastEnvelope | null>) => {
    if (data?.source === BROADCAST_SOURCE) engine.invalidate();
  };

  const sender: SendDeps = { engine, config, fetch: fetchFn, dpop };
  const authorized: OutboxContext['sendAuthorized'] = (build, session) => sendAuthorized(build, session, fetchFn, dpop);
  const outbox = startFeature(config.outbox, {
    db,
    engine,
    send: (request, body) => sendWithSession(request, body, sender),
    sendAuthorized: authorized,
    isTokenRejected: config.isTokenRejected,
    now,
    newId,
    online,
    emit,
    withLock: webLock(names.outboxLock),
    syncTag: names.outboxLock,
  });
  const proxyDeps: ProxyDeps = { ...sender, outbox };
  const strategies = startFeature(config.strategies, {
    engine,
    sendAuthorized: authorized,
    isTokenRejected: config.isTokenRejected,
    dpop,
  });
  const capture = startFeature(config.capture, { tokenEndpoint: config.tokenEndpoint, origin, engine });
  // The configured OAuth endpoints never get the access token, even when they sit under an API prefix;
  // page calls to them go through forwardTokenRequest instead. (Discovered ones are the worker's own to call.)
  // (The same URL twice — capture's endpoints include the token endpoint — matches all the same.)
  const tokenRoutes = [config.tokenEndpoint, config.revocationEndpoint, ...(capture?.endpoints ?? [])].filter((url) => url !== undefined);
  const tokenRouteOf = routeMatcher(tokenRoutes);
  const isApi = createApiMatcher(config.scopes, tokenRoutes);

  const revoke = (session: Session) => revokeSession(client, revocationEndpoint, fetchFn, session, now);
  const facade = createFacade({ engine, outbox, signIn, revoke });

  // With an update flow of the app's own (a prompt that posts SKIP_WAITING), both are the app's to call.
  if (options.skipWaiting !== false) self.addEventListener('install', () => void self.skipWaiting());
  if (options.clientsClaim !== false) self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

  // Ahead of every other fetch listener of this worker, whatever the order (fetch-gate.ts): an API or
  // token request the proxy answers never reaches workbox's routes (or the app's own listeners), since
  // respondWith stops the event there.
  gateFetch((event) => {
    const { request } = event;
    if (isProxiable(request, isApi)) {
      const response = strategies?.handle(event) ?? proxyApiRequest(request, proxyDeps, (work) => event.waitUntil(work));
      event.respondWith(response);
      outbox?.wake(event, response);
      return;
    }
    outbox?.wake(event);
    // (Writes waiting for a session that a sign-in starts go out with the landing page's first API call.)
    const navigation = request.mode === 'navigate' ? signIn?.navigation(request, engine) : undefined;
    if (navigation) return event.respondWith(navigation);
    const route = request.method !== 'GET' && request.mode !== 'navigate' ? tokenRouteOf(request.url) : undefined;
    if (route === undefined) return;
    const forwarded = forwardTokenRequest(request, fetchFn, route !== config.revocationEndpoint ? dpop : null);
    const onLogin = () => outbox && event.waitUntil(outbox.replay()); // queued writes waiting for a session can go
    event.respondWith(capture?.endpoints.includes(route) ? forwarded.then((response) => capture.capture(response, onLogin)) : forwarded);
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
