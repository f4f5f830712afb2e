import type { ApiScope, RefreshRequestShape, TokenProxyConfig } from './config.js';
import { absoluteUrl, invalidConfig, positive, type CaptureFeature, type DpopFeature, type Feature, type OutboxFeature, type SignInFeature, type StorageFeature, type StrategiesFeature } from './feature.js';
import type { RefreshEndpoint } from './refresh-request.js';

/** The options that take an optional feature: those whose value is a Feature of the same name. */
type FeatureOption = { [K in keyof TokenProxyConfig]-?: NonNullable<TokenProxyConfig[K]> extends Feature<K> | false ? K : never }[keyof TokenProxyConfig];

/** The config checked, with every default filled in. */
export interface ResolvedConfig extends RefreshEndpoint {
  name: string | undefined;
  /** Undefined only with `signIn`: discovery names it. */
  tokenEndpoint: string | undefined;
  scopes: readonly ApiScope[];
  revocationEndpoint: string | undefined;
  refreshSkewMs: number;
  refreshAttempts: number;
  maxRetryDelayMs: number;
  isTokenRejected: (response: Response) => boolean;
  existingAuthorization: 'replace' | 'keep';
  outbox: OutboxFeature | null;
  storage: StorageFeature | null;
  capture: CaptureFeature | null;
  dpop: DpopFeature | null;
  signIn: SignInFeature | null;
  strategies: StrategiesFeature | null;
}

/** `value` when it is one of `allowed` (the first is the default), else an invalid-config error. */
function oneOf<T extends string>(value: T | undefined, name: string, allowed: readonly T[]): T {
  if (value === undefined) return allowed[0]!;
  if (!allowed.includes(value)) invalidConfig(name, `must be one of ${allowed.join(', ')}`);
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
  // Exactly an origin, and a path with no query or fragment: nothing that could widen or confuse the match.
  if (!parsed || parsed !== origin || typeof pathPrefix !== 'string' || !/^\/[^?#]*$/.test(pathPrefix)) {
    invalidConfig('api', `entries are '/path' or { origin, pathPrefix }, got ${JSON.stringify(entry)}`);
  }
  return { origin: parsed, pathPrefix: pathPrefix.replace(/\/+$/, '') };
}

/** Checks the config and fills in the defaults. Throws `TokenProxyError('invalid-config')`. */
export function resolveConfig(config: TokenProxyConfig, selfOrigin: string): ResolvedConfig {
  if (typeof config !== 'object' || config === null) invalidConfig('config', 'must be an object');
  if (!Array.isArray(config.api) || config.api.length === 0) invalidConfig('api', 'must be a non-empty array');
  const { refreshRequest } = config;
  if (config.name !== undefined && (typeof config.name !== 'string' || config.name === '')) invalidConfig('name', 'must be a non-empty string');
  return {
    name: config.name,
    scopes: config.api.map((entry) => normaliseScope(entry, selfOrigin)),
    tokenEndpoint: config.tokenEndpoint === undefined && config.signIn ? undefined : absoluteUrl(config.tokenEndpoint, 'tokenEndpoint', selfOrigin),
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
    storage: feature(config, 'storage'),
    outbox: feature(config, 'outbox'),
    capture: feature(config, 'capture'),
    dpop: feature(config, 'dpop'),
    signIn: feature(config, 'signIn'),
    strategies: feature(config, 'strategies'),
  };
}

/**
 * An optional feature is off when left out (or false/null), else it must be what its function made: a
 * leftover `true`, options object or string from an earlier version, or the function itself uncalled,
 * fails loudly rather than leaving the feature half installed.
 */
function feature<N extends FeatureOption>(config: TokenProxyConfig, name: N): Feature<N> | null {
  // (What FeatureOption says of config[name], which TypeScript cannot follow through a generic key.)
  const value = config[name] as Feature<N> | false | null | undefined;
  if (value === undefined || value === null || value === false) return null;
  const made = value as Partial<Feature<N>> & { start?: unknown };
  if (made.feature !== name || typeof made.start !== 'function') invalidConfig(name, 'must be made by its function in sw-token-proxy/sw, or left out');
  return value;
}

/** RFC 6750 §3.1: `invalid_token` means refresh and retry; a bare 401 is treated the same. */
export function defaultIsTokenRejected(response: Response): boolean {
  if (response.status !== 401) return false;
  const challenge = response.headers.get('WWW-Authenticate');
  return challenge === null || /\binvalid_token\b/.test(challenge);
}
