import type { Page } from '@playwright/test';
import { startRealProvider, type RealProvider } from '../server/real-provider.js';
import type { TokenServer } from '../server/token-server.js';
import type { ErrorResult } from './fixture/page.js';
import { call, events, expect, openTab, stopWorkers, test, workerConfig, type WorkerConfig } from './helpers.js';

// Sign-in run by the worker (oidcSignIn): the page never holds the code, the verifier or a token.

/** The worker signs in at `issuer`; its token and revocation endpoints come from discovery. */
const signInConfig = (issuer: string, extra: WorkerConfig = {}): WorkerConfig => ({
  signIn: { issuer, clientId: 'spa', redirectUri: '/callback', scope: 'openid offline_access' },
  ...extra,
});

/** Every URL a tab committed to, to show that none of them carried the code. */
function watchUrls(page: Page): string[] {
  const seen: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) seen.push(frame.url());
  });
  return seen;
}

/**
 * Starts the sign-in from `page` and resolves once the page has left for the provider. A sign-in the worker
 * refuses never navigates: this then fails at once with the error that tp.leave kept.
 */
async function startSignIn(page: Page, returnTo: string): Promise<void> {
  const from = page.url();
  await page.evaluate((to) => window.tp.leave(() => window.tp.proxy.signIn({ returnTo: to })), returnTo);
  const refused = page
    .waitForFunction(() => (window.tp?.leftWith()?.settled as ErrorResult | null | undefined)?.error, undefined, { polling: 100, timeout: 15_000 })
    .then(async (error) => {
      throw new Error(`signIn was refused: ${JSON.stringify(await error.jsonValue())}`);
    });
  await Promise.race([page.waitForURL((url) => url.href !== from), refused]);
}

/** Starts the sign-in from `page` and fills the provider's login form; resolves once back on the app. */
async function signIn(page: Page, returnTo: string, user = 'alice'): Promise<void> {
  await startSignIn(page, returnTo);
  await page.waitForSelector('#username');
  await page.fill('#username', user);
  await page.fill('#password', `${user}-password`);
  await page.click('#sign-in');
  await page.waitForURL((url) => url.href.startsWith(new URL(returnTo, page.url()).origin) && !url.pathname.startsWith('/oauth') && !url.pathname.startsWith('/interaction'));
  await page.waitForFunction(() => typeof window.tp !== 'undefined');
  expect(await page.evaluate(() => window.tp.leftWith())).toEqual({ settled: null }); // signIn resolved: no error kept
}

/**
 * Where the provider sends the browser back, read on the way: the decision's redirect is fetched by the
 * test and handed to the browser unchanged (or, with `land`, the page is made to sit on that URL itself).
 */
async function captureCallback(page: Page, land?: 'page-loads-it-itself'): Promise<() => string> {
  let location = '';
  await page.context().route('**/oauth/authorize/decision', async (route) => {
    const response = await route.fetch({ maxRedirects: 0 });
    location = response.headers()['location'] ?? '';
    if (land === undefined) return route.fulfill({ response });
    // The callback page loaded without the worker seeing that navigation (a hard reload of it).
    const body = `<!doctype html><script>history.replaceState(null, '', ${JSON.stringify(location)})</script><script type="module" src="/page.js"></script>`;
    return route.fulfill({ status: 200, contentType: 'text/html', body });
  });
  return () => location;
}

/** The app's page after landing: the test page, started again with the same worker config. */
async function restart(page: Page, config: WorkerConfig): Promise<void> {
  await page.waitForFunction(() => window.tp !== undefined);
  expect(await page.evaluate((c) => window.tp.start(c), workerConfig(config))).toBe(true);
}

const statusOf = (page: Page) => page.evaluate(() => window.tp.proxy.status());

test.describe('against node-oidc-provider (a certified OpenID provider)', () => {
  let provider: RealProvider;
  test.afterEach(() => provider?.close());
  const start = async (server: TokenServer, options: Partial<Parameters<typeof startRealProvider>[0]> = {}) => {
    provider = await startRealProvider({ redirectUris: [`${server.origin}/callback`], postLogoutRedirectUris: [`${server.origin}/`], accessTokenTtlSeconds: 4, ...options });
    return provider;
  };
  const apiAt = (p: RealProvider) => ({ api: [{ origin: new URL(p.issuer).origin, pathPrefix: '/api' }] });

  test('full sign-in, the code never in a URL the page committed to, then one rotation for two tabs at expiry', async ({ context, server }) => {
    const p = await start(server);
    const config = signInConfig(p.issuer, apiAt(p));
    const tab1 = await openTab(context, server, config);
    const tab2 = await openTab(context, server, config);
    const urls = watchUrls(tab1);
    await signIn(tab1, '/?landed=1');
    expect(new URL(tab1.url()).search).toBe('?landed=1');
    expect(urls.filter((url) => /[?&]code=/.test(url))).toEqual([]);
    expect(server.requests.some((r) => r.path.startsWith('/callback'))).toBe(false); // the worker answered it
    await restart(tab1, config);
    expect(await statusOf(tab1)).toMatchObject({ loggedIn: true });
    await expect.poll(async () => (await events(tab2)).map((e) => e.type)).toContain('logged-in');
    expect((await call(tab2, `${p.issuer}/api/me`)).status).toBe(200);
    expect(p.stats.tokenRequests['authorization_code']).toEqual({ success: 1, error: 0 });

    // The access token dies: both tabs call at once, one refresh at the provider serves them.
    const { expiresAt } = await statusOf(tab2);
    await tab2.waitForFunction((t) => Date.now() >= t, expiresAt!, { polling: 50 });
    const statuses = (await Promise.all([tab1, tab2].map((tab) => tab.evaluate((url) => Promise.all(Array.from({ length: 10 }, () => fetch(url).then((r) => r.status))), `${p.issuer}/api/me`)))).flat();
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(p.stats.tokenRequests['refresh_token']).toEqual({ success: 1, error: 0 });
    expect([p.stats.refreshReuse, p.errors]).toEqual([0, []]);
  });

  test('a DPoP-bound sign-in: the code exchange and every API call carry proofs of the worker\'s key', async ({ context, server }) => {
    const p = await start(server, { dpop: 'required' });
    const config = signInConfig(p.issuer, { ...apiAt(p), dpop: true });
    const tab = await openTab(context, server, config);
    await signIn(tab, '/');
    await restart(tab, config);
    expect((await call(tab, `${p.issuer}/api/me`)).status).toBe(200);
    const exchanges = p.requests.filter((r) => r.method === 'POST' && r.path === '/token');
    expect(exchanges.length).toBeGreaterThan(0);
    expect(exchanges.every((r) => r.dpop)).toBe(true);
    expect(p.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/api/')).every((r) => r.dpop)).toBe(true);
    expect(p.stats.api.authorized).toBe(1);
  });

  test('RP-initiated logout: local logout in every tab, the refresh token revoked, then the provider\'s logout and back', async ({ context, server }) => {
    const p = await start(server, { autoLogin: 'alice', autoLogout: true });
    const config = signInConfig(p.issuer, { ...apiAt(p), signIn: { issuer: p.issuer, clientId: 'spa', redirectUri: '/callback', scope: 'openid', postLogoutRedirectUri: `${server.origin}/` } });
    const tab = await openTab(context, server, config);
    const other = await openTab(context, server, config);
    await startSignIn(tab, '/?in');
    await tab.waitForURL((url) => url.search === '?in');
    await restart(tab, config);
    const urls = watchUrls(tab);
    await tab.evaluate(() => window.tp.leave(() => window.tp.proxy.logout({ endSession: true })));
    await expect.poll(async () => (await events(other)).map((e) => e.type)).toContain('logged-out');
    await tab.waitForURL((url) => url.origin === server.origin && url.pathname === '/' && url.search === '');
    await tab.waitForFunction(() => typeof window.tp !== 'undefined');
    expect(await tab.evaluate(() => window.tp.leftWith())).toMatchObject({ settled: { revoked: true, endingSession: true } });
    expect(p.stats.endSessions).toBe(1);
    expect(p.stats.revocations).toBe(1);
    // The hint went to the provider through the worker's hop: no page of the app ever had it in its URL.
    expect(urls.filter((url) => new URL(url).origin === server.origin && url.includes('id_token_hint'))).toEqual([]);
  });
});

test.describe('against the test server\'s provider', () => {
  const config = (server: TokenServer, extra: WorkerConfig = {}) => signInConfig(server.origin, extra);

  test('two tabs signing in at once: each completes its own sign-in, one code grant each, no reuse', async ({ context, server }) => {
    const [tab1, tab2] = [await openTab(context, server, config(server)), await openTab(context, server, config(server))];
    await Promise.all([startSignIn(tab1, '/?one'), startSignIn(tab2, '/?two')]);
    for (const [tab, user] of [[tab1, 'alice'], [tab2, 'bob']] as const) {
      await tab.waitForSelector('#username');
      await tab.fill('#username', user);
      await tab.fill('#password', `${user}-password`);
    }
    await Promise.all([tab1.click('#sign-in'), tab2.click('#sign-in')]);
    await tab1.waitForURL((url) => url.search === '?one');
    await tab2.waitForURL((url) => url.search === '?two');
    expect([server.stats.codeGrants, server.stats.codeReuse]).toEqual([2, 0]);
    await restart(tab1, config(server));
    expect(await statusOf(tab1)).toMatchObject({ loggedIn: true });
  });

  test('a cancelled sign-in (access_denied) lands on returnTo with a typed error and changes nothing', async ({ context, server }) => {
    const tab = await openTab(context, server, config(server));
    await startSignIn(tab, '/?cancelled');
    await tab.waitForSelector('#cancel');
    await tab.click('#cancel');
    await tab.waitForURL((url) => url.search === '?cancelled');
    await restart(tab, config(server));
    expect(await statusOf(tab)).toMatchObject({ loggedIn: false, lastError: { code: 'sign-in-rejected', message: expect.stringContaining('access_denied') } });
    expect(server.stats.codeGrants).toBe(0);
  });

  test('forged, replayed, expired and state-mismatched callbacks never reach the token endpoint and never log out', async ({ context, server }) => {
    const tab = await openTab(context, server, config(server));
    const urls = watchUrls(tab);
    const callback = await captureCallback(tab);
    await signIn(tab, '/?first');
    await restart(tab, config(server));
    expect(server.stats.codeGrants).toBe(1);
    const issued = callback();
    expect(issued).toContain('code=');
    expect(urls).not.toContain(issued); // the page never committed to it: the worker answered

    const tryCallback = async (url: string, why: string) => {
      await tab.goto(url);
      await restart(tab, config(server));
      const status = await statusOf(tab);
      expect(status, why).toMatchObject({ loggedIn: true, lastError: { code: 'sign-in-invalid' } });
    };
    await tryCallback(issued, 'replayed');
    const forged = new URL(issued);
    forged.searchParams.set('state', 'forged-state');
    await tryCallback(forged.href, 'state mismatch');
    const foreign = new URL(issued);
    foreign.searchParams.set('iss', 'https://evil.test');
    await tryCallback(foreign.href, 'foreign issuer (no sign-in started with that state, either)');
    expect([server.stats.codeGrants, server.stats.codeReuse]).toEqual([1, 0]);
    expect((await call(tab, '/api/data')).status).toBe(200);
  });

  test('an expired sign-in is refused at the callback: nothing exchanged', async ({ context, server }) => {
    const tab = await openTab(context, server, config(server, { signIn: { issuer: server.origin, clientId: 'spa', redirectUri: '/callback', transactionLifetimeSeconds: 1 } }));
    await startSignIn(tab, '/?late');
    await tab.waitForSelector('#username');
    const startedAt = Date.now();
    await tab.waitForFunction((t) => Date.now() > t + 1100, startedAt, { polling: 100 });
    await tab.fill('#username', 'alice');
    await tab.fill('#password', 'alice-password');
    await tab.click('#sign-in');
    await tab.waitForURL((url) => url.origin === server.origin && url.pathname === '/' && !url.search.includes('code'));
    await restart(tab, config(server, { signIn: { issuer: server.origin, clientId: 'spa', redirectUri: '/callback', transactionLifetimeSeconds: 1 } }));
    expect(await statusOf(tab)).toMatchObject({ loggedIn: false, lastError: { code: 'sign-in-invalid', message: expect.stringContaining('expired') } });
    expect(server.stats.codeGrants).toBe(0);
  });

  test('a returnTo of another origin is refused before anything is kept', async ({ context, server }) => {
    const tab = await openTab(context, server, config(server));
    const refused = await tab.evaluate(() => window.tp.attempt(() => window.tp.proxy.signIn({ returnTo: 'https://evil.test/' })));
    expect(refused).toMatchObject({ error: { code: 'bad-message', field: 'returnTo' } });
    expect(new URL(tab.url()).origin).toBe(server.origin);
    expect(server.stats.authorizationRequests).toBe(0);
  });

  test('the worker stopped between the start and the callback: the sign-in completes from IndexedDB', async ({ context, server }) => {
    const tab = await openTab(context, server, config(server));
    await startSignIn(tab, '/?after-restart');
    await tab.waitForSelector('#username');
    await stopWorkers(tab);
    await tab.fill('#username', 'alice');
    await tab.fill('#password', 'alice-password');
    await tab.click('#sign-in');
    await tab.waitForURL((url) => url.search === '?after-restart');
    await restart(tab, config(server));
    expect(await statusOf(tab)).toMatchObject({ loggedIn: true });
    expect(server.stats.codeGrants).toBe(1);
  });

  test('a callback the worker did not see (the page loaded it itself) is completed by registerTokenProxy, and the code leaves the URL', async ({ context, server }) => {
    const tab = await openTab(context, server, config(server));
    await startSignIn(tab, '/?completed');
    await tab.waitForSelector('#username');
    const callback = await captureCallback(tab, 'page-loads-it-itself');
    await tab.fill('#username', 'alice');
    await tab.fill('#password', 'alice-password');
    await tab.click('#sign-in');
    await tab.waitForURL((url) => url.pathname === '/callback');
    expect(callback()).toContain('code=');
    await tab.waitForFunction(() => window.tp !== undefined);
    void tab.evaluate((c) => window.tp.start(c), workerConfig(config(server))).catch(() => undefined); // the page goes away
    await tab.waitForURL((url) => url.search === '?completed');
    await restart(tab, config(server));
    expect(await statusOf(tab)).toMatchObject({ loggedIn: true });
    expect(server.stats.codeGrants).toBe(1);
  });
});
