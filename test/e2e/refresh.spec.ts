import type { Page } from '@playwright/test';
import type { TokenServer } from '../server/token-server.js';
import { call, events, expect, login, openTab, openTabs, startServer, stopWorkers, test, waitUntilExpired } from './helpers.js';

/** `perTab` concurrent API calls from every tab at once; resolves with every status. */
async function storm(pages: Page[], perTab: number, path = '/api/data'): Promise<number[]> {
  const results = await Promise.all(
    pages.map((page) =>
      page.evaluate(
        ([n, p]) => Promise.all(Array.from({ length: n }, () => fetch(p).then((r) => r.status, () => 0))),
        [perTab, path] as const,
      ),
    ),
  );
  return results.flat();
}

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

test.describe('storm at expiry', () => {
  test.use({ serverOptions: { accessTokenTtlSeconds: 3 } });

  test('5 tabs × 40 concurrent calls at expiry → exactly 1 refresh grant per cycle, 0 reuse, 200/200, over 5 cycles', async ({ context, server }) => {
    const tabs = await openTabs(5, context, server);
    await login(tabs[0]!);
    for (let cycle = 1; cycle <= 5; cycle++) {
      await waitUntilExpired(tabs[0]!);
      const statuses = await storm(tabs, 40);
      expect(count(statuses, 200), `cycle ${cycle}`).toBe(200);
      expect(server.stats.refreshGrants, `cycle ${cycle}`).toBe(cycle);
      expect(server.stats.reuseDetections).toBe(0);
    }
    expect(server.stats.api.unauthorized + server.stats.api.anonymous).toBe(0);
  });

  test('the worker is killed between cycles → still one grant per cycle, no reuse, session kept', async ({ context, server }) => {
    const tabs = await openTabs(3, context, server);
    await login(tabs[0]!);
    for (let cycle = 1; cycle <= 4; cycle++) {
      await stopWorkers(tabs[0]!);
      await waitUntilExpired(tabs[cycle % 3]!);
      const statuses = await storm(tabs, 20);
      expect(count(statuses, 200), `cycle ${cycle}`).toBe(60);
      expect(server.stats.refreshGrants).toBe(cycle);
      expect(server.stats.reuseDetections).toBe(0);
    }
  });
});

async function killDuringCommittedRefresh(server: TokenServer, tabs: Page[]) {
  await login(tabs[0]!);
  await waitUntilExpired(tabs[0]!);
  server.fail('refresh', 'slow', { delayMs: 4000 });
  const pending = call(tabs[0]!, '/api/data');
  // The server has rotated; its answer is still on the way when the worker dies.
  await expect.poll(() => server.stats.refreshGrants).toBe(1);
  await stopWorkers(tabs[0]!);
  const interrupted = await pending; // resolves (network error): never hangs
  expect([0, 200, 401]).toContain(interrupted.status);
}

test.describe('worker killed during a refresh the server already carried out', () => {
  test.describe('against a server with a reuse grace period', () => {
    test.use({ serverOptions: { accessTokenTtlSeconds: 2, reuseGraceSeconds: 30 } });
    test('the restarted worker retries with the previous refresh token and the session is kept', async ({ context, server }) => {
      const tabs = await openTabs(2, context, server);
      await killDuringCommittedRefresh(server, tabs);
      expect((await call(tabs[1]!, '/api/data')).status).toBe(200);
      expect(server.stats).toMatchObject({ refreshGrants: 2, graceReuses: 1, reuseDetections: 0 });
      expect((await tabs[1]!.evaluate(() => window.tp.proxy.status())).loggedIn).toBe(true);
    });
  });

  test.describe('against a strict server', () => {
    test.use({ serverOptions: { accessTokenTtlSeconds: 2 } });
    test('every tab gets a clean logged-out (refresh-rejected), no call hangs, no further refresh', async ({ context, server }) => {
      const tabs = await openTabs(3, context, server);
      await killDuringCommittedRefresh(server, tabs);
      const after = await Promise.all(tabs.map((tab) => call(tab, '/api/data')));
      expect(after.map((r) => r.status)).toEqual([401, 401, 401]);
      expect(server.stats.reuseDetections).toBe(1);
      for (const tab of tabs) {
        await expect.poll(async () => (await events(tab)).find((e) => e.type === 'logged-out')).toMatchObject({ reason: 'refresh-rejected' });
      }
      const refreshRequests = server.stats.refreshRequests;
      await storm(tabs, 5);
      expect(server.stats.refreshRequests).toBe(refreshRequests);
      expect(server.apiRequests().slice(-15).every((r) => r.authorization === null)).toBe(true);
    });
  });
});

test.describe('worker update', () => {
  // Longer than the slow refresh below, so the token it brings is not dead on arrival.
  test.use({ serverOptions: { accessTokenTtlSeconds: 5 } });
  test('a new version activating while calls are in flight → no duplicate refresh, session kept', async ({ context, server }) => {
    const [oldTab, newTab] = await openTabs(2, context, server);
    await login(oldTab!);
    await waitUntilExpired(oldTab!);
    server.fail('refresh', 'slow', { delayMs: 1500 });
    const oldStorm = storm([oldTab!], 20);
    await expect.poll(() => server.stats.refreshRequests).toBe(1);
    // A new worker script takes over while the old worker's refresh is still in flight.
    await newTab!.evaluate(async () => {
      const changed = new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
      await navigator.serviceWorker.register(window.tp.workerUrl({ api: ['/api'], tokenEndpoint: '/oauth/token', version: 2 }));
      await changed;
    });
    const newStorm = storm([newTab!], 20);
    const statuses = [...(await oldStorm), ...(await newStorm)];
    expect(count(statuses, 200)).toBe(40);
    expect(server.stats).toMatchObject({ refreshGrants: 1, reuseDetections: 0 });
    expect((await call(oldTab!, '/api/data')).status).toBe(200);
  });
});

test.describe('failure classes', () => {
  test.use({ serverOptions: { accessTokenTtlSeconds: 2 } });

  test('invalid_grant → every tab receives logged-out and no call hangs', async ({ context, server }) => {
    const tabs = await openTabs(3, context, server);
    await login(tabs[0]!);
    await waitUntilExpired(tabs[0]!);
    server.fail('refresh', 'invalid_grant');
    const statuses = await storm(tabs, 10);
    expect(count(statuses, 401)).toBe(30);
    for (const tab of tabs) {
      await expect.poll(async () => (await events(tab)).find((e) => e.type === 'logged-out')).toMatchObject({ reason: 'refresh-rejected' });
      expect((await tab.evaluate(() => window.tp.proxy.status())).loggedIn).toBe(false);
    }
    expect(server.stats.refreshRequests).toBe(1);
  });

  test('503 twice then success → no logout, calls succeed after backoff', async ({ context, server }) => {
    const tabs = await openTabs(2, context, server);
    await login(tabs[0]!);
    await waitUntilExpired(tabs[0]!);
    server.fail('refresh', '503', { count: 2 });
    const statuses = await storm(tabs, 10);
    expect(count(statuses, 200)).toBe(20);
    expect(server.stats).toMatchObject({ refreshRequests: 3, refreshGrants: 1 });
    expect((await events(tabs[1]!)).some((e) => e.type === 'logged-out')).toBe(false);
  });

  test('429 with Retry-After is honoured', async ({ context, server }) => {
    const tab = await openTab(context, server);
    await login(tab);
    await waitUntilExpired(tab);
    server.fail('refresh', '429', { retryAfterSeconds: 2 });
    expect((await call(tab, '/api/data')).status).toBe(200);
    const attempts = server.requests.filter((r) => r.path === '/oauth/token' && r.body?.includes('refresh_token'));
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(2000);
  });
});

test.describe('reactive 401', () => {
  test('the server revokes the access token early → 401 → one refresh, replay succeeds with the POST body intact', async ({ context, server }) => {
    const tabs = await openTabs(2, context, server);
    await login(tabs[0]!);
    expect((await call(tabs[0]!, '/api/data')).status).toBe(200);
    server.revokeAccessTokens();
    const body = JSON.stringify({ note: 'keep me', n: [1, 2, 3] });
    const results = await Promise.all(
      tabs.map((tab) => call(tab, '/api/items', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    for (const r of results) expect(JSON.parse(r.body)).toMatchObject({ method: 'POST', body });
    expect(server.stats).toMatchObject({ refreshGrants: 1, reuseDetections: 0 });
    const posts = server.apiRequests().filter((r) => r.method === 'POST');
    expect(posts.filter((r) => r.tokenValid).map((r) => r.body)).toEqual([body, body]);
  });

  test('a 403 is not a reason to refresh', async ({ context, server }) => {
    const tab = await openTab(context, server);
    await login(tab);
    expect((await call(tab, '/api/status/403')).status).toBe(403);
    expect(server.stats.refreshRequests).toBe(0);
  });
});

test.describe('legacy session without expiry', () => {
  test.use({ serverOptions: { omitExpiresIn: true } });
  test('is refreshed on first use, then not on every request', async ({ context, server }) => {
    const tab = await openTab(context, server);
    await login(tab);
    expect((await call(tab, '/api/data')).status).toBe(200);
    expect(server.stats.refreshGrants).toBe(1);
    const firstApiCall = server.apiRequests()[0]!;
    expect(firstApiCall.tokenValid).toBe(true);
    expect(server.requests.findIndex((r) => r === firstApiCall)).toBeGreaterThan(server.requests.findIndex((r) => r.body?.includes('grant_type=refresh_token')));
    expect((await call(tab, '/api/data')).status).toBe(200);
    expect(server.stats.refreshGrants).toBe(1);
  });
});

test('each refresh request shape works against a server expecting it', async ({ context }) => {
  const shapes = [
    { server: { refreshShape: 'form', clientId: 'demo-app' }, worker: { refreshRequest: 'form', clientId: 'demo-app' } },
    { server: { refreshShape: 'json' }, worker: { refreshRequest: 'json' } },
    { server: { refreshShape: 'header' }, worker: { refreshRequest: 'header' } },
    { server: { refreshShape: 'custom' }, worker: { preset: 'custom-shape' } },
  ] as const;
  for (const shape of shapes) {
    const server = await startServer({ accessTokenTtlSeconds: 2, ...shape.server });
    try {
      const tab = await openTab(context, server, shape.worker);
      await login(tab);
      await waitUntilExpired(tab);
      expect((await call(tab, '/api/data')).status, shape.server.refreshShape).toBe(200);
      expect(server.stats.refreshGrants, shape.server.refreshShape).toBe(1);
      await tab.close();
    } finally {
      await server.close();
    }
  }
});
