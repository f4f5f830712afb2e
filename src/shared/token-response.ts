import { TokenProxyError } from './errors.js';

/** A token response, checked and with every expiry normalised to epoch milliseconds, once. */
export interface TokenSet {
  accessToken: string;
  tokenType: 'Bearer' | 'DPoP';
  refreshToken?: string;
  /**
   * Epoch ms on this device's clock; null when unknown: the server gave no expiry (the token then counts
   * as expired, refresh on first use), or one that cannot be right on this clock (see `clockSuspect`).
   */
  expiresAt: number | null;
  /**
   * The server gave an absolute expiry that is already past on arrival: this device's clock (or the
   * server's) is wrong, and comparing them would refresh on every request. The token is used until the
   * API rejects it.
   */
  clockSuspect?: true;
  /** The access token's whole lifetime in ms when known; caps the refresh skew. */
  lifetimeMs: number | null;
  /** Epoch ms after which the refresh token is known to be dead; null when unknown. */
  refreshExpiresAt: number | null;
  scope?: string;
  /** The user (`sub` claim of the ID token or a JWT access token) when known; never a secret. */
  subject?: string;
  /** The OIDC ID token, kept (sealed, with the rest) only as the hint of an RP-initiated logout. */
  idToken?: string;
}

/** Larger than any real JWT; small enough that junk is refused before it reaches storage or a header. */
const MAX_TOKEN_LENGTH = 16 * 1024;
/** Ten years: anything longer is a unit mistake (ms sent as s) rather than a real lifetime. */
const MAX_LIFETIME_SECONDS = 10 * 365 * 24 * 3600;

// Tokens are visible ASCII only: anything else would make `Headers.set` throw, or smuggle a second header.
const HEADER_SAFE = /^[\x21-\x7e]+$/;
const ANY = /^/;
const NUMERIC = /^\d+(\.\d+)?$/;

type Raw = Record<string, unknown>;

function invalid(field: string, message: string): never {
  throw new TokenProxyError('invalid-token-response', `${field}: ${message}`, { field });
}

/** `raw[field]` when it is a string of at most MAX_TOKEN_LENGTH characters `allowed`; undefined when absent. */
function stringField(raw: Raw, field: string, allowed = HEADER_SAFE): string | undefined {
  const value = raw[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > MAX_TOKEN_LENGTH || !allowed.test(value)) {
    invalid(field, `must be a string of at most ${MAX_TOKEN_LENGTH} characters matching ${allowed}`);
  }
  return value;
}

/** `raw[field]` in seconds, as a number or a numeric string; undefined when absent. */
function secondsField(raw: Raw, field: string, max = MAX_LIFETIME_SECONDS): number | undefined {
  const value = raw[field];
  if (value === undefined || value === null) return undefined;
  const seconds = typeof value === 'number' ? value : typeof value === 'string' && NUMERIC.test(value.trim()) ? Number(value) : NaN;
  if (!(seconds >= 0 && seconds <= max)) invalid(field, `must be seconds, 0 to ${max}`);
  return seconds;
}

/** The claims of a JWT, unverified (we only read hints from our own server's answer); {} for opaque tokens or junk. */
function jwtClaims(token: unknown): { exp?: unknown; iat?: unknown; sub?: unknown } {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) return {};
  try {
    // atob decodes unpadded base64 (the forgiving-base64 of the HTML spec): only the alphabet needs mapping.
    const claims: unknown = JSON.parse(atob(parts[1]!.replace(/-/g, '+').replace(/_/g, '/')));
    return typeof claims === 'object' && claims !== null ? claims : {};
  } catch {
    return {};
  }
}

/** A numeric date claim (`exp`, `iat`) of a JWT, in epoch seconds; undefined for opaque tokens or junk. */
function jwtTime(token: unknown, claim: 'exp' | 'iat'): number | undefined {
  const value = jwtClaims(token)[claim];
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** The `exp` claim when the access token is a JWT; undefined for opaque tokens or junk. */
export const jwtExpiry = (token: string): number | undefined => jwtTime(token, 'exp');

/** Who the session is for: the `sub` claim of the ID token, else of a JWT access token. */
function subjectOf(raw: Raw): string | undefined {
  for (const token of [raw['id_token'], raw['access_token']]) {
    const { sub } = jwtClaims(token);
    if (typeof sub === 'string' && sub !== '') return sub;
  }
  return undefined;
}

/**
 * Checks a token endpoint response and normalises it. Throws `TokenProxyError('invalid-token-response')`
 * naming the field. Expiry, in order of preference: `expires_in` (counted from `countedFrom`: when the
 * refresh request left, or when a login's response reached the worker), `expires_at` (epoch seconds),
 * the JWT `exp` claim; none → null (refresh on first use). An absolute expiry is on the
 * server's clock: it is placed on ours by the server's time when the answer was made — `serverTime`
 * (its `Date` header, epoch ms) or else the token's `iat` — so a device clock hours off still refreshes
 * on time.
 */
export function parseTokenResponse(input: unknown, countedFrom: number, serverTime?: number): TokenSet {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) invalid('response', 'must be a JSON object');
  const raw = input as Raw;
  const accessToken = stringField(raw, 'access_token');
  if (accessToken === undefined) invalid('access_token', 'is missing');
  const type = raw['token_type'] ?? 'bearer';
  const lowerType = typeof type === 'string' ? type.toLowerCase() : '';
  if (lowerType !== 'bearer' && lowerType !== 'dpop') invalid('token_type', 'must be Bearer or DPoP');

  const expiresIn = secondsField(raw, 'expires_in');
  const expiresAtSeconds = secondsField(raw, 'expires_at', Number.MAX_SAFE_INTEGER / 1000);
  let lifetimeMs = expiresIn === undefined ? null : expiresIn * 1000;
  const absolute = expiresIn === undefined ? (expiresAtSeconds ?? jwtExpiry(accessToken)) : undefined;
  if (absolute !== undefined) {
    // Lifetime on the server's clock when it is known, else against ours.
    const issuedAt = jwtTime(accessToken, 'iat') ?? jwtTime(raw['id_token'], 'iat');
    lifetimeMs = absolute * 1000 - (serverTime ?? (issuedAt === undefined ? countedFrom : issuedAt * 1000));
  }
  // Keycloak sends 0 for refresh tokens that never expire: treat as unknown.
  const refreshExpiresIn = secondsField(raw, 'refresh_expires_in');
  const set: TokenSet = {
    accessToken,
    tokenType: lowerType === 'dpop' ? 'DPoP' : 'Bearer',
    expiresAt: lifetimeMs === null ? null : countedFrom + lifetimeMs,
    lifetimeMs,
    refreshExpiresAt: refreshExpiresIn ? countedFrom + refreshExpiresIn * 1000 : null,
  };
  if (absolute !== undefined && lifetimeMs! <= 0) {
    set.expiresAt = set.lifetimeMs = null;
    set.clockSuspect = true;
  }
  const optional: { [K in 'refreshToken' | 'scope' | 'subject' | 'idToken']: TokenSet[K] | undefined } = {
    refreshToken: stringField(raw, 'refresh_token'),
    scope: stringField(raw, 'scope', ANY),
    subject: subjectOf(raw),
    idToken: stringField(raw, 'id_token'),
  };
  for (const [name, value] of Object.entries(optional)) if (value !== undefined) Object.assign(set, { [name]: value });
  return set;
}
