import type { OutboxEntrySummary, ReplayReport, SessionEvent } from '../shared/protocol.js';
import type { Feature } from './feature.js';
import type { RefreshEngine } from './refresh-engine.js';
import type { KeyStore, Session, StorageBackend } from './session.js';
import type { Database } from './storage/database.js';

/*
 * What the core hands each optional feature when it starts (its context), and what the core then uses of
 * it (its runtime). The core depends on these contracts only, never on a feature's module, so a worker
 * that does not import a feature does not ship it.
 */

/** `memoryStorage()`: where sessions and keys live instead of IndexedDB. */
export interface StorageContext {
  db: Database;
  /** Memory-only storage tells every tab when a restart lost the session. */
  emit: (event: SessionEvent) => void;
  now: () => number;
}

/** `dpopProofs()`: proofs of possession for the key pair kept by `keys`. */
export interface DpopContext {
  keys: KeyStore;
  now: () => number;
  newId: () => string;
}

export interface DpopProver {
  /** The `DPoP` header value for one request; `accessToken` adds the `ath` claim (resource requests). */
  proof(method: string, url: string, accessToken?: string): Promise<string>;
  /**
   * Sends `build()`'s request with a proof (`accessToken` for resource requests), and once more with a
   * fresh proof when the server answers that it wants a new nonce.
   */
  send(fetchFn: typeof fetch, build: () => Request, accessToken?: string): Promise<Response>;
  /** The key pair itself (its private half non-extractable), for a flow that makes its own proofs (sign-in's code exchange). */
  keyPair(): Promise<CryptoKeyPair>;
}

/** `captureLogins()`: the page's own token requests, whose answers become the session. */
export interface CaptureContext {
  /** The configured token endpoint; undefined when it comes from sign-in's discovery. */
  tokenEndpoint: string | undefined;
  origin: string;
  engine: Pick<RefreshEngine, 'login'>;
}

export interface LoginCapture {
  /** Absolute URLs whose successful answers are captured: the token endpoint first. */
  endpoints: readonly string[];
  /** Stores the login in `response` and answers the page without its tokens; `onLogin` runs once stored. */
  capture(response: Response, onLogin: () => void): Promise<Response>;
}

/** `offlineOutbox()`: API writes kept while the network is away. */
export interface OutboxContext {
  db: Database;
  engine: Pick<RefreshEngine, 'load' | 'sessionForRequest' | 'sessionAfterRejection' | 'onEnded'>;
  /** Sends an API request with the current token, refreshing and replaying once on a rejected token. */
  send: (request: Request, body: ArrayBuffer) => Promise<Response>;
  /** Sends `build()`, a new Request, with `session`'s token (and a DPoP proof for a DPoP-bound token). */
  sendAuthorized: (build: () => Request, session: Session) => Promise<Response>;
  isTokenRejected: (response: Response) => boolean;
  now: () => number;
  newId: () => string;
  /** False when the browser knows it is offline: writes are then queued without trying the network. */
  online: () => boolean;
  emit: (event: SessionEvent) => void;
  /** Runs `task` holding the app's outbox lock (one replay at a time across worker versions). */
  withLock: <T>(task: () => Promise<T>) => Promise<T>;
  /** The Background Sync tag of this app. */
  syncTag: string;
}

export interface OutboxRuntime {
  /** False only when a replay found nothing waiting and nothing was queued since. */
  readonly pending: boolean;
  /**
   * Any event woke the worker: the first one of this worker instance starts a replay — after `after` (the
   * event's own response), so the replay does not compete with the request that woke the worker.
   */
  wake(event: ExtendableEvent, after?: Promise<unknown>): void;
  /** Handles an API request the outbox defers (sent now, or kept: 202); undefined for any other. */
  intercept(request: Request, waitUntil: (work: Promise<unknown>) => void): Promise<Response> | undefined;
  replay(): Promise<ReplayReport>;
  list(): Promise<OutboxEntrySummary[]>;
}

/** `oidcSignIn()`: the authorization code flow, run by the worker. */
export interface SignInContext {
  /** The endpoints the config names: they win over discovery's. */
  configured: { tokenEndpoint: string | undefined; revocationEndpoint: string | undefined };
  db: Database;
  fetch: typeof fetch;
  origin: string;
  /** The app's root (the registration scope): where a callback that belongs to no sign-in lands. */
  appUrl: string;
  now: () => number;
  newId: () => string;
  dpop: DpopProver | null;
}

/** Where a completed sign-in goes: the session's owner. (Given per call: the engine is made after sign-in, which
 * names its token endpoint.) */
export type SignInSession = Pick<RefreshEngine, 'login' | 'report'>;

export interface SignInRuntime {
  /** The client id at the provider: refreshes and revocations name it too. */
  clientId: string;
  /** The configured token endpoint, else discovery's. */
  tokenEndpoint(): Promise<string>;
  /** The configured revocation endpoint, else discovery's (undefined when the provider has none). */
  revocationEndpoint(): Promise<string | undefined>;
  /** A request to the provider failed: fetch discovery again on next use. */
  failed(): void;
  /** The page's `signIn(options)`: keeps a new sign-in and answers the authorization URL. */
  start(options: unknown): Promise<string>;
  /** A navigation to the redirect URI (the callback, or our hop to the provider's logout); undefined for any other request. */
  navigation(request: Request, session: SignInSession): Promise<Response> | undefined;
  /** A page loaded the callback without the worker seeing it: completes it; where to go, or null when `url` is no callback. */
  complete(url: string, session: SignInSession): Promise<string | null>;
  /** Where the page goes to end the session at the provider (through our hop), or undefined when it has no end-session endpoint. */
  endSession(idToken: string | undefined): Promise<string | undefined>;
}

/** `apiStrategies()`: workbox strategies on API routes, with the session's token. */
export interface StrategiesContext {
  engine: Pick<RefreshEngine, 'ready' | 'sessionForRequest' | 'sessionAfterRejection' | 'onEnded'>;
  sendAuthorized: OutboxContext['sendAuthorized'];
  isTokenRejected: (response: Response) => boolean;
  dpop: DpopProver | null;
}

export interface StrategiesRuntime {
  /** Answers an API request with the strategy of the first route that matches it; undefined when none does. */
  handle(event: FetchEvent): Promise<Response> | undefined;
}

interface Contracts {
  storage: [StorageContext, StorageBackend];
  dpop: [DpopContext, DpopProver];
  capture: [CaptureContext, LoginCapture];
  outbox: [OutboxContext, OutboxRuntime];
  signIn: [SignInContext, SignInRuntime];
  strategies: [StrategiesContext, StrategiesRuntime];
}
type Name = keyof Contracts;
type Startable<N extends Name> = Feature<N> & { start(context: Contracts[N][0]): Contracts[N][1] };

/** A feature's value, as its function returns it. */
export function defineFeature<N extends Name>(feature: N, start: (context: Contracts[N][0]) => Contracts[N][1]): Feature<N> {
  const made: Startable<N> = { feature, start };
  return made;
}

/** Starts a configured feature; null when it is off. */
export function startFeature<N extends Name>(feature: Feature<N> | null, context: Contracts[N][0]): Contracts[N][1] | null {
  // Every Feature the resolved config holds was checked to carry a start function (config.ts).
  return feature === null ? null : (feature as Startable<N>).start(context);
}
