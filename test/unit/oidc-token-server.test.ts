import { createLocalJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterEach, describe, expect, it } from 'vitest';
import { ecThumbprint } from '../server/jwt.js';
import { TokenServer, type TokenServerOptions } from '../server/token-server.js';

// The TokenServer as an OpenID provider, driven by oauth4webapi as the client where it fits.

let server: TokenServer;
let origin: string;
const client: oauth.Client = { client_id: 'spa' };
const insecure = { [oauth.allowInsecureRequests]: true } as const; // loopback only

async function start(options: TokenServerOptions = {}) {
  server = new TokenServer(options);
  origin = await server.listen();
}
afterEach(() => server.close());

async function discover(): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(origin);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
}

async function pkce() {
  const verifier = oauth.generateRandomCodeVerifier();
  return { verifier, challenge: await oauth.calculatePKCECodeChallenge(verifier) };
}

const redirectUri = () => `${origin}/callback`;

function authorizeUrl(params: Record<string, string>): string {
  const url = new URL(`${origin}/oauth/authorize`);
  for (const [name, value] of Object.entries({ response_type: 'code', client_id: 'spa', redirect_uri: redirectUri(), scope: 'openid', code_challenge_method: 'S256', ...params })) {
    url.searchParams.set(name, value);
  }
  return url.href;
}

const get = (url: string) => fetch(url, { redirect: 'manual' });
const postForm = (url: string, fields: Record<string, string>) =>
  fetch(url, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
const hiddenRequest = (page: string) => /name="request" value="([^"]+)"/.exec(page)?.[1] ?? '';

/** Signs in through the login page as a browser would; resolves with the callback URL. */
async function signInWithForm(params: Record<string, string>, user = 'alice', password = `${user}-password`): Promise<URL> {
  const page = await (await get(authorizeUrl(params))).text();
  const answer = await postForm(`${origin}/oauth/authorize/decision`, { request: hiddenRequest(page), username: user, password, action: 'sign-in' });
  expect(answer.status).toBe(303);
  return new URL(answer.headers.get('Location')!);
}

async function exchange(as: oauth.AuthorizationServer, callback: URL, verifier: string, state: string | typeof oauth.expectNoState, options: oauth.TokenEndpointRequestOptions = {}) {
  const params = oauth.validateAuthResponse(as, client, callback, state);
  return oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri(), verifier, { ...insecure, ...options });
}

const api = (token: string, scheme = 'Bearer') => fetch(`${origin}/api/data`, { headers: { Authorization: `${scheme} ${token}` } });
const refresh = (token: string) => postForm(`${origin}/oauth/token`, { grant_type: 'refresh_token', refresh_token: token });

describe('discovery and keys', () => {
  it('publishes an OpenID configuration oauth4webapi accepts, CORS-open, and counts the fetches', async () => {
    await start();
    const as = await discover();
    expect(as).toMatchObject({
      issuer: origin,
      authorization_endpoint: `${origin}/oauth/authorize`,
      token_endpoint: `${origin}/oauth/token`,
      revocation_endpoint: `${origin}/oauth/revoke`,
      end_session_endpoint: `${origin}/oauth/end-session`,
      jwks_uri: `${origin}/oauth/jwks`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'password'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      id_token_signing_alg_values_supported: ['ES256'],
      authorization_response_iss_parameter_supported: true,
    });
    expect(as.scopes_supported).toEqual(expect.arrayContaining(['openid', 'offline_access']));
    expect(as.dpop_signing_alg_values_supported).toBeUndefined();
    const response = await fetch(`${origin}/.well-known/openid-configuration`, { headers: { Origin: 'https://app.example' } });
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(response.headers.get('Access-Control-Expose-Headers')).toBe('Date, DPoP-Nonce');
    expect(server.stats.discoveryRequests).toBe(2);
  });

  it('names ES256 for DPoP when DPoP is on, and serves the signing key at jwks_uri', async () => {
    await start({ dpop: true });
    const as = await discover();
    expect(as.dpop_signing_alg_values_supported).toEqual(['ES256']);
    const jwks = (await (await fetch(as.jwks_uri!)).json()) as { keys: Record<string, string>[] };
    expect(jwks.keys).toEqual([{ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: expect.any(String), alg: 'ES256', use: 'sig' }]);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    expect(server.stats.jwksRequests).toBe(1);
  });

  it('answers CORS preflights on the token and revocation endpoints for any origin', async () => {
    await start();
    for (const path of ['/oauth/token', '/oauth/revoke']) {
      const preflight = await fetch(`${origin}${path}`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type, dpop' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('Access-Control-Allow-Origin')).toBe('*');
      expect(preflight.headers.get('Access-Control-Allow-Headers')).toContain('DPoP');
    }
  });
});

describe('authorization endpoint', () => {
  it('never redirects for an unknown client or an unregistered redirect URI', async () => {
    await start();
    const { challenge } = await pkce();
    for (const params of [{ client_id: 'other' }, { redirect_uri: 'https://evil.example/callback' }, { redirect_uri: `${origin}/callback#fragment` }]) {
      const response = await get(authorizeUrl({ code_challenge: challenge, state: 's', ...params }));
      expect(response.status).toBe(400);
      expect(response.headers.get('Location')).toBeNull();
      expect(response.headers.get('Content-Type')).toContain('text/html');
    }
    expect(server.stats.codesIssued).toBe(0);
  });

  it('with registered redirect URIs, matches them exactly (another origin is fine once registered)', async () => {
    await start({ redirectUris: ['https://app.example/callback'] });
    const { challenge } = await pkce();
    expect((await get(authorizeUrl({ code_challenge: challenge, redirect_uri: 'https://app.example/callback' }))).status).toBe(200);
    expect((await get(authorizeUrl({ code_challenge: challenge, redirect_uri: 'https://app.example/callback/x' }))).status).toBe(400);
    expect((await get(authorizeUrl({ code_challenge: challenge, redirect_uri: `${origin}/callback` }))).status).toBe(400);
  });

  it('refuses a request without PKCE S256 by redirecting an error (with state and iss), never a code', async () => {
    await start();
    const { challenge } = await pkce();
    for (const params of [{}, { code_challenge: challenge, code_challenge_method: 'plain' }, { code_challenge: 'short' }, { code_challenge: challenge, response_type: 'token' }]) {
      const response = await get(authorizeUrl({ state: 'xyz', ...params }));
      expect(response.status).toBe(303);
      const location = new URL(response.headers.get('Location')!);
      expect(location.origin + location.pathname).toBe(redirectUri());
      expect(location.searchParams.get('error')).toMatch(/^(invalid_request|unsupported_response_type)$/);
      expect(location.searchParams.get('state')).toBe('xyz');
      expect(location.searchParams.get('iss')).toBe(origin);
      expect(location.searchParams.has('code')).toBe(false);
    }
    const badScope = new URL((await get(authorizeUrl({ code_challenge: challenge, scope: 'openid admin' }))).headers.get('Location')!);
    expect(badScope.searchParams.get('error')).toBe('invalid_scope');
    expect(server.stats).toMatchObject({ codesIssued: 0, authorizationRequests: 5 });
  });

  it('shows a login page (login_hint pre-fills the user); a wrong password shows it again, Cancel is access_denied', async () => {
    await start();
    const { challenge } = await pkce();
    const page = await get(authorizeUrl({ code_challenge: challenge, state: 'st', login_hint: 'bob' }));
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toMatch(/<input id="username" name="username"[^>]* value="bob"/);
    for (const selector of ['id="password"', 'id="sign-in"', 'id="cancel"']) expect(body).toContain(selector);
    const request = hiddenRequest(body);

    const wrong = await postForm(`${origin}/oauth/authorize/decision`, { request, username: 'bob', password: 'nope', action: 'sign-in' });
    expect(wrong.status).toBe(200);
    expect(await wrong.text()).toContain('role="alert"');
    expect(server.stats.codesIssued).toBe(0);

    const cancel = await postForm(`${origin}/oauth/authorize/decision`, { request, action: 'cancel' });
    const location = new URL(cancel.headers.get('Location')!);
    expect([cancel.status, location.searchParams.get('error'), location.searchParams.get('state'), location.searchParams.get('iss')]).toEqual([303, 'access_denied', 'st', origin]);
    // the request is used up
    expect((await postForm(`${origin}/oauth/authorize/decision`, { request, username: 'bob', password: 'bob-password', action: 'sign-in' })).status).toBe(400);
  });

  it('autoApprove signs the user in at once; prompt=none without it is login_required', async () => {
    await start({ autoApprove: 'bob' });
    const { challenge } = await pkce();
    const response = await get(authorizeUrl({ code_challenge: challenge, state: 'a' }));
    expect(response.status).toBe(303);
    expect(new URL(response.headers.get('Location')!).searchParams.get('code')).toBeTruthy();
    await server.close();

    await start();
    const none = await get(authorizeUrl({ code_challenge: challenge, prompt: 'none' }));
    expect(new URL(none.headers.get('Location')!).searchParams.get('error')).toBe('login_required');
  });

  it('authorize() gives a code without the form, and throws where the endpoint shows an error page', async () => {
    await start();
    const { challenge } = await pkce();
    const url = new URL(server.authorize({ user: 'bob', redirect_uri: redirectUri(), code_challenge: challenge, state: 'k', scope: 'openid' }));
    expect([url.searchParams.get('state'), url.searchParams.get('iss')]).toEqual(['k', origin]);
    expect(url.searchParams.get('code')).toBeTruthy();
    expect(() => server.authorize({ client_id: 'other', redirect_uri: redirectUri(), code_challenge: challenge })).toThrow(/unknown client_id/);
    expect(() => server.authorize({ user: 'mallory', redirect_uri: redirectUri(), code_challenge: challenge })).toThrow(/unknown user/);
    expect(new URL(server.authorize({ redirect_uri: redirectUri() })).searchParams.get('error')).toBe('invalid_request');
  });
});

describe('authorization code grant', () => {
  it('signs in with the form and exchanges the code (oauth4webapi): ID token with nonce, a family that refreshes and rotates', async () => {
    await start();
    const as = await discover();
    const { verifier, challenge } = await pkce();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const callback = await signInWithForm({ code_challenge: challenge, state, nonce, scope: 'openid offline_access' });
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await exchange(as, callback, verifier, state), { expectedNonce: nonce, requireIdToken: true });
    expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 60, scope: 'openid offline_access' });
    expect(oauth.getValidatedIdTokenClaims(tokens)).toMatchObject({ iss: origin, sub: 'alice', aud: 'spa', nonce });
    expect(server.stats).toMatchObject({ codesIssued: 1, codeGrants: 1, codeReuse: 0 });
    expect((await api(tokens.access_token)).status).toBe(200);

    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure));
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(oauth.getValidatedIdTokenClaims(refreshed)).toMatchObject({ sub: 'alice' });
    expect(oauth.getValidatedIdTokenClaims(refreshed)).not.toHaveProperty('nonce');
    // strict as ever: the rotated-away refresh token is reuse, and kills the family
    expect((await refresh(tokens.refresh_token!)).status).toBe(400);
    expect((await api(refreshed.access_token)).status).toBe(401);
    expect(server.stats).toMatchObject({ refreshGrants: 1, reuseDetections: 1 });
  });

  it('a wrong code_verifier is refused, and that presentation used the code up', async () => {
    await start();
    const as = await discover();
    const { verifier, challenge } = await pkce();
    const callback = await signInWithForm({ code_challenge: challenge });
    const wrong = await exchange(as, callback, oauth.generateRandomCodeVerifier(), oauth.expectNoState);
    expect([wrong.status, ((await wrong.json()) as { error: string }).error]).toEqual([400, 'invalid_grant']);
    expect((await exchange(as, callback, verifier, oauth.expectNoState)).status).toBe(400);
    expect(server.stats.codeGrants).toBe(0);
  });

  it('a code presented twice is invalid_grant and revokes the tokens issued from it (RFC 6749 §4.1.2)', async () => {
    await start();
    const as = await discover();
    const { verifier, challenge } = await pkce();
    const callback = new URL(server.authorize({ redirect_uri: redirectUri(), code_challenge: challenge, scope: 'openid' }));
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await exchange(as, callback, verifier, oauth.expectNoState));
    const replay = await exchange(as, callback, verifier, oauth.expectNoState);
    expect([replay.status, ((await replay.json()) as { error: string }).error]).toEqual([400, 'invalid_grant']);
    expect((await api(tokens.access_token)).status).toBe(401);
    expect((await refresh(tokens.refresh_token!)).status).toBe(400);
    expect(server.stats).toMatchObject({ codeGrants: 1, codeReuse: 1, reuseDetections: 0 });
  });

  it('checks client_id, redirect_uri and the code lifetime (60 s on the server clock)', async () => {
    let now = Date.now();
    await start({ now: () => now });
    const { verifier, challenge } = await pkce();
    const code = () => new URL(server.authorize({ redirect_uri: redirectUri(), code_challenge: challenge })).searchParams.get('code')!;
    const token = (fields: Record<string, string>) => postForm(`${origin}/oauth/token`, { grant_type: 'authorization_code', client_id: 'spa', redirect_uri: redirectUri(), code_verifier: verifier, ...fields });
    expect((await token({ code: code(), client_id: 'other' })).status).toBe(401);
    expect((await token({ code: code(), redirect_uri: `${origin}/other` })).status).toBe(400);
    const late = code();
    now += 61_000;
    expect(await (await token({ code: late })).json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringContaining('expired') });
    const fresh = await token({ code: code() });
    expect(fresh.status).toBe(200);
    expect(server.stats.codeGrants).toBe(1);
  });

  it('a family from a code exchange is bound to its client: a refresh naming another client_id is refused, not reuse', async () => {
    await start();
    const as = await discover();
    const { verifier, challenge } = await pkce();
    const callback = new URL(server.authorize({ redirect_uri: redirectUri(), code_challenge: challenge }));
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await exchange(as, callback, verifier, oauth.expectNoState));
    const other = await postForm(`${origin}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: 'other' });
    expect(await other.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await postForm(`${origin}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: 'spa' })).status).toBe(200);
    expect(server.stats).toMatchObject({ refreshGrants: 1, reuseDetections: 0 });
  });

  it('the ID token is an ES256 JWT that verifies against jwks_uri, with iss, aud, nonce, auth_time and sid', async () => {
    let now = Date.now();
    await start({ now: () => now });
    const as = await discover();
    const { verifier, challenge } = await pkce();
    const callback = new URL(server.authorize({ user: 'bob', redirect_uri: redirectUri(), code_challenge: challenge, scope: 'openid profile', nonce: 'n-1' }));
    now += 5_000; // auth_time is the sign-in, iat the exchange
    const body = (await (await exchange(as, callback, verifier, oauth.expectNoState)).json()) as Record<string, string>;
    const jwks = createLocalJWKSet((await (await fetch(as.jwks_uri!)).json()) as { keys: [] });
    const { payload, protectedHeader } = await jwtVerify(body.id_token!, jwks, { issuer: origin, audience: 'spa', currentDate: new Date(now) });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'JWT', kid: expect.any(String) });
    expect(payload).toMatchObject({ sub: 'bob', nonce: 'n-1', name: 'Bob', sid: expect.any(String) });
    expect(payload.iat).toBe(Math.floor(now / 1000));
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(payload['auth_time']).toBe(Math.floor((now - 5_000) / 1000));
    // a tampered token does not verify
    const [h, p, s] = body.id_token!.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'alice' })).toString('base64url')}.${s}`;
    expect(p).not.toBe(forged.split('.')[1]);
    await expect(jwtVerify(forged, jwks)).rejects.toThrow();
  });

  it('idTokens: password logins carry a signed ID token whose sub is the user', async () => {
    await start({ idTokens: true });
    const login = (await (await postForm(`${origin}/oauth/token`, { grant_type: 'password', username: 'bob', password: 'bob-password' })).json()) as Record<string, string>;
    const jwks = createLocalJWKSet((await (await fetch(`${origin}/oauth/jwks`)).json()) as { keys: [] });
    expect((await jwtVerify(login.id_token!, jwks, { issuer: origin })).payload.sub).toBe('bob');
  });
});

describe('DPoP-bound code exchange', () => {
  it('a proof at the exchange binds the family: token_type DPoP, refresh and API calls need the key', async () => {
    await start({ dpop: true });
    const as = await discover();
    const keys = await oauth.generateKeyPair('ES256');
    const dpop = oauth.DPoP(client, keys);
    const { verifier, challenge } = await pkce();
    const callback = new URL(server.authorize({ redirect_uri: redirectUri(), code_challenge: challenge, scope: 'openid' }));
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await exchange(as, callback, verifier, oauth.expectNoState, { DPoP: dpop }));
    expect(tokens.token_type).toBe('dpop');
    expect((await api(tokens.access_token, 'DPoP')).status).toBe(401); // no proof
    const proven = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(`${origin}/api/data`), undefined, undefined, { DPoP: dpop, ...insecure });
    expect(proven.status).toBe(200);
    expect(await (await refresh(tokens.refresh_token!)).json()).toMatchObject({ error: 'invalid_dpop_proof' });
    const refreshed = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, { DPoP: dpop, ...insecure });
    expect(refreshed.status).toBe(200);
    expect(server.stats).toMatchObject({ codeGrants: 1, refreshGrants: 1, reuseDetections: 0 });
  });

  it('dpop_jkt at the authorization request binds the code to that key (RFC 9449 §10)', async () => {
    await start({ dpop: true });
    const as = await discover();
    const [bound, other] = [await oauth.generateKeyPair('ES256', { extractable: true }), await oauth.generateKeyPair('ES256')];
    const jkt = ecThumbprint(await crypto.subtle.exportKey('jwk', bound.publicKey));
    const { verifier, challenge } = await pkce();
    const code = () => new URL(server.authorize({ redirect_uri: redirectUri(), code_challenge: challenge, dpop_jkt: jkt }));
    expect((await exchange(as, code(), verifier, oauth.expectNoState, { DPoP: oauth.DPoP(client, other) })).status).toBe(400);
    expect((await exchange(as, code(), verifier, oauth.expectNoState)).status).toBe(400);
    expect((await exchange(as, code(), verifier, oauth.expectNoState, { DPoP: oauth.DPoP(client, bound) })).status).toBe(200);
  });
});

describe('RP-initiated logout', () => {
  async function signedIn() {
    const as = await discover();
    const { verifier, challenge } = await pkce();
    const callback = new URL(server.authorize({ redirect_uri: redirectUri(), code_challenge: challenge, scope: 'openid' }));
    return oauth.processAuthorizationCodeResponse(as, client, await exchange(as, callback, verifier, oauth.expectNoState));
  }

  it('with id_token_hint: 303 to post_logout_redirect_uri with state, and the family of the hint is revoked', async () => {
    await start();
    const tokens = await signedIn();
    const other = await signedIn();
    const url = new URL(`${origin}/oauth/end-session`);
    url.search = new URLSearchParams({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${origin}/signed-out`, state: 'bye' }).toString();
    const response = await get(url.href);
    expect([response.status, response.headers.get('Location')]).toEqual([303, `${origin}/signed-out?state=bye`]);
    expect(server.stats.endSessions).toBe(1);
    expect((await api(tokens.access_token)).status).toBe(401);
    expect((await refresh(tokens.refresh_token!)).status).toBe(400);
    expect((await api(other.access_token)).status).toBe(200); // another sign-in of the same user lives on
  });

  it('refuses a hint that is not ours and an unregistered post_logout_redirect_uri; without parameters shows a page', async () => {
    await start({ postLogoutRedirectUris: ['https://app.example/bye'] });
    const tokens = await signedIn();
    const [h, p] = tokens.id_token!.split('.');
    const endSession = (params: Record<string, string>) => get(`${origin}/oauth/end-session?${new URLSearchParams(params).toString()}`);
    expect((await endSession({ id_token_hint: `${h}.${p}.AAAA` })).status).toBe(400);
    expect((await endSession({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${origin}/signed-out` })).status).toBe(400);
    expect((await endSession({ post_logout_redirect_uri: 'https://app.example/bye' })).status).toBe(400); // needs a hint or client_id
    expect((await endSession({ client_id: 'spa', post_logout_redirect_uri: 'https://app.example/bye' })).headers.get('Location')).toBe('https://app.example/bye');
    const plain = await endSession({});
    expect([plain.status, await plain.text()]).toEqual([200, expect.stringContaining('signed out')]);
    expect(server.stats.endSessions).toBe(2);
    expect((await api(tokens.access_token)).status).toBe(200);
  });
});

describe('clock skew and token shapes', () => {
  it('a server clock ahead: the Date header, iat/exp and expires_at all say the server time', async () => {
    await start({ clockOffsetSeconds: 600, expiry: 'expires_at' });
    const before = Math.floor(Date.now() / 1000);
    const response = await postForm(`${origin}/oauth/token`, { grant_type: 'password', username: 'alice', password: 'alice-password' });
    const body = (await response.json()) as Record<string, number>;
    const date = Date.parse(response.headers.get('Date')!) / 1000;
    expect(date - before).toBeGreaterThanOrEqual(599);
    expect(date - before).toBeLessThanOrEqual(602);
    expect(body.expires_in).toBeUndefined();
    expect(body.expires_at! - before - 600 - 60).toBeGreaterThanOrEqual(-1);
    expect(body.expires_at! - before - 600 - 60).toBeLessThanOrEqual(2);
    // every response, errors and preflights included
    for (const other of [await fetch(`${origin}/nothing`), await fetch(`${origin}/oauth/token`, { method: 'OPTIONS' })]) {
      expect(Math.abs(Date.parse(other.headers.get('Date')!) / 1000 - date)).toBeLessThanOrEqual(2);
    }
  });

  it('a server clock behind: its ID token is expired to a client that ignores the skew, valid to one that corrects it', async () => {
    await start({ clockOffsetSeconds: -7200 });
    const as = await discover();
    const response = async () => {
      const { verifier, challenge } = await pkce();
      const callback = new URL(server.authorize({ redirect_uri: redirectUri(), code_challenge: challenge, scope: 'openid' }));
      return exchange(as, callback, verifier, oauth.expectNoState);
    };
    await expect(oauth.processAuthorizationCodeResponse(as, client, await response())).rejects.toMatchObject({ code: oauth.JWT_TIMESTAMP_CHECK });
    const corrected: oauth.Client = { ...client, [oauth.clockSkew]: -7200 };
    const tokens = await oauth.processAuthorizationCodeResponse(as, corrected, await response());
    const claims = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(Math.abs(claims.iat - (Date.now() / 1000 - 7200))).toBeLessThanOrEqual(2);
    expect((await api(tokens.access_token)).status).toBe(200); // the server's own expiry check uses its clock too
  });

  it('the server decides expiry on its clock: moving the offset (method or /__control/clock) expires a token', async () => {
    await start({ httpControl: true });
    const login = server.issueLogin();
    server.setClockOffset(30);
    expect((await api(String(login['access_token']))).status).toBe(200);
    const moved = await fetch(`${origin}/__control/clock`, { method: 'POST', body: JSON.stringify({ offsetSeconds: 61 }) });
    expect(moved.status).toBe(200);
    expect((await api(String(login['access_token']))).status).toBe(401);
    expect((await fetch(`${origin}/__control/clock`, { method: 'POST', body: '{"offsetSeconds":"soon"}' })).status).toBe(400);
  });

  it('jwtAccessTokens: RFC 9068 access tokens that oauth4webapi validates and the API accepts', async () => {
    await start({ jwtAccessTokens: true, clockOffsetSeconds: 5 });
    const as = await discover();
    const token = String(server.issueLogin('bob')['access_token']);
    const request = new Request(`${origin}/api/data`, { headers: { Authorization: `Bearer ${token}` } });
    const claims = await oauth.validateJwtAccessToken(as, request, `${origin}/api`, insecure);
    expect(claims).toMatchObject({ iss: origin, sub: 'bob', client_id: 'spa', jti: expect.any(String) });
    expect(claims.exp - claims.iat).toBe(60);
    expect(Math.abs(claims.iat - (Date.now() / 1000 + 5))).toBeLessThanOrEqual(2);
    expect((await api(token)).status).toBe(200);
    expect((await api(`${token.slice(0, -4)}AAAA`)).status).toBe(401);
  });

  it.each([
    [{ expiry: 'both' }, ['expires_in', 'expires_at']],
    [{ expiry: 'none' }, []],
    [{ omitExpiresIn: true }, []],
    [{}, ['expires_in']],
  ] as const)('expiry %o sends %o', async (options, fields) => {
    await start(options);
    const body = server.issueLogin();
    expect(['expires_in', 'expires_at'].filter((field) => field in body)).toEqual(fields);
  });
});
