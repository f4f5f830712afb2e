import { describe, expect, it } from 'vitest';
import { startFeature } from '../../src/sw/feature-contracts.js';
import { oidcSignIn, type OidcSignInOptions } from '../../src/sw/features/sign-in/oidc-sign-in.js';
import { createTransactionStore } from '../../src/sw/features/sign-in/transactions.js';
import type { SignInRecord } from '../../src/sw/storage/database.js';
import { freshDatabase } from './support/database.js';
import { ManualClock } from './support/engine-harness.js';

const APP = 'https://app.test';
const ISSUER = 'https://id.test';
const record = (state: string, createdAt: number): SignInRecord => ({ state, nonce: `n-${state}`, codeVerifier: `v-${state}`, returnTo: `${APP}/x`, createdAt });

describe('the sign-in transaction store', () => {
  it('hands a sign-in out once: a replayed callback finds nothing', async () => {
    const clock = new ManualClock();
    const store = createTransactionStore(freshDatabase(), clock.now, 600_000);
    await store.put(record('s1', clock.now()));
    expect(await store.take('s1')).toEqual({ found: record('s1', clock.now()) });
    expect(await store.take('s1')).toEqual({ missing: 'unknown' });
    expect(await store.take('forged')).toEqual({ missing: 'unknown' });
  });

  it('keeps several sign-ins apart (tabs signing in at once), and two takes of one state race to a single winner', async () => {
    const clock = new ManualClock();
    const store = createTransactionStore(freshDatabase(), clock.now, 600_000);
    await Promise.all(['a', 'b', 'c'].map((state) => store.put(record(state, clock.now()))));
    const [first, second] = await Promise.all([store.take('b'), store.take('b')]);
    expect([first, second].filter((taken) => 'found' in taken)).toHaveLength(1);
    expect('found' in (await store.take('a'))).toBe(true);
    expect('found' in (await store.take('c'))).toBe(true);
  });

  it('refuses an expired sign-in (and deletes it), and drops expired ones when a new one starts', async () => {
    const clock = new ManualClock();
    const db = freshDatabase();
    const store = createTransactionStore(db, clock.now, 600_000);
    await store.put(record('old', clock.now()));
    await store.put(record('older', clock.now()));
    clock.advance(600_001);
    expect(await store.take('old')).toEqual({ missing: 'expired' });
    expect(await store.take('old')).toEqual({ missing: 'unknown' });
    await store.put(record('new', clock.now()));
    expect((await (await db()).getAllKeys('meta')).filter((key) => key.startsWith('sign-in:'))).toEqual(['sign-in:new']);
  });
});

describe('oidcSignIn() checks its options when it is made', () => {
  const valid: OidcSignInOptions = { issuer: ISSUER, clientId: 'spa', redirectUri: '/callback' };
  it.each([
    ['no options', undefined, 'signIn'],
    ['an issuer that is no URL', { ...valid, issuer: 'id.test' }, 'signIn.issuer'],
    ['a plain-http issuer off loopback', { ...valid, issuer: 'http://id.test' }, 'signIn.issuer'],
    ['no client id', { ...valid, clientId: '' }, 'signIn.clientId'],
    ['a scope that is no string', { ...valid, scope: ['openid'] }, 'signIn.scope'],
    ['params that set the state', { ...valid, params: { state: 'x' } }, 'signIn.params'],
    ['params that are not strings', { ...valid, params: { audience: 1 } }, 'signIn.params'],
    ['a zero transaction lifetime', { ...valid, transactionLifetimeSeconds: 0 }, 'signIn.transactionLifetimeSeconds'],
  ])('%s → invalid-config naming the option', (_, options, field) => {
    expect(() => oidcSignIn(options as never)).toThrow(expect.objectContaining({ code: 'invalid-config', field }));
  });

  it('allows plain http on loopback hosts only', () => {
    for (const issuer of ['http://127.0.0.1:9000', 'http://localhost:9000', 'http://[::1]:9000']) expect(() => oidcSignIn({ ...valid, issuer })).not.toThrow();
  });

  it('refuses a redirect URI of another origin when the worker starts it', () => {
    const feature = oidcSignIn({ ...valid, redirectUri: 'https://evil.test/callback' });
    expect(() => start(feature)).toThrow(expect.objectContaining({ code: 'invalid-config', field: 'signIn.redirectUri' }));
  });
});

/** The sign-in runtime over a fake provider that serves only its discovery document. */
function start(
  feature = oidcSignIn({ issuer: ISSUER, clientId: 'spa', redirectUri: '/callback', scope: 'openid offline_access', params: { audience: 'api' } }),
  discoveryAnswer?: () => Promise<Response>,
) {
  const discovery = { issuer: ISSUER, authorization_endpoint: `${ISSUER}/authorize`, token_endpoint: `${ISSUER}/token`, end_session_endpoint: `${ISSUER}/logout` };
  const clock = new ManualClock();
  const fetchFn = async (input: RequestInfo | URL) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url === `${ISSUER}/.well-known/openid-configuration`) return discoveryAnswer ? discoveryAnswer() : Response.json(discovery);
    return new Response('not found', { status: 404 });
  };
  let ids = 0;
  return startFeature(feature, {
    configured: { tokenEndpoint: undefined, revocationEndpoint: undefined },
    db: freshDatabase(),
    fetch: fetchFn,
    origin: APP,
    appUrl: `${APP}/`,
    now: clock.now,
    newId: () => `id-${++ids}`,
    dpop: null,
  })!;
}

describe('signIn(options) from the page', () => {
  it('answers the authorization URL: PKCE S256, state, nonce, the options passed through', async () => {
    const url = new URL(await start().start({ returnTo: `${APP}/dashboard`, prompt: 'login', loginHint: 'alice', params: { ui_locales: 'fr' } }));
    expect(url.origin + url.pathname).toBe(`${ISSUER}/authorize`);
    const p = Object.fromEntries(url.searchParams);
    expect(p).toMatchObject({
      client_id: 'spa',
      response_type: 'code',
      redirect_uri: `${APP}/callback`,
      scope: 'openid offline_access',
      code_challenge_method: 'S256',
      prompt: 'login',
      login_hint: 'alice',
      audience: 'api',
      ui_locales: 'fr',
    });
    expect(p['state']).toMatch(/^[\w-]{20,}$/);
    expect(p['nonce']).toMatch(/^[\w-]{20,}$/);
    expect(p['code_challenge']).toMatch(/^[\w-]{43}$/);
    expect(p).not.toHaveProperty('code_verifier');
  });

  it.each([
    ['a returnTo of another origin', { returnTo: 'https://evil.test/' }, 'returnTo'],
    ['no returnTo', {}, 'returnTo'],
    ['a prompt that is no string', { returnTo: `${APP}/`, prompt: 1 }, 'prompt'],
    ['params that replace the flow\'s own', { returnTo: `${APP}/`, params: { redirect_uri: 'https://evil.test/' } }, 'params'],
    ['options that are no object', 'x', 'options'],
  ])('refuses %s with bad-message naming the field', async (_, options, field) => {
    await expect(start().start(options)).rejects.toMatchObject({ code: 'bad-message', field });
  });

  it.each([
    ['the network fails', () => Promise.reject(new TypeError('Failed to fetch'))],
    ['the request times out', () => Promise.reject(new DOMException('signal timed out', 'TimeoutError'))],
    ['the provider answers 503', async () => new Response('down', { status: 503 })],
    ['the document is not JSON', async () => new Response('<html>', { status: 200, headers: { 'Content-Type': 'text/html' } })],
  ])('a discovery that fails (%s) is refused as sign-in-failed, its cause kept — not as a storage or worker failure', async (_, answer) => {
    await expect(start(undefined, answer).start({ returnTo: `${APP}/` })).rejects.toMatchObject({ name: 'TokenProxyError', code: 'sign-in-failed', cause: expect.anything() });
  });

  it('names the token and end-session endpoints from discovery, and ends a session through its own hop', async () => {
    const signIn = start();
    expect(await signIn.tokenEndpoint()).toBe(`${ISSUER}/token`);
    expect(await signIn.revocationEndpoint()).toBeUndefined();
    const hop = new URL((await signIn.endSession('id-token-value'))!);
    expect(hop.origin + hop.pathname).toBe(`${APP}/callback`);
    expect(hop.href).not.toContain('id-token-value'); // page script never sees the ID token
    const answer = await signIn.navigation(new Request(hop), { login: async () => ({}) as never, report: () => undefined })!;
    expect(answer.status).toBe(303);
    const target = new URL(answer.headers.get('Location')!);
    expect(Object.fromEntries(target.searchParams)).toEqual({ id_token_hint: 'id-token-value', client_id: 'spa', post_logout_redirect_uri: `${APP}/` });
  });
});
