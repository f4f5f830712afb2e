import type { Page } from '@playwright/test';
import { call, events, expect, login, openTab, openTabs, stopWorkers, test } from './helpers.js';

test.describe('session events in every tab', () => {
  test('login in tab 1 → tabs 2 and 3 hear logged-in; logout in tab 2 → tabs 1 and 3 hear logged-out in < 100 ms, and their calls carry no token', async ({ context, server }) => {
    const [tab1, tab2, tab3] = (await openTabs(3, context, server)) as [Page, Page, Page];
    await login(tab1);
    for (const tab of [tab2, tab3]) {
      await expect.poll(async () => (await events(tab)).map((e) => e.type)).toContain('logged-in');
    }
    expect((await call(tab3, '/api/data')).status).toBe(200);

    const calledAt = await tab2.evaluate(async () => {
      const started = Date.now();
      await window.tp.proxy.logout();
      return started;
    });
    const delays: number[] = [];
    for (const tab of [tab1, tab3]) {
      await expect.poll(async () => (await events(tab)).some((e) => e.type === 'logged-out')).toBe(true);
      const heard = (await events(tab)).find((e) => e.type === 'logged-out')!;
      expect(heard).toMatchObject({ reason: 'user' });
      delays.push(heard.receivedAt - calledAt);
    }
    console.log(`logout propagation: ${delays.join(' ms, ')} ms`);
    for (const delay of delays) expect(delay).toBeLessThan(100);

    for (const tab of [tab1, tab3]) {
      expect((await call(tab, '/api/data')).status).toBe(401);
      expect(server.apiRequests().at(-1)!.authorization).toBeNull();
    }
  });

  test('logout revokes the refresh token at the server (RFC 7009); a failing revocation still logs out and says so', async ({ context, server }) => {
    const tab = await openTab(context, server);
    await login(tab);
    expect(await tab.evaluate(() => window.tp.proxy.logout())).toEqual({ revoked: true });
    expect(server.stats.revocations).toBe(1);

    await login(tab);
    server.fail('revoke', '503');
    const result = await tab.evaluate(() => window.tp.proxy.logout());
    expect(result).toMatchObject({ revoked: false, error: { code: 'revocation-failed' } });
    expect((await tab.evaluate(() => window.tp.proxy.status())).loggedIn).toBe(false);

    await login(tab);
    expect(await tab.evaluate(() => window.tp.proxy.logout({ revoke: false }))).toEqual({ revoked: false });
    expect(server.stats.revocations).toBe(1);
  });
});

test.describe('robust to worker life', () => {
  test('after stopAllWorkers, status() and logout() from an existing page resolve within 2 s', async ({ context, server }) => {
    const [tab1, tab2] = (await openTabs(2, context, server)) as [Page, Page];
    await login(tab1);
    await stopWorkers(tab1);
    const timed = (page: Page, run: 'status' | 'logout') =>
      page.evaluate(async (which) => {
        const started = performance.now();
        const value = which === 'status' ? await window.tp.proxy.status() : await window.tp.proxy.logout();
        return { value, ms: performance.now() - started };
      }, run);
    const status = await timed(tab2, 'status');
    expect(status.value).toMatchObject({ loggedIn: true });
    expect(status.ms).toBeLessThan(2000);
    await stopWorkers(tab1);
    const logout = await timed(tab1, 'logout');
    expect(logout.ms).toBeLessThan(2000);
    expect((await timed(tab2, 'status')).value).toMatchObject({ loggedIn: false });
    console.log(`after stop: status ${status.ms.toFixed(0)} ms, logout ${logout.ms.toFixed(0)} ms`);
  });
});

test.describe('uncontrolled pages', () => {
  test('after Shift+Reload the page is claimed without a reload loop', async ({ context, server }) => {
    const tab = await openTab(context, server);
    await login(tab);
    let navigations = 0;
    tab.on('framenavigated', (frame) => {
      if (frame === tab.mainFrame()) navigations++;
    });
    const cdp = await context.newCDPSession(tab);
    await cdp.send('Page.reload', { ignoreCache: true }); // what Shift+Reload does: bypasses the worker
    await tab.waitForFunction(() => window.tp !== undefined);
    expect(await tab.evaluate(() => window.tp.controlled())).toBe(false);
    const started = await tab.evaluate(() => window.tp.start({ api: ['/api'], tokenEndpoint: '/oauth/token' }));
    expect(started).toBe(true);
    expect(await tab.evaluate(() => window.tp.controlled())).toBe(true);
    expect(navigations).toBe(1); // the hard reload itself, and nothing more
    expect((await call(tab, '/api/data')).status).toBe(200);
  });

  test('when control cannot be had, the page reloads once and then rejects with not-controlled', async ({ context, server }) => {
    const tab = await context.newPage();
    await tab.goto(`${server.origin}/`);
    let navigations = 0;
    tab.on('framenavigated', (frame) => {
      if (frame === tab.mainFrame()) navigations++;
    });
    const config = { api: ['/api'], tokenEndpoint: '/oauth/token' };
    // A worker scoped to /elsewhere/ can never control this page.
    const first = tab.evaluate((c) => window.tp.start(c, { scope: '/elsewhere/', controlTimeoutMs: 500 }), config);
    await expect(first).rejects.toThrow(); // the page went away: one guarded reload
    await tab.waitForFunction(() => window.tp !== undefined);
    const second = await tab.evaluate((c) => window.tp.start(c, { scope: '/elsewhere/', controlTimeoutMs: 500 }), config);
    expect(second).toMatchObject({ error: { name: 'TokenProxyError', code: 'not-controlled' } });
    expect(navigations).toBe(1);
  });

  test('a worker script that cannot be registered rejects with registration-failed', async ({ context, server }) => {
    const tab = await context.newPage();
    await tab.goto(`${server.origin}/`);
    await tab.waitForFunction(() => window.tp !== undefined);
    const result = await tab.evaluate(() => window.tp.register('/no-such-worker.js'));
    expect(result).toMatchObject({ error: { name: 'TokenProxyError', code: 'registration-failed' } });
  });
});

test.describe('login validation', () => {
  // Payloads as source text, built inside the page: large and deep values never cross the test protocol.
  const malformed: Array<[string, string, string]> = [
    ['missing access_token', `{ refresh_token: 'r', expires_in: 60 }`, 'access_token'],
    ['empty access_token', `{ access_token: '', expires_in: 60 }`, 'access_token'],
    ['access_token as a number', `{ access_token: 12345, expires_in: 60 }`, 'access_token'],
    ['access_token as an object', `{ access_token: { nested: 'x' } }`, 'access_token'],
    ['access_token with CRLF', `{ access_token: 'abc\\r\\nSet-Cookie: x=1' }`, 'access_token'],
    ['a 5 MB access_token', `{ access_token: 'x'.repeat(5 * 1024 * 1024) }`, 'access_token'],
    ['negative expires_in', `{ access_token: 'a', expires_in: -1 }`, 'expires_in'],
    ['huge expires_in', `{ access_token: 'a', expires_in: 1e15 }`, 'expires_in'],
    ['expires_in as words', `{ access_token: 'a', expires_in: 'one hour' }`, 'expires_in'],
    ['expires_in as an array', `{ access_token: 'a', expires_in: [3600] }`, 'expires_in'],
    ['expires_in as a boolean', `{ access_token: 'a', expires_in: true }`, 'expires_in'],
    ['token_type MAC', `{ access_token: 'a', token_type: 'MAC' }`, 'token_type'],
    ['token_type as a number', `{ access_token: 'a', token_type: 7 }`, 'token_type'],
    ['refresh_token as a number', `{ access_token: 'a', refresh_token: 99 }`, 'refresh_token'],
    ['empty refresh_token', `{ access_token: 'a', refresh_token: '' }`, 'refresh_token'],
    ['scope as an array', `{ access_token: 'a', scope: ['read'] }`, 'scope'],
    ['null', `null`, 'response'],
    ['a string', `'access_token=a'`, 'response'],
    ['an array', `[{ access_token: 'a' }]`, 'response'],
    ['deep junk beside a bad token', `{ access_token: false, junk: JSON.parse('{"a":'.repeat(2000) + '1' + '}'.repeat(2000)) }`, 'access_token'],
    ['a function-free proxy-looking object', `{ access_token: { toString() { return 'x'; } } }`, 'access_token'],
  ];

  test(`${malformed.length} malformed payloads → each a typed error naming the field, the session unchanged`, async ({ context, server }) => {
    const tab = await openTab(context, server);
    await login(tab);
    const before = await tab.evaluate(() => window.tp.proxy.status());
    for (const [name, source, field] of malformed) {
      const result = await tab.evaluate(
        (src) => window.tp.attempt(() => window.tp.proxy.login(new Function(`return (${src});`)() as never)),
        source,
      );
      expect(result, name).toMatchObject({ error: { name: 'TokenProxyError', code: 'invalid-token-response', field } });
    }
    expect(await tab.evaluate(() => window.tp.proxy.status())).toEqual(before);
    expect((await call(tab, '/api/data')).status).toBe(200);
    expect((await events(tab)).filter((e) => e.type === 'logged-in')).toHaveLength(1);
  });

  test('numbers as strings and unknown fields are accepted', async ({ context, server }) => {
    const tab = await openTab(context, server);
    const response = await tab.evaluate(() => window.tp.tokenResponse());
    const status = await tab.evaluate(
      (r) => window.tp.proxy.login({ ...r, expires_in: '120', token_type: 'bearer', id_token: 'ignored', extra: { deep: [1, 2] } } as never),
      response,
    );
    expect(status.loggedIn).toBe(true);
    expect(status.expiresAt! - Date.now()).toBeGreaterThan(100_000);
    expect(JSON.stringify(status)).not.toContain(String(response['access_token']));
    expect((await call(tab, '/api/data')).status).toBe(200);
  });
});
