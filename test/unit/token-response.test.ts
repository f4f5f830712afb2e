import { describe, expect, it } from 'vitest';
import { jwtExpiry, parseTokenResponse } from '../../src/shared/token-response.js';

const NOW = 1_700_000_000_000;
const jwt = (claims: object) =>
  ['eyJhbGciOiJub25lIn0', Buffer.from(JSON.stringify(claims)).toString('base64url'), 'sig'].join('.');

describe('expiry is normalised once, at receipt', () => {
  it.each([
    ['expires_in as a number', { expires_in: 3600 }, NOW + 3_600_000, 3_600_000],
    ['expires_in as a numeric string', { expires_in: '3600' }, NOW + 3_600_000, 3_600_000],
    ['expires_in with a fraction', { expires_in: 1.5 }, NOW + 1500, 1500],
    ['expires_at in epoch seconds', { expires_at: NOW / 1000 + 600 }, NOW + 600_000, 600_000],
    ['expires_at as a string', { expires_at: String(NOW / 1000 + 600) }, NOW + 600_000, 600_000],
    ['expires_in wins over expires_at', { expires_in: 60, expires_at: NOW / 1000 + 600 }, NOW + 60_000, 60_000],
    ['no expiry at all: unknown, refresh on first use', {}, null, null],
  ])('%s', (_, fields, expiresAt, lifetimeMs) => {
    const set = parseTokenResponse({ access_token: 'opaque', ...fields }, NOW);
    expect(set.expiresAt).toBe(expiresAt);
    expect(set.lifetimeMs).toBe(lifetimeMs);
  });

  it('falls back to the JWT exp claim', () => {
    const token = jwt({ sub: 'a', exp: NOW / 1000 + 900 });
    expect(jwtExpiry(token)).toBe(NOW / 1000 + 900);
    expect(parseTokenResponse({ access_token: token }, NOW).expiresAt).toBe(NOW + 900_000);
  });

  it('ignores a JWT without a usable exp, and junk that only looks like a JWT', () => {
    expect(jwtExpiry(jwt({ sub: 'a' }))).toBeUndefined();
    expect(jwtExpiry(jwt({ exp: 'soon' }))).toBeUndefined();
    expect(jwtExpiry('a.%%%.c')).toBeUndefined();
    expect(parseTokenResponse({ access_token: 'a.b.c' }, NOW).expiresAt).toBeNull();
  });

  it('reads the user from the ID token, else from a JWT access token', () => {
    expect(parseTokenResponse({ access_token: 'opaque', id_token: jwt({ sub: 'alice' }) }, NOW).subject).toBe('alice');
    expect(parseTokenResponse({ access_token: jwt({ sub: 'bob', exp: 1 }) }, NOW).subject).toBe('bob');
    expect(parseTokenResponse({ access_token: 'opaque', id_token: 'not-a-jwt' }, NOW).subject).toBeUndefined();
    expect(parseTokenResponse({ access_token: 'opaque', id_token: jwt({ sub: 7 }) }, NOW).subject).toBeUndefined();
  });

  it('records refresh token expiry, treating Keycloak 0 as unknown', () => {
    expect(parseTokenResponse({ access_token: 'x', refresh_token: 'r', refresh_expires_in: 120 }, NOW).refreshExpiresAt).toBe(NOW + 120_000);
    expect(parseTokenResponse({ access_token: 'x', refresh_token: 'r', refresh_expires_in: 0 }, NOW).refreshExpiresAt).toBeNull();
  });

  it('reads token_type in any case, defaulting to Bearer, and ignores unknown fields', () => {
    expect(parseTokenResponse({ access_token: 'x' }, NOW).tokenType).toBe('Bearer');
    expect(parseTokenResponse({ access_token: 'x', token_type: 'bearer' }, NOW).tokenType).toBe('Bearer');
    expect(parseTokenResponse({ access_token: 'x', token_type: 'dpop', extra: { deep: [1] } }, NOW)).toEqual({
      accessToken: 'x',
      tokenType: 'DPoP',
      expiresAt: null,
      lifetimeMs: null,
      refreshExpiresAt: null,
    });
  });

  it('keeps the ID token (for the logout hint), checked like the other tokens', () => {
    expect(parseTokenResponse({ access_token: 'x', id_token: 'y' }, NOW).idToken).toBe('y');
    expect(() => parseTokenResponse({ access_token: 'x', id_token: 'with space' }, NOW)).toThrow(expect.objectContaining({ field: 'id_token' }));
  });
});

describe('bad payloads are refused, naming the field', () => {
  const cases: Array<[string, unknown, string]> = [
    ['null', null, 'response'],
    ['an array', [{ access_token: 'x' }], 'response'],
    ['a string', 'token', 'response'],
    ['missing access_token', { refresh_token: 'r' }, 'access_token'],
    ['empty access_token', { access_token: '' }, 'access_token'],
    ['numeric access_token', { access_token: 42 }, 'access_token'],
    ['object access_token', { access_token: { value: 'x' } }, 'access_token'],
    ['access_token with a newline', { access_token: 'abc\r\nX-Evil: 1' }, 'access_token'],
    ['access_token with a space', { access_token: 'abc def' }, 'access_token'],
    ['a 5 MB access_token', { access_token: 'a'.repeat(5 * 1024 * 1024) }, 'access_token'],
    ['negative expires_in', { access_token: 'x', expires_in: -5 }, 'expires_in'],
    ['huge expires_in', { access_token: 'x', expires_in: 1e12 }, 'expires_in'],
    ['NaN expires_in', { access_token: 'x', expires_in: Number.NaN }, 'expires_in'],
    ['Infinity expires_in', { access_token: 'x', expires_in: Number.POSITIVE_INFINITY }, 'expires_in'],
    ['non-numeric string expires_in', { access_token: 'x', expires_in: '1h' }, 'expires_in'],
    ['boolean expires_in', { access_token: 'x', expires_in: true }, 'expires_in'],
    ['array expires_in', { access_token: 'x', expires_in: [60] }, 'expires_in'],
    ['unknown token_type', { access_token: 'x', token_type: 'MAC' }, 'token_type'],
    ['numeric token_type', { access_token: 'x', token_type: 1 }, 'token_type'],
    ['empty refresh_token', { access_token: 'x', refresh_token: '' }, 'refresh_token'],
    ['object refresh_token', { access_token: 'x', refresh_token: {} }, 'refresh_token'],
    ['array scope', { access_token: 'x', scope: ['a'] }, 'scope'],
  ];
  it.each(cases)('%s', (_, input, field) => {
    expect(() => parseTokenResponse(input, NOW)).toThrow(expect.objectContaining({ code: 'invalid-token-response', field }));
  });
});

describe('an absolute expiry is placed on this device clock by the server clock (a device clock hours off)', () => {
  const HOUR = 3_600_000;
  const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
  it.each([
    ['ahead', HOUR],
    ['behind', -HOUR],
  ])('server clock an hour %s: expires_at with its Date header gives the real 60 s lifetime', (_, offset) => {
    const serverNow = NOW + offset;
    const set = parseTokenResponse({ access_token: 'x', expires_at: (serverNow + 60_000) / 1000 }, NOW, serverNow);
    expect([set.lifetimeMs, set.expiresAt, set.clockSuspect]).toEqual([60_000, NOW + 60_000, undefined]);
  });

  it.each([
    ['ahead', HOUR],
    ['behind', -HOUR],
  ])('server clock an hour %s: a JWT exp is placed by its own iat when no Date header is readable', (_, offset) => {
    const serverSeconds = (NOW + offset) / 1000;
    const set = parseTokenResponse({ access_token: jwt({ iat: serverSeconds, exp: serverSeconds + 60 }) }, NOW);
    expect([set.lifetimeMs, set.expiresAt]).toEqual([60_000, NOW + 60_000]);
  });

  it('an expiry already past on arrival, with nothing to place it by: used until the API rejects it, not refreshed on every request', () => {
    const set = parseTokenResponse({ access_token: 'opaque', expires_at: (NOW - 3_540_000) / 1000 }, NOW);
    expect([set.expiresAt, set.lifetimeMs, set.clockSuspect]).toEqual([null, null, true]);
  });

  it('expires_in is relative: no clock enters it', () => {
    expect(parseTokenResponse({ access_token: 'x', expires_in: 60 }, NOW, NOW + HOUR).expiresAt).toBe(NOW + 60_000);
  });
});
