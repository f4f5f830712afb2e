import type { BrowserContext, Page } from '@playwright/test';
import type { TokenServer } from '../server/token-server.js';
import { call, events, expect, login, test, workerConfig } from './helpers.js';

// Two apps on one origin, each with its own worker under its own scope (/shop/ and /admin/): they never
// share a session, a refresh lock, events or an outbox.

async function openApp(context: BrowserContext, server: TokenServer, app: 'shop' | 'admin'): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${server.origin}/${app}/index.html`);
  await page.waitForFunction(() => window.tp !== undefined);
  const started = await page.evaluate(([c, scope]) => window.tp.start(c, { scope }), [workerConfig({ outbox: {} }), `/${app}/`] as const);
  expect(started).toBe(true);
  return page;
}

test('login, events, refresh locks, logout and queued writes stay in their own app', async ({ context, server }) => {
  const shop = await openApp(context, server, 'shop');
  const shop2 = await openApp(context, server, 'shop');
  const admin = await openApp(context, server, 'admin');
  expect(await shop.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.scope)).toMatch(/\/shop\/$/);
  expect(await admin.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.scope)).toMatch(/\/admin\/$/);

  await login(shop, 'alice');
  await expect.poll(async () => (await events(shop2)).map((e) => e.type)).toContain('logged-in'); // the shop's other tab
  expect(await admin.evaluate(() => window.tp.proxy.status())).toMatchObject({ loggedIn: false });
  expect((await call(admin, '/api/data')).status).toBe(401); // no token for the admin app
  await login(admin, 'bob');
  expect(JSON.parse((await call(shop, '/api/data')).body).user).toBe('alice');
  expect(JSON.parse((await call(admin, '/api/data')).body).user).toBe('bob');

  // Refresh locks: both apps refresh at once (a slow token endpoint), each under its own Web Lock.
  server.revokeAccessTokens();
  server.fail('refresh', 'slow', { count: 2, delayMs: 1500 });
  const refreshing = [call(shop, '/api/data'), call(admin, '/api/data')];
  await expect
    .poll(() => shop.evaluate(async () => ((await navigator.locks.query()).held ?? []).map((lock) => lock.name).sort()))
    .toEqual(['sw-token-proxy:/admin/:refresh', 'sw-token-proxy:/shop/:refresh']);
  expect((await Promise.all(refreshing)).map((r) => r.status)).toEqual([200, 200]);
  expect(server.stats).toMatchObject({ refreshGrants: 2, reuseDetections: 0 });

  // Offline writes: each app's outbox is its own.
  server.cutNetwork(true);
  expect((await call(shop, '/api/notes', { method: 'POST', body: '{"from":"shop"}' })).status).toBe(202);
  expect(await admin.evaluate(() => window.tp.proxy.outbox())).toEqual([]);
  expect(await shop.evaluate(() => window.tp.proxy.outbox())).toHaveLength(1);
  server.cutNetwork(false);
  expect((await call(shop, '/api/data')).status).toBe(200); // the shop's next call delivers the shop's write
  await expect.poll(async () => (await events(shop2)).map((e) => e.type)).toContain('replayed');
  expect(server.apiRequests().filter((r) => r.method === 'POST').map((r) => [r.body, JSON.parse(r.body!).from])).toEqual([['{"from":"shop"}', 'shop']]);

  // The admin app logs out: the shop hears nothing and stays logged in.
  await admin.evaluate(() => window.tp.proxy.logout());
  expect(await shop.evaluate(() => window.tp.proxy.status())).toMatchObject({ loggedIn: true });
  expect((await events(shop)).filter((e) => e.type === 'logged-out')).toEqual([]);
  expect((await events(admin)).map((e) => e.type)).not.toContain('queued'); // the shop's outbox events stayed in the shop
  expect((await events(admin)).map((e) => e.type)).not.toContain('replayed');
  // Each app has its own database; the root-scope name (0.2's) belongs to neither.
  const names = await shop.evaluate(async () => (await indexedDB.databases()).map((d) => d.name).sort());
  expect(names).toEqual(['sw-token-proxy:/admin/', 'sw-token-proxy:/shop/']);
});
