import { TokenProxyError } from '../shared/errors.js';
import type { TokenResponse } from '../shared/protocol.js';

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
  /** Offline outbox for writes; `false` turns it off. On by default. */
  outbox?: false | OutboxConfig;
  /**
   * Where the session lives. `'indexeddb'` (default): encrypted at rest, survives worker restarts.
   * `'memory'`: never written to storage; lost whenever the browser stops the worker (every tab then hears
   * `logged-out` with reason `worker-restarted`).
   */
  storage?: 'indexeddb' | 'memory';
  /**
   * Token-endpoint capture. When true, a login the page performs through `fetch` to the token endpoint
   * (authorization code, password, ...) is stored by the worker and answered to the page without
   * `access_token` and `refresh_token`. An object lists more login endpoints whose JSON answers are
   * token responses. Default false.
   */
  capture?: boolean | { endpoints: readonly string[] };
  /**
   * DPoP (RFC 9449): bind tokens to a key pair whose private half cannot leave the browser. The worker
   * adds a proof to the page's token requests (the login must go through `fetch` to the token endpoint,
   * so `capture: true` fits), to its refreshes and to every API call, and follows `use_dpop_nonce`.
   * Default false; a `token_type: DPoP` login is refused without it.
   */
  dpop?: boolean;
}

export interface OutboxConfig {
  /** Which API requests are kept and replayed when the network fails. Default: every method but GET and HEAD. */
  defer?: (request: Request) => boolean;
  /** Most entries kept. Default 100. */
  maxEntries?: number;
  /** Most bytes kept (bodies, URLs, headers). Default 5 MiB. */
  maxBytes?: number;
  /** Entries older than this are dropped (`replay-failed`, reason `expired`). Default 86 400 s (24 h). */
  retentionSeconds?: number;
  /** Request header carrying the idempotency key, set before the first attempt unless the page set it. Default `Idempotency-Key`. */
  idempotencyHeader?: string;
  /** Header of the 202 response naming the entry id. Default `X-Outbox-Entry`. */
  entryHeader?: string;
  /**
   * When a session ends, keep its queued writes for the same user's next session instead of dropping
   * them. "Same user" is the `sub` claim of the ID token (or of a JWT access token); writes of a session
   * whose user is unknown are dropped all the same. Default false.
   */
  keepForSameUser?: boolean;
}

export interface ResolvedOutboxConfig {
  defer: (request: Request) => boolean;
  maxEntries: number;
  maxBytes: number;
  retentionMs: number;
  idempotencyHeader: string;
  entryHeader: string;
  keepForSameUser: boolean;
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
  outbox: ResolvedOutboxConfig | null;
  storage: 'indexeddb' | 'memory';
  /** Absolute URLs whose successful JSON answers are captured as logins; empty when capture is off. */
  captureEndpoints: readonly string[];
  dpop: boolean;
}

function bad(message: string): never {
  throw new TokenProxyError('invalid-config', `sw-token-proxy config: ${message}`);
}

function positive(value: number | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) bad(`${name} must be a number ≥ ${min}`);
  return value;
}

function absoluteUrl(value: unknown, name: string, base: string): string {
  if (typeof value !== 'string' || value === '') bad(`${name} must be a URL string`);
  try {
    return new URL(value, base).href;
  } catch {
    return bad(`${name} is not a valid URL: ${value}`);
  }
}

function normaliseScope(entry: unknown, selfOrigin: string): ApiScope {
  const raw = typeof entry === 'string' ? { origin: selfOrigin, pathPrefix: entry } : entry;
  if (typeof raw !== 'object' || raw === null) bad('api entries must be path strings or { origin, pathPrefix }');
  const { origin, pathPrefix } = raw as Partial<ApiScope>;
  if (typeof origin !== 'string') bad('api entry origin must be a string');
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return bad(`api origin is not a URL: ${origin}`);
  }
  // Exactly an origin: no path, credentials, query or trailing junk that could widen or confuse the match.
  if (parsed.origin !== origin) bad(`api origin must be a bare origin like "https://api.example.com", got "${origin}"`);
  if (typeof pathPrefix !== 'string' || !pathPrefix.startsWith('/')) bad(`api pathPrefix must start with "/", got ${String(pathPrefix)}`);
  if (/[?#]/.test(pathPrefix)) bad(`api pathPrefix must not contain "?" or "#": ${pathPrefix}`);
  return { origin, pathPrefix: pathPrefix.replace(/\/+$/, '') };
}

/** Checks the config and fills in the defaults. Throws `TokenProxyError('invalid-config')`. */
export function resolveConfig(config: TokenProxyConfig, selfOrigin: string): ResolvedConfig {
  if (typeof config !== 'object' || config === null) bad('installTokenProxy needs a config object');
  if (!Array.isArray(config.api) || config.api.length === 0) bad('api must be a non-empty array');
  const shape = config.refreshRequest ?? 'form';
  if (typeof shape !== 'function' && shape !== 'form' && shape !== 'json' && shape !== 'header') {
    bad(`refreshRequest must be 'form', 'json', 'header' or a function`);
  }
  const existing = config.existingAuthorization ?? 'replace';
  if (existing !== 'replace' && existing !== 'keep') bad(`existingAuthorization must be 'replace' or 'keep'`);
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
    refreshRequest: shape,
    parseRefreshResponse: config.parseRefreshResponse ?? ((response) => response.json()),
    terminalErrors: new Set(['invalid_grant', ...(config.terminalErrors ?? [])]),
    isTokenRejected: config.isTokenRejected ?? defaultIsTokenRejected,
    existingAuthorization: existing,
    outbox: config.outbox === false ? null : resolveOutbox(config.outbox ?? {}),
    storage: resolveStorage(config.storage),
    captureEndpoints: resolveCapture(config, selfOrigin),
    dpop: config.dpop === true,
  };
}

function resolveStorage(storage: unknown): 'indexeddb' | 'memory' {
  if (storage === undefined || storage === 'indexeddb' || storage === 'memory') return storage ?? 'indexeddb';
  return bad(`storage must be 'indexeddb' or 'memory'`);
}

function resolveCapture(config: TokenProxyConfig, selfOrigin: string): string[] {
  const { capture } = config;
  if (capture === undefined || capture === false) return [];
  const token = absoluteUrl(config.tokenEndpoint, 'tokenEndpoint', selfOrigin);
  if (capture === true) return [token];
  if (typeof capture !== 'object' || capture === null || !Array.isArray(capture.endpoints)) bad('capture must be a boolean or { endpoints: string[] }');
  return [token, ...capture.endpoints.map((url, i) => absoluteUrl(url, `capture.endpoints[${i}]`, selfOrigin))];
}

const isWrite = (request: Request) => request.method !== 'GET' && request.method !== 'HEAD';

function resolveOutbox(outbox: OutboxConfig): ResolvedOutboxConfig {
  if (outbox.defer !== undefined && typeof outbox.defer !== 'function') bad('outbox.defer must be a function');
  return {
    defer: outbox.defer ?? isWrite,
    maxEntries: positive(outbox.maxEntries, 'outbox.maxEntries', 100, 1),
    maxBytes: positive(outbox.maxBytes, 'outbox.maxBytes', 5 * 1024 * 1024, 1),
    retentionMs: positive(outbox.retentionSeconds, 'outbox.retentionSeconds', 86_400, 1) * 1000,
    idempotencyHeader: outbox.idempotencyHeader ?? 'Idempotency-Key',
    entryHeader: outbox.entryHeader ?? 'X-Outbox-Entry',
    keepForSameUser: outbox.keepForSameUser === true,
  };
}

/** RFC 6750 §3.1: `invalid_token` means refresh and retry; a bare 401 is treated the same. */
export function defaultIsTokenRejected(response: Response): boolean {
  if (response.status !== 401) return false;
  const challenge = response.headers.get('WWW-Authenticate');
  return challenge === null || /\binvalid_token\b/.test(challenge);
}

/**
 * Builds the allow-list test. Matching is on the serialised URL string: `base` is origin + prefix, and the
 * character after it must end a path segment. A URL with credentials, another port or a look-alike host
 * never starts with a configured origin followed by such a character.
 */
export function createApiMatcher(scopes: readonly ApiScope[], excluded: readonly string[] = []): (url: string) => boolean {
  const bases = scopes.map((scope) => scope.origin + scope.pathPrefix);
  const isExcluded = (url: string) => excluded.some((skip) => url === skip || url.startsWith(skip + '?'));
  return (url) => {
    for (const base of bases) {
      if (!url.startsWith(base)) continue;
      const next = url.charCodeAt(base.length);
      // end, '/', '?', '#'; the exclusions are checked only for a URL that matched (the hot path is every request)
      if (Number.isNaN(next) || next === 47 || next === 63 || next === 35) return !isExcluded(url);
    }
    return false;
  };
}
