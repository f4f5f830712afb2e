import { describe, expect, it } from 'vitest';
import { defaultIsTokenRejected, resolveConfig } from '../../src/sw/resolved-config.js';
import { createApiMatcher } from '../../src/sw/url-matchers.js';
import { startFeature } from '../../src/sw/feature-contracts.js';
import { captureLogins } from '../../src/sw/features/login-capture.js';
import { offlineOutbox } from '../../src/sw/features/outbox/offline-outbox.js';

const SELF = 'https://app.example.com';

describe('the API allow-list', () => {
  const config = resolveConfig(
    { api: ['/api/', { origin: 'https://api.example.com', pathPrefix: '/v1' }], tokenEndpoint: '/oauth/token' },
    SELF,
  );
  const isApi = createApiMatcher(config.scopes, [config.tokenEndpoint!]);

  it.each([
    ['https://app.example.com/api', true],
    ['https://app.example.com/api/', true],
    ['https://app.example.com/api/users?x=1', true],
    ['https://app.example.com/api?x=1', true],
    ['https://app.example.com/api#frag', true],
    ['https://app.example.com/apiary', false],
    ['https://app.example.com/', false],
    ['https://app.example.com/static/api/x', false],
    ['https://app.example.com:8443/api/x', false],
    ['http://app.example.com/api/x', false],
    ['https://app.example.com.evil.test/api/x', false],
    ['https://evil.test/https://app.example.com/api/x', false],
    ['https://user:pw@app.example.com/api/x', false],
    ['https://api.example.com/v1/items', true],
    ['https://api.example.com/v1', true],
    ['https://api.example.com/v10/items', false],
    ['https://api.example.com/v1beta', false],
    ['https://api.example.com/v2/items', false],
    ['https://api.example.com.evil.test/v1/items', false],
    ['https://xapi.example.com/v1/items', false],
    ['https://app.example.com/oauth/token', false],
  ])('%s → %s', (url, expected) => {
    expect(isApi(url)).toBe(expected);
  });

  it('never matches the token endpoint even when it sits under an API prefix', () => {
    const c = resolveConfig({ api: ['/'], tokenEndpoint: '/oauth/token' }, SELF);
    const m = createApiMatcher(c.scopes, [c.tokenEndpoint!]);
    expect(m('https://app.example.com/oauth/token')).toBe(false);
    expect(m('https://app.example.com/oauth/token?x')).toBe(false);
    expect(m('https://app.example.com/anything')).toBe(true);
  });
});

describe('config validation', () => {
  it.each([
    ['no api', { tokenEndpoint: '/t' }],
    ['empty api', { api: [], tokenEndpoint: '/t' }],
    ['relative path without slash', { api: ['api'], tokenEndpoint: '/t' }],
    ['origin with a path', { api: [{ origin: 'https://a.test/x', pathPrefix: '/' }], tokenEndpoint: '/t' }],
    ['origin with a trailing slash', { api: [{ origin: 'https://a.test/', pathPrefix: '/' }], tokenEndpoint: '/t' }],
    ['origin with credentials', { api: [{ origin: 'https://u@a.test', pathPrefix: '/' }], tokenEndpoint: '/t' }],
    ['not a URL', { api: [{ origin: 'a.test', pathPrefix: '/' }], tokenEndpoint: '/t' }],
    ['prefix with a query', { api: ['/api?x'], tokenEndpoint: '/t' }],
    ['no token endpoint', { api: ['/api'] }],
    ['negative skew', { api: ['/api'], tokenEndpoint: '/t', refreshSkewSeconds: -1 }],
    ['unknown refresh shape', { api: ['/api'], tokenEndpoint: '/t', refreshRequest: 'xml' }],
    ['an entry without origin', { api: [{ pathPrefix: '/x' }], tokenEndpoint: '/t' }],
    ['a null entry', { api: [null], tokenEndpoint: '/t' }],
    ['a number entry', { api: [7], tokenEndpoint: '/t' }],
    ['no config at all', undefined],
    ['storage as a string', { api: ['/api'], tokenEndpoint: '/t', storage: 'memory' }],
    ['unknown existingAuthorization', { api: ['/api'], tokenEndpoint: '/t', existingAuthorization: 'drop' }],
    ['NaN timeout', { api: ['/api'], tokenEndpoint: '/t', refreshTimeoutMs: Number.NaN }],
    ['an unparsable token endpoint', { api: ['/api'], tokenEndpoint: 'http://[::1' }],
    // the features are functions from the package: the shapes of earlier versions fail loudly
    ['dpop: true', { api: ['/api'], tokenEndpoint: '/t', dpop: true }],
    ['outbox options as an object', { api: ['/api'], tokenEndpoint: '/t', outbox: { maxEntries: 5 } }],
    ['capture: true', { api: ['/api'], tokenEndpoint: '/t', capture: true }],
    ["storage: 'indexeddb'", { api: ['/api'], tokenEndpoint: '/t', storage: 'indexeddb' }],
    // the function itself, not called (plain JavaScript): refused, not half installed
    ['offlineOutbox uncalled', { api: ['/api'], tokenEndpoint: '/t', outbox: offlineOutbox }],
    ['captureLogins uncalled', { api: ['/api'], tokenEndpoint: '/t', capture: captureLogins }],
    ["a feature in another option's place", { api: ['/api'], tokenEndpoint: '/t', capture: offlineOutbox() }],
  ])('%s is refused', (_, config) => {
    expect(() => resolveConfig(config as never, SELF)).toThrow(expect.objectContaining({ code: 'invalid-config' }));
  });

  it('fills in the documented defaults', () => {
    const c = resolveConfig({ api: ['/api'], tokenEndpoint: '/oauth/token' }, SELF);
    expect(c).toMatchObject({
      tokenEndpoint: 'https://app.example.com/oauth/token',
      refreshSkewMs: 60_000,
      refreshTimeoutMs: 10_000,
      refreshAttempts: 3,
      maxRetryDelayMs: 10_000,
      refreshRequest: 'form',
      existingAuthorization: 'replace',
      storage: null,
      outbox: null,
      capture: null,
      dpop: null,
    });
    expect([...c.terminalErrors]).toEqual(['invalid_grant']);
  });
});

describe('which API responses mean the token was rejected', () => {
  const response = (status: number, challenge?: string) =>
    new Response(null, { status, headers: challenge ? { 'WWW-Authenticate': challenge } : {} });
  it.each([
    [response(401, 'Bearer error="invalid_token"'), true],
    [response(401, 'Bearer realm="x", error="invalid_token", error_description="expired"'), true],
    [response(401), true],
    [response(401, 'Bearer realm="api"'), false],
    [response(403, 'Bearer error="insufficient_scope"'), false],
    [response(403), false],
    [response(200), false],
  ])('%#', (r, expected) => expect(defaultIsTokenRejected(r)).toBe(expected));
});

it('false, null or nothing leaves an optional feature off', () => {
  for (const off of [false, null, undefined]) {
    const c = resolveConfig({ api: ['/api'], tokenEndpoint: '/t', outbox: off, capture: off, dpop: off, storage: off } as never, SELF);
    expect(c).toMatchObject({ outbox: null, capture: null, dpop: null, storage: null });
  }
  const on = resolveConfig({ api: ['/api'], tokenEndpoint: '/t', outbox: offlineOutbox(), capture: captureLogins() }, SELF);
  expect(on.outbox?.feature).toBe('outbox');
  expect(on.capture?.feature).toBe('capture');
});

describe('the optional features check their own options', () => {
  it.each([
    ['maxEntries 0', () => offlineOutbox({ maxEntries: 0 })],
    ['negative maxBytes', () => offlineOutbox({ maxBytes: -1 })],
    ['NaN retention', () => offlineOutbox({ retentionSeconds: Number.NaN })],
    ['defer not a function', () => offlineOutbox({ defer: 'writes' as never })],
    ['outbox options not an object', () => offlineOutbox(null as never)],
    ['capture endpoints not an array', () => captureLogins({ endpoints: '/login' as never })],
    ['capture options null', () => captureLogins(null as never)],
    ['capture options a string', () => captureLogins('/login' as never)],
  ])('%s is refused when the feature is made', (_, make) => {
    expect(make).toThrow(expect.objectContaining({ code: 'invalid-config' }));
  });

  it('capture endpoints are resolved against the worker origin, the token endpoint first; a bad one is refused at install', () => {
    const engine = { login: async () => ({ loggedIn: true, refreshCount: 0 }) };
    const context = { tokenEndpoint: `${SELF}/oauth/token`, origin: SELF, engine };
    const capture = startFeature(captureLogins({ endpoints: ['/login', 'https://idp.example.com/session'] }), context)!;
    expect(capture.endpoints).toEqual([`${SELF}/oauth/token`, `${SELF}/login`, 'https://idp.example.com/session']);
    expect(() => startFeature(captureLogins({ endpoints: ['http://[::1'] }), context)).toThrow(
      expect.objectContaining({ code: 'invalid-config', field: 'capture.endpoints[0]' }),
    );
  });
});
