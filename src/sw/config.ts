import type { TokenResponse } from '../shared/protocol.js';
import type { CaptureFeature, DpopFeature, OutboxFeature, SignInFeature, StorageFeature, StrategiesFeature } from './feature.js';

/*
 * The worker's configuration as users write it: types only, so the public declarations stop here.
 * resolved-config.ts checks it and fills in the defaults.
 */

/** An API the token may be sent to: an exact origin and a path prefix matched on segment boundaries. */
export interface ApiScope {
  /** e.g. `https://api.example.com` — compared exactly, never as a prefix or pattern. */
  origin: string;
  /** e.g. `/v1` matches `/v1` and `/v1/...`, never `/v1beta`. */
  pathPrefix: string;
}

/** How the refresh request carries the refresh token. */
export type RefreshRequestShape =
  /** RFC 6749 §6: `application/x-www-form-urlencoded` body (`client_id` when configured). The default. */
  | 'form'
  /** The same fields as a JSON body. */
  | 'json'
  /** `Authorization: Bearer <refresh token>`, with `grant_type=refresh_token` (and `client_id`) as a form body. */
  | 'header';

/** What a `refreshRequest` function is given besides the refresh token. */
export interface RefreshRequestContext {
  tokenEndpoint: string;
  clientId: string | undefined;
}

export interface TokenProxyConfig {
  /**
   * Which app this worker serves: its database, locks and events are named after it, so apps under their
   * own scopes on one origin never share a session. Default: the registration scope's path (`/shop/`).
   * Set it only to rename; pages then pass the same `name` to `registerTokenProxy`.
   */
  name?: string;
  /** Where the access token goes: same-origin path prefixes (`'/api'`) or `{ origin, pathPrefix }`. Required. */
  api: ReadonlyArray<string | ApiScope>;
  /** The token endpoint URL (absolute, or relative to the worker's origin). Required, unless `signIn`'s discovery names it. */
  tokenEndpoint?: string;
  /** Sent as `client_id` in refresh requests when set. */
  clientId?: string;
  /** RFC 7009 revocation endpoint; when set (or named by `signIn`'s discovery), `logout()` revokes the refresh token once the session is cleared. */
  revocationEndpoint?: string;
  /** Refresh this many seconds before expiry; capped at half the token's lifetime. Default 60. */
  refreshSkewSeconds?: number;
  /** Abort a refresh request after this long (counts as a passing failure). Default 10 000 ms. */
  refreshTimeoutMs?: number;
  /** Attempts per refresh on passing failures (5xx, 429, timeout, network). Default 3. */
  refreshAttempts?: number;
  /** Longest wait between two attempts, `Retry-After` included; a longer `Retry-After` ends the attempt. Default 10 000 ms. */
  maxRetryDelayMs?: number;
  /** Refresh request shape, or a function building the request. Default `'form'`. */
  refreshRequest?: RefreshRequestShape | ((refreshToken: string, context: RefreshRequestContext) => Request | Promise<Request>);
  /** Reads a successful (2xx) refresh response into token JSON. Default: `response.json()`. */
  parseRefreshResponse?: (response: Response) => Promise<TokenResponse>;
  /** OAuth error codes that end the session (besides `invalid_grant`, always terminal). Default none. */
  terminalErrors?: readonly string[];
  /** Whether an API response means "this access token is no longer accepted". Default: 401 whose
   * `WWW-Authenticate` names `invalid_token`, or has no `WWW-Authenticate` at all. Never 403. */
  isTokenRejected?: (response: Response) => boolean;
  /** A page-set `Authorization` header on a matching request: `'replace'` it (default) or `'keep'` it. */
  existingAuthorization?: 'replace' | 'keep';
  /**
   * The offline outbox: `offlineOutbox(options)`. API writes that fail for want of network are kept and
   * replayed later with a fresh token. Off by default: a page must be ready for a `202 { queued: true }`.
   */
  outbox?: OutboxFeature | false;
  /** Where the session lives. Default: IndexedDB, AES-GCM encrypted at rest, surviving worker restarts.
   * `memoryStorage()`: never written to storage; lost whenever the browser stops the worker. */
  storage?: StorageFeature | false;
  /** Token-endpoint capture: `captureLogins(options)`. Logins the page makes through `fetch` to the token
   * endpoint are stored by the worker and answered without their tokens. Off by default. */
  capture?: CaptureFeature | false;
  /** DPoP (RFC 9449): `dpopProofs()`. Tokens bound to a key pair whose private half cannot leave the
   * browser. Off by default; a `token_type: DPoP` login is refused without it. */
  dpop?: DpopFeature | false;
  /** workbox strategies on API routes (caching with tokens): `apiStrategies(routes)`. Off by default. */
  strategies?: StrategiesFeature | false;
  /** Sign-in run by the worker: `oidcSignIn(options)` (OIDC authorization code + PKCE, with discovery). Off by default. */
  signIn?: SignInFeature | false;
}

export interface InstallOptions {
  /**
   * Call `skipWaiting()` on install, so a new version takes over at once (the refresh lock keeps the old
   * and the new one from refreshing twice). Default true. `false` when the app has an update flow of its
   * own (a prompt to reload, vite-plugin-pwa's `registerType: 'prompt'`): the proxy then never skips waiting.
   */
  skipWaiting?: boolean;
  /** Call `clients.claim()` on activate, so pages loaded before the worker are controlled at once. Default true. */
  clientsClaim?: boolean;
}
