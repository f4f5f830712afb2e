import { createLocalJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterEach, describe, expect, it } from 'vitest';
import { startRealProvider, type RealProvider, type RealProviderOptions } from '../server/real-provider.js';

// node-oidc-provider, driven over HTTP as a browser would (redirects followed by hand, cookies kept), with
// oauth4webapi as the client. The app's origin is never contacted: the flow stops at its callback URL.

const APP = 'http://127.0.0.1:9';
const REDIRECT_URI = `${APP}/callback`;
const client: oauth.Client = { client_id: 'spa' };
const insecure = { [oauth.allowInsecureRequests]: true } as const; // loopback only

let rp: RealProvider;
async function start(options: Partial<RealProviderOptions> = {}) {
  rp = await startRealProvider({ redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [`${APP}/signed-out`], ...options });
}
afterEach(async () => {
  expect(rp.errors).toEqual([]);
  await rp.close();
});

/** The browser's part: a cookie jar (one host, so paths are ignored) and manual redirects. */
class Browser {
  private readonly cookies = new Map<string, string>();

  /** Follows redirects until a page is shown or the app's callback is reached (not fetched). */
  async go(url: string, init: RequestInit = {}): Promise<{ url: string; status: number; page: string }> {
    let target = url;
    let request = init;
    for (let hop = 0; hop < 10; hop++) {
      if (target.startsWith(APP)) return { url: target, status: 0, page: '' };
      const headers = new Headers(request.headers);
      if (this.cookies.size > 0) headers.set('Cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
      const response = await fetch(target, { ...request, headers, redirect: 'manual' });
      this.keep(response);
      const location = response.headers.get('Location');
      if (response.status < 300 || response.status >= 400 || location === null) return { url: target, status: response.status, page: await response.text() };
      target = new URL(location, target).href;
      request = {};
    }
    throw new Error('too many redirects');
  }

  submit(action: string, fields: Record<string, string>) {
    return this.go(action, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  }

  private keep(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      const expired = attributes.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) < Date.now());
      if (value === '' || expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

const formAction = (page: string) => /<form[^>]* action="([^"]+)"/.exec(page)?.[1]?.replace(/&#38;/g, '&') ?? '';
const hiddenFields = (page: string) => Object.fromEntries([...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));

async function discover(): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(rp.issuer);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
}

async function authorizationRequest(as: oauth.AuthorizationServer, scope = 'openid offline_access') {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  }).toString();
  return { url: url.href, verifier, state, nonce };
}

async function exchange(as: oauth.AuthorizationServer, callback: string, request: { verifier: string; state: string }, dpop?: oauth.DPoPHandle) {
  // validateAuthResponse requires `iss` (RFC 9207) since the provider says it sends it.
  const params = oauth.validateAuthResponse(as, client, new URL(callback), request.state);
  return oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT_URI, request.verifier, { ...insecure, ...(dpop ? { DPoP: dpop } : {}) });
}

const refreshRequest = (as: oauth.AuthorizationServer, token: string, dpop?: oauth.DPoPHandle) =>
  oauth.refreshTokenGrantRequest(as, client, oauth.None(), token, { ...insecure, ...(dpop ? { DPoP: dpop } : {}) });

async function refusedWith(response: Promise<Response>, process: (r: Response) => Promise<unknown>): Promise<string> {
  try {
    await process(await response);
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) return error.error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

describe('node-oidc-provider on loopback', () => {
  it('sign-in at the login form, code + PKCE, ID token, rotation with reuse detection, SSO, code replay, revocation', async () => {
    await start();
    const as = await discover();
    expect(as).toMatchObject({ issuer: rp.issuer, authorization_response_iss_parameter_supported: true, code_challenge_methods_supported: ['S256'] });
    expect(as.dpop_signing_alg_values_supported).toContain('ES256');
    const browser = new Browser();

    const request = await authorizationRequest(as);
    const login = await browser.go(request.url);
    expect(login.status).toBe(200);
    for (const selector of ['id="username"', 'id="password"', 'id="sign-in"', 'id="cancel"']) expect(login.page).toContain(selector);
    const action = new URL(formAction(login.page), login.url).href;
    const wrong = await browser.submit(action, { username: 'alice', password: 'nope', action: 'sign-in' });
    expect([wrong.status, wrong.page]).toEqual([200, expect.stringContaining('role="alert"')]);
    const callback = await browser.submit(action, { username: 'alice', password: 'alice-password', action: 'sign-in' });
    expect(callback.url.startsWith(`${REDIRECT_URI}?`)).toBe(true);
    expect(new URL(callback.url).searchParams.get('iss')).toBe(rp.issuer);

    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await exchange(as, callback.url, request), { expectedNonce: request.nonce, requireIdToken: true });
    expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 30, refresh_token: expect.any(String) });
    const jwks = createLocalJWKSet((await (await fetch(as.jwks_uri!)).json()) as { keys: [] });
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, { issuer: rp.issuer, audience: 'spa' });
    expect([protectedHeader.alg, payload.sub, payload['nonce']]).toEqual(['ES256', 'alice', request.nonce]);

    const me = await fetch(`${rp.issuer}/api/me`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect(await me.json()).toMatchObject({ ok: true, user: 'alice' });

    // Rotation on every use; the rotated-away token presented again revokes the grant.
    const rotated = await oauth.processRefreshTokenResponse(as, client, await refreshRequest(as, tokens.refresh_token!));
    expect(rotated.refresh_token).not.toBe(tokens.refresh_token);
    expect(await refusedWith(refreshRequest(as, tokens.refresh_token!), (r) => oauth.processRefreshTokenResponse(as, client, r))).toBe('invalid_grant');
    expect(await refusedWith(refreshRequest(as, rotated.refresh_token!), (r) => oauth.processRefreshTokenResponse(as, client, r))).toBe('invalid_grant');
    expect(rp.stats).toMatchObject({ refreshRotations: 1, refreshReuse: 1, logins: 1 });

    // Signed in at the provider already: the next authorization needs no form. Its code, replayed, is refused.
    const again = await authorizationRequest(as);
    const sso = await browser.go(again.url);
    expect(sso.url.startsWith(`${REDIRECT_URI}?`)).toBe(true);
    await oauth.processAuthorizationCodeResponse(as, client, await exchange(as, sso.url, again), { expectedNonce: again.nonce });
    expect(await refusedWith(exchange(as, sso.url, again), (r) => oauth.processAuthorizationCodeResponse(as, client, r, { expectedNonce: again.nonce }))).toBe('invalid_grant');
    expect(rp.stats.codeReuse).toBe(1);

    const third = await authorizationRequest(as);
    const fresh = await oauth.processAuthorizationCodeResponse(as, client, await exchange(as, (await browser.go(third.url)).url, third), { expectedNonce: third.nonce });
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), fresh.refresh_token!, insecure));
    expect(await refusedWith(refreshRequest(as, fresh.refresh_token!), (r) => oauth.processRefreshTokenResponse(as, client, r))).toBe('invalid_grant');

    expect(rp.stats).toMatchObject({
      logins: 1,
      authorizations: 3,
      revocations: 1,
      discoveryRequests: 1,
      tokenRequests: { authorization_code: { success: 3, error: 1 }, refresh_token: { success: 1, error: 3 } },
      api: { authorized: 1 },
    });
  });

  it('Cancel at the login form is access_denied at the callback, with iss', async () => {
    await start();
    const as = await discover();
    const browser = new Browser();
    const request = await authorizationRequest(as);
    const login = await browser.go(request.url);
    const callback = await browser.submit(new URL(formAction(login.page), login.url).href, { action: 'cancel' });
    const params = new URL(callback.url).searchParams;
    expect([params.get('error'), params.get('state'), params.get('iss')]).toEqual(['access_denied', request.state, rp.issuer]);
    expect(() => oauth.validateAuthResponse(as, client, new URL(callback.url), request.state)).toThrow();
  });

  it('autoLogin, DPoP required, CORS for the app origin only, and RP-initiated logout confirmed without a click', async () => {
    await start({ autoLogin: 'bob', autoLogout: true, dpop: 'required' });
    const as = await discover();
    const browser = new Browser();
    // Without offline_access the tokens are tied to the sign-in session at the provider (a refresh token all the same).
    const request = await authorizationRequest(as, 'openid');
    const callback = await browser.go(request.url);
    expect(callback.url.startsWith(`${REDIRECT_URI}?`)).toBe(true);

    // Without a proof the exchange is refused (oidc-provider says invalid_grant, and the code is not spent); with one the tokens are bound.
    expect(await refusedWith(exchange(as, callback.url, request), (r) => oauth.processAuthorizationCodeResponse(as, client, r, { expectedNonce: request.nonce }))).toBe('invalid_grant');
    const dpop = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await exchange(as, callback.url, request, dpop), { expectedNonce: request.nonce });
    expect(tokens.token_type).toBe('dpop');
    expect(oauth.getValidatedIdTokenClaims(tokens)?.sub).toBe('bob');
    const apiUrl = new URL(`${rp.issuer}/api/data`);
    expect((await oauth.protectedResourceRequest(tokens.access_token, 'GET', apiUrl, undefined, undefined, { DPoP: dpop, ...insecure })).status).toBe(200);
    expect((await fetch(apiUrl, { headers: { Authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);
    const rotated = await oauth.processRefreshTokenResponse(as, client, await refreshRequest(as, tokens.refresh_token!, dpop));
    expect(rotated.refresh_token).toEqual(expect.any(String));

    // CORS: the app's origin may call the token endpoint, another may not.
    const preflight = await fetch(as.token_endpoint!, { method: 'OPTIONS', headers: { Origin: APP, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,dpop' } });
    expect([preflight.status, preflight.headers.get('Access-Control-Allow-Origin')]).toEqual([204, APP]);
    const foreign = await fetch(as.token_endpoint!, {
      method: 'POST',
      headers: { Origin: 'http://127.0.0.1:8', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rotated.refresh_token!, client_id: 'spa' }).toString(),
    });
    expect([foreign.status, foreign.headers.get('Access-Control-Allow-Origin')]).toEqual([400, null]);

    // Logout: the confirmation page submits itself; a test without script posts its form. It ends the session's tokens.
    const logout = new URL(as.end_session_endpoint!);
    logout.search = new URLSearchParams({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${APP}/signed-out`, state: 'bye' }).toString();
    const confirm = await browser.go(logout.href);
    expect(confirm.page).toContain('document.forms[0].submit()');
    const done = await browser.submit(formAction(confirm.page), hiddenFields(confirm.page));
    expect(done.url).toBe(`${APP}/signed-out?state=bye`);
    expect(rp.stats.endSessions).toBe(1);
    expect(await refusedWith(refreshRequest(as, rotated.refresh_token!, dpop), (r) => oauth.processRefreshTokenResponse(as, client, r))).toBe('invalid_grant');
    expect(rp.stats.logins).toBe(1);
  });

  it('dpopNonce: the token endpoint asks for its nonce first (use_dpop_nonce), as oauth4webapi expects', async () => {
    await start({ autoLogin: 'alice', dpopNonce: true });
    const as = await discover();
    const request = await authorizationRequest(as);
    const callback = await new Browser().go(request.url);
    const dpop = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const first = exchange(as, callback.url, request, dpop).then((r) => oauth.processAuthorizationCodeResponse(as, client, r, { expectedNonce: request.nonce }));
    await expect(first).rejects.toSatisfy(oauth.isDPoPNonceError);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await exchange(as, callback.url, request, dpop), { expectedNonce: request.nonce });
    expect(tokens.token_type).toBe('dpop');
    expect(rp.requests.filter((r) => r.path === '/token').map((r) => [r.dpop, r.status])).toEqual([[true, 400], [true, 200]]);
  });
});
