import { call, expect, login, test } from './helpers.js';

test.describe('a plain sw.js with the drop-in worker (no bundler)', () => {
  test('importScripts the drop-in and five lines: tokens on API calls, refresh, logout', async ({ page, server }) => {
    await page.goto(`${server.origin}/`);
    expect(await page.evaluate(() => window.tp.register('/dropin-sw.js'))).toBe(true);
    await login(page);
    expect((await call(page, '/api/data')).status).toBe(200);
    expect(server.apiRequests().at(-1)!.tokenValid).toBe(true);
    server.revokeAccessTokens();
    expect((await call(page, '/api/data')).status).toBe(200); // 401 → one refresh → replay
    expect(server.stats.refreshGrants).toBe(1);
    expect(await page.evaluate(() => window.tp.proxy.logout())).toEqual({ revoked: true });
    expect((await call(page, '/api/data')).status).toBe(401);
  });

  test('a fetch listener added before the library answers first (Chromium runs them in the order added and stops at the first answer): nothing goes out twice, the rest goes through the proxy', async ({ page, server }) => {
    await page.goto(`${server.origin}/`);
    expect(await page.evaluate(() => window.tp.register('/dropin-late-sw.js'))).toBe(true);
    await login(page);
    for (let i = 0; i < 2; i++) expect(await call(page, '/api/early')).toMatchObject({ status: 200, body: 'answered by the earlier listener' });
    expect((await call(page, '/api/data')).status).toBe(200); // what that listener leaves alone is the proxy's
    expect(server.apiRequests().map((r) => [r.path, r.tokenValid])).toEqual([['/api/data', true]]);
  });

  test('a config mistake fails the worker install loudly: registration-failed, and no API call is touched', async ({ page, server }) => {
    await page.goto(`${server.origin}/`);
    const result = await page.evaluate(() => window.tp.register('/dropin-bad-sw.js'));
    expect(result).toMatchObject({ error: { code: 'registration-failed' } });
    expect(await page.evaluate(() => navigator.serviceWorker.controller)).toBeNull();
  });
});

test.describe('beside workbox in one worker', () => {
  for (const order of ['workbox-first', 'proxy-first'] as const) {
    test(`${order}: API calls reach the proxy (token, never workbox's cache), other routes reach workbox`, async ({ page, server }) => {
      await page.goto(`${server.origin}/`);
      expect(await page.evaluate((o) => window.tp.register(`/workbox-sw.js?order=${o}`), order)).toBe(true);
      await login(page);
      for (let i = 0; i < 3; i++) expect((await call(page, '/api/data')).status).toBe(200);
      expect(server.apiRequests().filter((r) => r.tokenValid).length).toBe(3);
      expect(server.stats.api.anonymous).toBe(0);
      // workbox's own route answers what is not the proxy's: CacheFirst keeps the file
      expect(await call(page, '/static/hello.txt')).toMatchObject({ status: 200, body: 'static file served by workbox\n' });
      // CacheFirst hands the response over before its cache write (a waitUntil) is done: wait for the write.
      const staticEntries = () => page.evaluate(async () => (await (await caches.open('workbox-static')).keys()).map((r) => new URL(r.url).pathname));
      await expect.poll(staticEntries, { timeout: 5000 }).toEqual(['/static/hello.txt']);
      expect(await page.evaluate(() => caches.keys())).not.toContain('workbox-api'); // its API route never ran
    });
  }
});

test.describe('a workbox strategy on an API route (apiStrategies)', () => {
  test('NetworkFirst with tokens: refreshed when rejected, served from cache offline, never to another session', async ({ page, server }) => {
    await page.goto(`${server.origin}/`);
    expect(await page.evaluate(() => window.tp.register('/strategies-sw.js'))).toBe(true);
    await login(page, 'alice');
    const alice = await call(page, '/api/data');
    expect([alice.status, JSON.parse(alice.body).user]).toEqual([200, 'alice']);
    expect(server.apiRequests().at(-1)!.tokenValid).toBe(true);

    // the API rejects the token: one refresh, the strategy's fetch is sent once more
    server.revokeAccessTokens();
    expect((await call(page, '/api/data')).status).toBe(200);
    expect(server.stats.refreshGrants).toBe(1);

    // network gone: NetworkFirst answers from this session's cache
    server.cutNetwork(true);
    const cached = await call(page, '/api/data');
    expect([cached.status, JSON.parse(cached.body).user]).toEqual([200, 'alice']);
    server.cutNetwork(false);

    // another session never gets alice's cached answer: logout deletes the cache
    await page.evaluate(() => window.tp.proxy.logout());
    expect(await page.evaluate(() => caches.has('api-data'))).toBe(false);
    await login(page, 'bob');
    server.cutNetwork(true);
    const offline = await call(page, '/api/data');
    expect(offline.status).not.toBe(200);
    expect(offline.body).not.toContain('alice');
    server.cutNetwork(false);
    expect(JSON.parse((await call(page, '/api/data')).body).user).toBe('bob');
  });
});
