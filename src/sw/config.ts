import { TokenProxyError } from '../shared/errors.js';
import type { TokenResponse } from '../shared/protocol.js';
import type { DpopFeature } from './dpop.js';
import type { CaptureFeature } from './login-capture.js';
import type { StorageFeature } from './memory-storage.js';
import type { OutboxFeature } from './offline-outbox.js';

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

export interface RefreshRequestContext {
  tokenEndpoint: string;
  clientId: string | undefined;
}

export interface TokenProxyConfig {
  /** Where the access token goes: same-origin path prefixes (`'/api'`) or `{ origin, pathPrefix }`. Required. */
  api: ReadonlyArray<string | ApiScope>;
  /** The token endpoint URL (absolute, or relative to the worker's origin). Required. */
  tokenEndpoint: string;
  /** Sent as `client_id` in refresh requests when set. */
  clientId?: string;
  /** RFC 7009 revocation endpoint; when set, `logout()` revokes the refresh token first. */
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
}

/**
 * An optional feature: made by its function (`offlineOutbox()`, ...) and started by `installTokenProxy`
 * with what it needs. `feature` names it, so a value that is not one is refused at install.
 */
export interface Feature<Name extends string, Context, Runtime> {
  readonly feature: Name;
  start(context: Context): Runtime;
}

export interface ResolvedConfig {
  scopes: readonly ApiScope[];
  tokenEndpoint: string;
  clientId: string | undefined;
  revocationEndpoint: string | undefined;
  refreshSkewMs: number;
  refreshTimeoutMs: number;
  refreshAttempts: number;
  maxRetryDelayMs: number;
  refreshRequest: NonNullable<TokenProxyConfig['refreshRequest']>;
  parseRefreshResponse: (response: Response) => Promise<unknown>;
  terminalErrors: ReadonlySet<string>;
  isTokenRejected: (response: Response) => boolean;
  existingAuthorization: 'replace' | 'keep';
  outbox: OutboxFeature | null;
  storage: StorageFeature | null;
  capture: CaptureFeature | null;
  dpop: DpopFeature | null;
}

export function invalidConfig(message: string): never {
  throw new TokenProxyError('invalid-config', `sw-token-proxy config: ${message}`);
}

export function positive(value: number | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!(typeof value === 'number' && value >= min && value < Infinity)) invalidConfig(`${name} must be a number ≥ ${min}`);
  return value;
}

export function absoluteUrl(value: unknown, name: string, base: string): string {
  try {
    if (typeof value === 'string' && value !== '') return new URL(value, base).href;
  } catch {
    // refused below
  }
  return invalidConfig(`${name} must be a URL, got ${String(value)}`);
}

/** `value` when it is one of `allowed` (the first is the default), else an invalid-config error. */
function oneOf<T extends string>(value: T | undefined, name: string, allowed: readonly T[]): T {
  if (value === undefined) return allowed[0]!;
  if (!allowed.includes(value)) invalidConfig(`${name} must be one of ${allowed.join(', ')}`);
  return value;
}

function normaliseScope(entry: unknown, selfOrigin: string): ApiScope {
  const { origin, pathPrefix } = (typeof entry === 'string' ? { origin: selfOrigin, pathPrefix: entry } : (entry ?? {})) as Partial<ApiScope>;
  let parsed: string | undefined;
  try {
    parsed = new URL(origin!).origin;
  } catch {
    // refused below
  }
  // Exactly an origin: no path, credentials, query or trailing junk that could widen or confuse the match.
  if (!parsed || parsed !== origin) invalidConfig(`api origin must be like https://host:port, got ${String(origin)}`);
  if (typeof pathPrefix !== 'string' || !/^\/[^?#]*$/.test(pathPrefix)) invalidConfig(`api path must start with / and have no ? or #, got ${String(pathPrefix)}`);
  return { origin: parsed, pathPrefix: pathPrefix.replace(/\/+$/, '') };
}

/** Checks the config and fills in the defaults. Throws `TokenProxyError('invalid-config')`. */
export function resolveConfig(config: TokenProxyConfig, selfOrigin: string): ResolvedConfig {
  if (!Array.isArray(config?.api) || config.api.length === 0) invalidConfig('api must be a non-empty array');
  const { refreshRequest } = config;
  return {
    scopes: config.api.map((entry) => normaliseScope(entry, selfOrigin)),
    tokenEndpoint: absoluteUrl(config.tokenEndpoint, 'tokenEndpoint', selfOrigin),
    clientId: config.clientId,
    revocationEndpoint:
      config.revocationEndpoint === undefined ? undefined : absoluteUrl(config.revocationEndpoint, 'revocationEndpoint', selfOrigin),
    refreshSkewMs: positive(config.refreshSkewSeconds, 'refreshSkewSeconds', 60) * 1000,
    refreshTimeoutMs: positive(config.refreshTimeoutMs, 'refreshTimeoutMs', 10_000, 1),
    refreshAttempts: Math.floor(positive(config.refreshAttempts, 'refreshAttempts', 3, 1)),
    maxRetryDelayMs: positive(config.maxRetryDelayMs, 'maxRetryDelayMs', 10_000),
    refreshRequest: typeof refreshRequest === 'function' ? refreshRequest : oneOf<RefreshRequestShape>(refreshRequest, 'refreshRequest', ['form', 'json', 'header']),
    parseRefreshResponse: config.parseRefreshResponse ?? ((response) => response.json()),
    terminalErrors: new Set(['invalid_grant', ...(config.terminalErrors ?? [])]),
    isTokenRejected: config.isTokenRejected ?? defaultIsTokenRejected,
    existingAuthorization: oneOf(config.existingAuthorization, 'existingAuthorization', ['replace', 'keep']),
    storage: feature(config.storage, 'storage', 'memoryStorage()'),
    outbox: feature(config.outbox, 'outbox', 'offlineOutbox(options)'),
    capture: feature(config.capture, 'capture', 'captureLogins(options)'),
    dpop: feature(config.dpop, 'dpop', 'dpopProofs()'),
  };
}

/**
 * An optional feature is off when left out (or false/null), else it must be what its function made: a
 * leftover `true`, options object or string from an earlier version, or the function itself uncalled,
 * fails loudly rather than leaving the feature half installed.
 */
function feature<F extends Feature<string, never, unknown>>(value: F | false | null | undefined, name: F['feature'], factory: string): F | null {
  if (value === undefined || value === null || value === false) return null;
  if ((value as Partial<F>).feature !== name) invalidConfig(`${name} must be ${factory} from sw-token-proxy/sw, or left out`);
  return value;
}

/** RFC 6750 §3.1: `invalid_token` means refresh and retry; a bare 401 is treated the same. */
export function defaultIsTokenRejected(response: Response): boolean {
  if (response.status !== 401) return false;
  const challenge = response.headers.get('WWW-Authenticate');
  return challenge === null || /\binvalid_token\b/.test(challenge);
}

/** Which of `routes` (absolute URLs) `url` is, ignoring a query string. */
export function routeMatcher(routes: readonly string[]): (url: string) => string | undefined {
  return (url) => routes.find((route) => url === route || url.startsWith(route + '?'));
}

/**
 * Builds the allow-list test. Matching is on the serialised URL string: `base` is origin + prefix, and the
 * character after it must end a path segment. A URL with credentials, another port or a look-alike host
 * never starts with a configured origin followed by such a character.
 */
export function createApiMatcher(scopes: readonly ApiScope[], excluded: readonly string[] = []): (url: string) => boolean {
  const bases = scopes.map((scope) => scope.origin + scope.pathPrefix);
  const excludedRoute = routeMatcher(excluded);
  return (url) => {
    for (const base of bases) {
      if (!url.startsWith(base)) continue;
      const next = url.charCodeAt(base.length);
      // end, '/', '?', '#'; the exclusions are checked only for a URL that matched (the hot path is every request)
      if (Number.isNaN(next) || next === 47 || next === 63 || next === 35) return excludedRoute(url) === undefined;
    }
    return false;
  };
}
