import { chromium, type Page } from '@playwright/test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS } from './playwright.config.js';
import { call, DEFAULT_CONFIG, events, expect, goOffline, login, openTab, stopWorkers, test, waitUntilExpired, type WorkerConfig } from './helpers.js';

/** The test worker with `offlineOutbox()`. */
const WITH_OUTBOX: WorkerConfig = { outbox: {} };

const post = (page: Page, path: string, payload: unknown) =>
  call(page, path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(payload) });

test.describe('offline writes', () => {
  test.use({ serverOptions: { accessTokenTtlSeconds: 3 } });

  test('3 POSTs from two tabs offline → 3 × 202 and queued; online → delivered in order, once each, with a token valid at replay time after exactly one refresh', async ({ context, server }) => {
    const tab1 = await openTab(context, server, WITH_OUTBOX);
    const tab2 = await openTab(context, server, WITH_OUTBOX);
    await login(tab1);
    await goOffline(context, tab2);
    const answers = [await post(tab1, '/api/notes', { n: 1 }), await post(tab2, '/api/notes', { n: 2 }), await post(tab1, '/api/notes', { n: 3 })];
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    const ids = answers.map((a) => (JSON.parse(a.body) as { id: string }).id);
    await expect.poll(async () => (await events(tab2)).filter((e) => e.type === 'queued').length).toBe(3);
    expect((await tab2.evaluate(() => window.tp.proxy.outbox())).map((e) => e.id)).toEqual(ids);

    await waitUntilExpired(tab1); // the access token dies while we are offline
    expect(server.apiRequests()).toHaveLength(0);
    await context.setOffline(false);

    await expect.poll(() => server.apiRequests().length).toBe(3);
    const delivered = server.apiRequests();
    expect(delivered.map((r) => JSON.parse(r.body!).n)).toEqual([1, 2, 3]);
    expect(delivered.every((r) => r.tokenValid)).toBe(true);
    expect(new Set(delivered.map((r) => r.idempotencyKey)).size).toBe(3);
    expect(server.stats).toMatchObject({ refreshGrants: 1, reuseDetections: 0 });
    await expect.poll(async () => (await events(tab1)).filter((e) => e.type === 'replayed').map((e) => e.type === 'replayed' && e.entry.id)).toEqual(ids);
    expect(await tab1.evaluate(() => window.tp.proxy.outbox())).toEqual([]);
  });

  test('a 409 on replay → replay-failed with the status and body; the rest is still delivered', async ({ context, server }) => {
    const tab = await openTab(context, server, WITH_OUTBOX);
    await login(tab);
    await goOffline(context, tab);
    for (const path of ['/api/notes', '/api/status/409', '/api/notes']) expect((await post(tab, path, { path })).status).toBe(202);
    await context.setOffline(false);
    await expect.poll(async () => (await events(tab)).filter((e) => e.type === 'replayed' || e.type === 'replay-failed').length).toBe(3);
    const failed = (await events(tab)).find((e) => e.type === 'replay-failed');
    expect(failed).toMatchObject({ reason: 'rejected', status: 409, entry: { url: `${server.origin}/api/status/409` } });
    expect(failed?.type === 'replay-failed' && failed.body).toContain('409');
    expect(server.apiRequests().map((r) => r.path)).toEqual(['/api/notes', '/api/status/409', '/api/notes']);
  });

  test('logout while writes are queued → they are never sent', async ({ context, server }) => {
    const tab = await openTab(context, server, WITH_OUTBOX);
    await login(tab);
    await goOffline(context, tab);
    expect((await post(tab, '/api/notes', { secret: 1 })).status).toBe(202);
    expect((await post(tab, '/api/notes', { secret: 2 })).status).toBe(202);
    await tab.evaluate(() => window.tp.proxy.logout({ revoke: false }));
    await context.setOffline(false);
    await login(tab, 'bob');
    expect((await call(tab, '/api/data')).status).toBe(200);
    expect(await tab.evaluate(() => window.tp.proxy.replayOutbox())).toEqual({ replayed: 0, failed: 0, remaining: 0 });
    expect(server.apiRequests().filter((r) => r.method === 'POST')).toHaveLength(0);
    const dropped = (await events(tab)).filter((e) => e.type === 'replay-failed');
    expect(dropped.map((e) => e.type === 'replay-failed' && e.reason)).toEqual(['logged-out', 'logged-out']);
  });

  test.describe('keepForSameUser', () => {
    test.use({ serverOptions: { accessTokenTtlSeconds: 3, idTokens: true } });
    test('writes of an ended session wait for the same user, and never go out under another one', async ({ context, server }) => {
      const tab = await openTab(context, server, { outbox: { keepForSameUser: true } });
      await login(tab, 'alice');
      await goOffline(context, tab);
      expect((await post(tab, '/api/notes', { by: 'alice', n: 1 })).status).toBe(202);
      await tab.evaluate(() => window.tp.proxy.logout({ revoke: false }));
      await context.setOffline(false);
      await login(tab, 'bob'); // a login replays what waits for one
      await expect.poll(async () => (await events(tab)).find((e) => e.type === 'replay-failed')).toMatchObject({ reason: 'logged-out' });
      expect(await tab.evaluate(() => window.tp.proxy.outbox())).toEqual([]);
      expect(server.apiRequests()).toHaveLength(0);

      await goOffline(context, tab);
      expect((await post(tab, '/api/notes', { by: 'bob', n: 2 })).status).toBe(202);
      await tab.evaluate(() => window.tp.proxy.logout({ revoke: false }));
      await context.setOffline(false);
      expect(await tab.evaluate(() => window.tp.proxy.outbox())).toHaveLength(1); // kept for bob
      await login(tab, 'bob');
      await expect.poll(() => server.apiRequests().map((r) => JSON.parse(r.body!))).toEqual([{ by: 'bob', n: 2 }]);
      expect(server.apiRequests()[0]!.tokenValid).toBe(true);
    });
  });

  test('over the bound the page gets 507 and nothing already queued is lost', async ({ context, server }) => {
    const tab = await openTab(context, server, { outbox: { maxEntries: 2 } });
    await login(tab);
    await goOffline(context, tab);
    expect((await post(tab, '/api/notes', { n: 1 })).status).toBe(202);
    expect((await post(tab, '/api/notes', { n: 2 })).status).toBe(202);
    const full = await post(tab, '/api/notes', { n: 3 });
    expect(full.status).toBe(507);
    expect(JSON.parse(full.body)).toMatchObject({ error: 'outbox_full' });
    await context.setOffline(false);
    await expect.poll(() => server.apiRequests().map((r) => JSON.parse(r.body!).n)).toEqual([1, 2]);
  });

  test('online writes go straight through (no 202) and carry an idempotency key', async ({ context, server }) => {
    const tab = await openTab(context, server, WITH_OUTBOX);
    await login(tab);
    const response = await post(tab, '/api/notes', { n: 1 });
    expect(response.status).toBe(200);
    expect(server.apiRequests()[0]!.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
  });
});

test('without offlineOutbox() a write made offline fails in the page as a network error, and nothing is kept or sent later', async ({ context, server }) => {
  const tab = await openTab(context, server); // the library's default: no outbox
  await login(tab);
  await goOffline(context, tab);
  const offline = await post(tab, '/api/notes', { n: 1 });
  expect(offline).toMatchObject({ status: 0, body: expect.stringContaining('TypeError') });
  expect(await tab.evaluate(() => window.tp.proxy.outbox())).toEqual([]);
  await context.setOffline(false);
  // online again: a new write goes through; the offline one never arrives
  await expect.poll(async () => (await post(tab, '/api/notes', { n: 2 })).status).toBe(200);
  expect(server.apiRequests().map((r) => JSON.parse(r.body!).n)).toEqual([2]);
  expect((await events(tab)).filter((e) => e.type === 'queued')).toEqual([]);
});

test('GET and HEAD are never kept, even with a defer() that says yes to everything: offline they fail as network errors', async ({ context, server }) => {
  const tab = await openTab(context, server, { outbox: {}, preset: 'defer-everything' });
  await login(tab);
  expect((await call(tab, '/api/data')).status).toBe(200);
  await goOffline(context, tab);
  expect(await call(tab, '/api/data')).toMatchObject({ status: 0 });
  expect(await call(tab, '/api/data', { method: 'HEAD' })).toMatchObject({ status: 0 });
  expect((await post(tab, '/api/notes', { n: 1 })).status).toBe(202); // a write is kept
  expect((await tab.evaluate(() => window.tp.proxy.outbox())).map((e) => e.method)).toEqual(['POST']);
  await context.setOffline(false);
  await expect.poll(() => server.apiRequests().filter((r) => r.method === 'POST').length).toBe(1);
});

test('the worker stopped offline with 5 writes queued; the browser closed and reopened → all 5 replayed, none twice', async ({ server }) => {
  const profile = await mkdtemp(join(tmpdir(), 'sw-token-proxy-profile-'));
  const launch = () =>
    chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
      headless: true,
      serviceWorkers: 'allow',
    });
  try {
    const first = await launch();
    const tab = await openTab(first, server, WITH_OUTBOX);
    await login(tab);
    await goOffline(first, tab);
    for (let n = 1; n <= 5; n++) expect((await post(tab, '/api/notes', { n })).status).toBe(202);
    await stopWorkers(tab);
    await first.close();
    expect(server.apiRequests()).toHaveLength(0);

    const second = await launch();
    const page = await second.newPage();
    await page.goto(`${server.origin}/`); // the worker starts with this navigation and replays
    await expect.poll(() => server.apiRequests().length, { timeout: 15_000 }).toBe(5);
    const delivered = server.apiRequests();
    expect(delivered.map((r) => JSON.parse(r.body!).n)).toEqual([1, 2, 3, 4, 5]);
    expect(delivered.every((r) => r.tokenValid)).toBe(true);
    expect(new Set(delivered.map((r) => r.idempotencyKey)).size).toBe(5);
    // a later trigger finds nothing left to send
    await page.waitForFunction(() => window.tp !== undefined);
    expect(await page.evaluate((c) => window.tp.start(c), { ...DEFAULT_CONFIG, ...WITH_OUTBOX })).toBe(true);
    expect(await page.evaluate(() => window.tp.proxy.replayOutbox())).toEqual({ replayed: 0, failed: 0, remaining: 0 });
    expect(server.apiRequests()).toHaveLength(5);
    await second.close();
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
});
