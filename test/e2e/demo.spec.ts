/**
 * The demo app (demo/), driven through its own UI in several tabs, on its dev server (Vite + the embedded
 * token server). Every check reads what the page shows: the status panel's, the outbox panel's and the
 * timeline rows' data attributes, and the server counters from /__control/stats.
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type ViteDevServer } from 'vite';
import type { ServerStats } from '../../demo/ui.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOTS = join(ROOT, 'test-results');

type Stats = ServerStats;

let vite: ViteDevServer;
let origin: string;

test.beforeAll(async () => {
  vite = await createServer({
    configFile: join(ROOT, 'demo/vite.config.ts'),
    logLevel: 'warn',
    // No file watching or HMR: an edit to the sources during the run must not reload the tabs.
    server: { port: 0, host: '127.0.0.1', hmr: false, watch: null },
  });
  await vite.listen();
  origin = `http://127.0.0.1:${(vite.httpServer!.address() as AddressInfo).port}`;
  await mkdir(SCREENSHOTS, { recursive: true });
});

test.afterAll(async () => {
  await vite?.close();
});

test.use({ viewport: { width: 1280, height: 900 } });

async function serverStats(): Promise<Stats> {
  const response = await fetch(`${origin}/__control/stats`);
  return (await response.json()) as Stats;
}

async function control(path: string, body: object): Promise<void> {
  const response = await fetch(`${origin}/__control/${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
}

const rows = (page: Page, selector = ''): Locator => page.locator(`#timeline > li${selector}`);
const status = (page: Page): Locator => page.locator('#status');

/** Clicks as a person would: in the tab in front (a background tab's animation frames are throttled). */
async function click(page: Page, selector: string): Promise<void> {
  await page.bringToFront();
  await page.locator(selector).click();
}

async function openDemoTab(page: Page): Promise<string> {
  await page.goto(`${origin}/`);
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  return (await page.locator('body').getAttribute('data-tab'))!;
}

/** Waits, on the page's clock and by condition, until the access token the status panel shows has expired. */
async function waitUntilExpired(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const at = Number(document.querySelector<HTMLElement>('#status')?.dataset['expiresAt']);
      return Number.isFinite(at) && at > 0 && Date.now() >= at;
    },
    undefined,
    { polling: 50, timeout: 30_000 },
  );
}

/**
 * Back online: the library delivers the outbox by itself — no button is pressed. (Playwright lifts the
 * tabs' offline emulation before the worker's, so the replay the `online` event asks for may first meet
 * a worker still offline; the client retries a replay that stopped on a network error.)
 */
async function backOnline(page: Page): Promise<void> {
  await page.context().setOffline(false);
  await expect(page.locator('#outbox')).toHaveAttribute('data-count', '0');
}

async function screenshots(tabs: Page[], name: string): Promise<void> {
  for (const [i, page] of tabs.entries()) {
    await page.screenshot({ path: join(SCREENSHOTS, `demo-${name}-tab${i + 1}.png`), fullPage: true });
  }
}

test('three tabs: one login, one refresh for all, a rejected refresh and a logout reach every tab', async ({ context }) => {
  const tabs = [await context.newPage(), await context.newPage(), await context.newPage()];
  const ids: string[] = [];
  for (const page of tabs) ids.push(await openDemoTab(page));
  expect(new Set(ids).size).toBe(3);
  const [one, two, three] = tabs as [Page, Page, Page];
  const [, idTwo, idThree] = ids as [string, string, string];

  // -- log in from tab 1: every tab is logged in and shows the login once
  await one.bringToFront();
  await one.locator('#user').selectOption('alice');
  await click(one, '#login');
  for (const page of tabs) {
    await expect(status(page)).toHaveAttribute('data-logged-in', 'true');
    await expect(rows(page, '[data-kind="login"]')).toHaveCount(1);
    await expect(rows(page, `[data-kind="action"][data-tab="${ids[0]}"]`)).toHaveCount(1); // "logs in as alice"
  }

  // -- the API from every tab: every timeline shows the three tabs' calls, each 200
  for (const page of tabs) await click(page, '#call');
  for (const page of tabs) {
    for (const id of ids) await expect(rows(page, `[data-kind="api"][data-tab="${id}"][data-status="200"]`)).toHaveCount(1);
  }
  await expect(rows(one, '[data-kind="api"]').first()).toContainText('as alice');

  // -- a 4 s access token (set in the UI), a new login, then 3 × 20 concurrent calls once it has expired.
  // (The worker refreshes from half the lifetime before expiry: the new token leaves 2 s before the next refresh is due.)
  await one.bringToFront();
  await one.locator('#ttl').fill('4');
  await click(one, '#apply-ttl');
  await expect(rows(three, `[data-kind="action"][data-tab="${ids[0]}"]`)).toHaveCount(2); // "set the lifetime to 4 s"
  expect((await serverStats()).options.accessTokenTtlSeconds).toBe(4);
  await click(two, '#login');
  for (const page of tabs) {
    await expect(rows(page, '[data-kind="login"]')).toHaveCount(2);
    await expect(status(page)).toHaveAttribute('data-refresh-count', '0');
  }
  await expect
    .poll(() => one.evaluate(() => Number(document.querySelector<HTMLElement>('#status')!.dataset['expiresAt']) - Date.now()))
    .toBeLessThanOrEqual(4000);
  // Any earlier refresh (of the 20 s token, on a very slow run) is already in every timeline: count from here.
  const refreshesBefore = await rows(one, '[data-kind="refresh"]').count();
  const grantsBefore = (await serverStats()).stats.refreshGrants;
  await waitUntilExpired(one);

  // All three at once: a DOM click in each tab, without waiting to bring each to the front.
  await Promise.all(tabs.map((page) => page.locator('#call20').dispatchEvent('click')));
  for (const page of tabs) {
    await expect(rows(page, '[data-kind="api"][data-count="20"][data-status="200"]')).toHaveCount(3);
    await expect(rows(page, '[data-kind="refresh"]')).toHaveCount(refreshesBefore + 1);
    await expect(status(page)).toHaveAttribute('data-refresh-count', '1');
    await expect(page.locator('[data-stat="reuseDetections"]')).toHaveText('0');
    await expect(page.locator('[data-stat="refreshGrants"]')).toHaveText(String(grantsBefore + 1));
  }
  // The same refresh (the worker's one event) in every tab.
  const refreshAt = await Promise.all(tabs.map((page) => rows(page, '[data-kind="refresh"]').first().getAttribute('data-at')));
  expect(new Set(refreshAt).size).toBe(1);
  await expect(rows(one, '[data-kind="refresh"]').first()).toHaveAttribute('data-refresh-count', '1');
  expect((await serverStats()).stats).toMatchObject({ refreshGrants: grantsBefore + 1, reuseDetections: 0 });
  await screenshots(tabs, 'refresh');

  // -- the next refresh is rejected (invalid_grant): the session ends in every tab
  await click(three, '#fail-invalid-grant');
  await expect(rows(three, `[data-kind="action"][data-tab="${idThree}"]`)).toHaveCount(1); // armed
  await waitUntilExpired(three);
  await click(three, '#call');
  for (const page of tabs) {
    await expect(rows(page, '[data-kind="logout"][data-reason="refresh-rejected"]')).toHaveCount(1);
    await expect(status(page)).toHaveAttribute('data-logged-in', 'false');
    // The call went out without a token once the session had ended.
    await expect(rows(page, `[data-kind="api"][data-tab="${idThree}"][data-status="401"]`)).toHaveCount(1);
  }
  await expect(status(one).locator('[data-field="last-error"]')).toContainText('refresh-rejected');
  expect((await serverStats()).stats.reuseDetections).toBe(0);

  // -- log in again, log out from tab 2: every tab is logged out, reason "user"
  await click(one, '#login');
  for (const page of tabs) await expect(status(page)).toHaveAttribute('data-logged-in', 'true');
  await click(two, '#logout');
  for (const page of tabs) {
    await expect(rows(page, '[data-kind="logout"][data-reason="user"]')).toHaveCount(1);
    await expect(status(page)).toHaveAttribute('data-logged-in', 'false');
    await expect(rows(page, `[data-kind="action"][data-tab="${idTwo}"]`).first()).toContainText('revoked at the server: yes');
  }
  expect((await serverStats()).stats).toMatchObject({ loginGrants: 3, revocations: 1, reuseDetections: 0 });

  // The pages never show a token (the server's tokens look like at-<family>-... and rt-<family>-...).
  for (const page of tabs) expect(await page.locator('body').innerText()).not.toMatch(/\b[ar]t-[0-9a-f]{12}-/);
  await screenshots(tabs, 'end');
});

test('offline: notes saved in two tabs are queued, shown in every tab, and delivered once back online', async ({ context }) => {
  const tabs = [await context.newPage(), await context.newPage()];
  const ids: string[] = [];
  for (const page of tabs) ids.push(await openDemoTab(page));
  const [one, two] = tabs as [Page, Page];
  const outbox = (page: Page): Locator => page.locator('#outbox');
  const idsOf = (list: Locator) => list.evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset['id']));
  const before = (await serverStats()).stats;

  // -- a 4 s access token, so it expires while the tabs are offline; log in from tab 1 (no API call after it)
  await control('lifetimes', { accessTokenTtlSeconds: 4 });
  await click(one, '#login');
  for (const page of tabs) await expect(status(page)).toHaveAttribute('data-logged-in', 'true');

  // -- offline: a note from each tab → each tab is answered 202 "queued", every tab shows both queued writes
  await context.setOffline(true);
  for (const [i, page] of tabs.entries()) {
    await expect(page.locator('#network')).toHaveAttribute('data-online', 'false');
    await page.locator('#note').fill(`note from tab ${i + 1}`);
    await click(page, '#save-note');
    await expect(page.locator('#note-result')).toHaveAttribute('data-status', '202');
    await expect(page.locator('#note-result')).toContainText('queued offline');
  }
  for (const page of tabs) {
    await expect(rows(page, '[data-kind="queued"]')).toHaveCount(2);
    await expect(rows(page, '[data-kind="write"][data-status="202"]')).toHaveCount(2); // each tab's own answer, shared
    await expect(outbox(page)).toHaveAttribute('data-count', '2');
    await expect(outbox(page).locator('li .url')).toHaveText(['/api/notes', '/api/notes']);
  }
  // The ids the pages were given (202 body) are the queued entries, oldest first in the outbox, in every tab.
  const queued = [await one.locator('#note-result').getAttribute('data-id'), await two.locator('#note-result').getAttribute('data-id')];
  for (const page of tabs) {
    expect(await idsOf(outbox(page).locator('li'))).toEqual(queued);
    expect(await idsOf(rows(page, '[data-kind="queued"]'))).toEqual([...queued].reverse()); // the timeline is newest first
  }
  expect((await serverStats()).stats.api.authorized).toBe(before.api.authorized); // nothing reached the server
  await screenshots([one], 'offline-queued');

  // -- the access token dies offline; back online, both notes are delivered (after one refresh), in every tab
  await waitUntilExpired(one);
  const grantsBefore = (await serverStats()).stats.refreshGrants;
  await backOnline(one);
  for (const page of tabs) {
    await expect(page.locator('#network')).toHaveAttribute('data-online', 'true');
    await expect(rows(page, '[data-kind="replayed"][data-status="200"]')).toHaveCount(2);
    expect(await idsOf(rows(page, '[data-kind="replayed"]'))).toEqual([...queued].reverse()); // FIFO
    await expect(outbox(page)).toHaveAttribute('data-count', '0');
    await expect(outbox(page).locator('li')).toHaveCount(0);
    await expect(rows(page, '[data-kind="refresh"]')).toHaveCount(1);
  }
  // Each once with a live token (the server counts the API calls it answered 200 / 401), after exactly one refresh.
  await expect.poll(async () => (await serverStats()).stats).toMatchObject({
    api: { authorized: before.api.authorized + 2 },
    refreshGrants: grantsBefore + 1,
    reuseDetections: 0,
  });

  // -- a write the server refuses: queued offline, given up on replay (409) in every tab
  await context.setOffline(true);
  await expect(two.locator('#network')).toHaveAttribute('data-online', 'false');
  await click(two, '#save-409');
  await expect(two.locator('#note-result')).toContainText('/api/status/409'); // its earlier answer was a 202 too
  await expect(two.locator('#note-result')).toHaveAttribute('data-status', '202');
  const refused = await two.locator('#note-result').getAttribute('data-id');
  for (const page of tabs) await expect(outbox(page)).toHaveAttribute('data-count', '1');
  await backOnline(one);
  for (const page of tabs) {
    const failed = rows(page, '[data-kind="replay-failed"]');
    await expect(failed).toHaveCount(1);
    await expect(failed).toHaveAttribute('data-reason', 'rejected');
    await expect(failed).toHaveAttribute('data-status', '409');
    await expect(failed).toHaveAttribute('data-id', refused!);
    await expect(outbox(page)).toHaveAttribute('data-count', '0');
  }

  // -- online, a note goes straight through (200); "Replay now" finds nothing left
  await one.locator('#note').fill('online note');
  await click(one, '#save-note');
  await expect(one.locator('#note-result')).toHaveAttribute('data-status', '200');
  await expect(one.locator('#note-result')).toContainText('saved (as alice)');
  await click(two, '#replay');
  await expect(rows(one, `[data-kind="action"][data-tab="${ids[1]}"]`)).toContainText('0 delivered, 0 given up, 0 still waiting');
  for (const page of tabs) {
    await expect(rows(page, '[data-kind="replayed"]')).toHaveCount(2);
    await expect(rows(page, '[data-kind="queued"]')).toHaveCount(3);
  }
  expect((await serverStats()).stats.reuseDetections).toBe(0);
  for (const page of tabs) expect(await page.locator('body').innerText()).not.toMatch(/\b[ar]t-[0-9a-f]{12}-/);
  await screenshots(tabs, 'offline');
});
