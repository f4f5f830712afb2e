/**
 * The demo app (demo/), driven through its own UI in three tabs, on its dev server (Vite + the embedded
 * token server). Every check reads what the page shows: the status panel's and the timeline rows' data
 * attributes, and the server counters from /__control/stats.
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type ViteDevServer } from 'vite';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOTS = join(ROOT, 'test-results');

interface Stats {
  stats: { loginGrants: number; refreshGrants: number; reuseDetections: number; revocations: number };
  options: { accessTokenTtlSeconds: number };
}

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
