/**
 * The demo app (demo/), driven through its own UI in several tabs, on its dev server (Vite + the embedded
 * token server). Every check reads what the page shows: the status panel's, the outbox panel's and the
 * timeline rows' data attributes (the refresh marks too), and the server counters from /__control/stats.
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
/** The session panel's line that says who is signed in. */
const who = (page: Page): Locator => page.locator('#status [data-field="logged-in"]');
/** The rows that say a slow refresh was armed ("Next refresh → slow"). */
const slowArmed = (page: Page): Locator => rows(page, '[data-kind="action"]').filter({ hasText: 'answered after 1 s' });

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
    // A password login says who too: the server adds an ID token (idTokens: true), status() has its sub.
    await expect(who(page)).toHaveText('Signed in as alice');
  }

  // -- the API from every tab: every timeline shows the three tabs' calls, each 200
  for (const page of tabs) await click(page, '#call');
  for (const page of tabs) {
    for (const id of ids) await expect(rows(page, `[data-kind="api"][data-tab="${id}"][data-status="200"]`)).toHaveCount(1);
  }
  await expect(rows(one, '[data-kind="api"]').first()).toContainText('as alice');

  // -- a 4 s access token (set in the UI), a new login, a call inside the skew window, then 3 × 20 concurrent
  // calls once the token has expired. (The worker refreshes from half the lifetime before expiry: 2 s here.)
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
  const newestRefresh = (page: Page) => rows(page, '[data-kind="refresh"]').first();
  /** A tab's latest single call ("Call API"). */
  const lastCall = (page: Page, tab: string) => rows(page, `[data-kind="api"][data-tab="${tab}"][data-count="1"]`).first();

  // -- inside the skew window (the last 2 s of this 4 s token) the call that finds the token due goes out
  // with it at once, and one refresh runs behind it — answered after 1 s here ("Next refresh → slow"), so a
  // call from another tab surely comes while it runs: it goes out with the old token too. Neither waits.
  await click(one, '#fail-slow');
  await expect(slowArmed(one)).toHaveCount(1);
  await one.waitForFunction(
    () => Date.now() >= Number(document.querySelector<HTMLElement>('#status')!.dataset['expiresAt']) - 2000 + 100,
    undefined,
    { polling: 20, timeout: 10_000 },
  );
  await one.locator('#call').dispatchEvent('click');
  await expect(rows(one, `[data-kind="api"][data-tab="${ids[0]}"][data-count="1"]`)).toHaveCount(2); // answered; the refresh runs on
  await two.locator('#call').dispatchEvent('click');
  await expect(rows(two, `[data-kind="api"][data-tab="${idTwo}"][data-count="1"]`)).toHaveCount(2);
  for (const page of tabs) {
    await expect(rows(page, '[data-kind="refresh"]')).toHaveCount(refreshesBefore + 1);
    await expect(newestRefresh(page)).toHaveAttribute('data-refresh-count', '1');
    await expect(lastCall(page, ids[0]!)).toHaveAttribute('data-refresh-mark', 'triggered');
    await expect(lastCall(page, ids[0]!)).toContainText('triggered refresh #1, went out with the old token');
    await expect(lastCall(page, idTwo)).toHaveAttribute('data-refresh-mark', 'old-token');
    await expect(lastCall(page, idTwo)).toContainText('went out with the old token while refresh #1 ran');
    await expect(lastCall(page, idTwo)).toHaveAttribute('data-status', '200');
    await expect(newestRefresh(page)).toHaveAttribute('data-old-token', '1');
  }
  expect((await serverStats()).stats).toMatchObject({ refreshGrants: grantsBefore + 1, reuseDetections: 0 });

  // -- a storm at expiry: 3 × 20 concurrent calls once this token has expired. The refresh is slow again,
  // so the three tabs' calls are surely all in flight while it runs (the marks do not depend on how fast
  // the clicks reach the tabs).
  await click(one, '#fail-slow');
  await expect(slowArmed(one)).toHaveCount(2);
  await waitUntilExpired(one);

  // All three at once: a DOM click in each tab, without waiting to bring each to the front.
  await Promise.all(tabs.map((page) => page.locator('#call20').dispatchEvent('click')));
  for (const page of tabs) {
    await expect(rows(page, '[data-kind="api"][data-count="20"][data-status="200"]')).toHaveCount(3);
    await expect(rows(page, '[data-kind="refresh"]')).toHaveCount(refreshesBefore + 2);
    await expect(status(page)).toHaveAttribute('data-refresh-count', '2');
    await expect(page.locator('[data-stat="reuseDetections"]')).toHaveText('0');
    await expect(page.locator('[data-stat="refreshGrants"]')).toHaveText(String(grantsBefore + 2));
  }
  // The same refresh (the worker's one event) in every tab.
  const refreshAt = await Promise.all(tabs.map((page) => newestRefresh(page).getAttribute('data-at')));
  expect(new Set(refreshAt).size).toBe(1);
  await expect(newestRefresh(one)).toHaveAttribute('data-refresh-count', '2');
  expect((await serverStats()).stats).toMatchObject({ refreshGrants: grantsBefore + 2, reuseDetections: 0 });
  // Which call triggered it and which waited, inferred in each page from the shared rows: the same in every tab.
  const triggeredBy = new Set<string | null>();
  for (const page of tabs) {
    const storm = (mark: string) => rows(page, `[data-kind="api"][data-count="20"][data-refresh="2"][data-refresh-mark="${mark}"]`);
    await expect(storm('triggered')).toHaveCount(1);
    await expect(storm('waited')).toHaveCount(2);
    await expect(storm('triggered')).toContainText('triggered refresh #2, and waited for it');
    await expect(storm('waited').first()).toContainText('waited for refresh #2');
    await expect(newestRefresh(page)).toHaveAttribute('data-waited', '2');
    const by = await newestRefresh(page).getAttribute('data-triggered-by');
    expect(await storm('triggered').getAttribute('data-tab')).toBe(by);
    triggeredBy.add(by);
  }
  expect(triggeredBy.size).toBe(1);
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
    // The tab's own note line follows its entry: delivered.
    await expect(page.locator('#note-result')).toHaveAttribute('data-outcome', 'delivered');
    await expect(page.locator('#note-result')).toContainText('then delivered (200)');
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
  await expect(two.locator('#note-result')).toHaveAttribute('data-outcome', 'gave-up');
  await expect(two.locator('#note-result')).toContainText('then gave up (409');
  await expect(one.locator('#note-result')).toContainText('then delivered (200)'); // another entry: unchanged

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

  // -- a note queued offline, then a logout: the session it was made in ended, so it is dropped, never sent
  await context.setOffline(true);
  await expect(one.locator('#network')).toHaveAttribute('data-online', 'false');
  await one.locator('#note').fill('note of an ended session');
  await click(one, '#save-note');
  await expect(one.locator('#note-result')).toHaveAttribute('data-status', '202');
  const authorizedBefore = (await serverStats()).stats.api.authorized;
  await click(one, '#logout');
  await expect(one.locator('#note-result')).toHaveAttribute('data-outcome', 'dropped');
  await expect(one.locator('#note-result')).toContainText('then dropped: the session ended');
  for (const page of tabs) {
    await expect(rows(page, '[data-kind="replay-failed"][data-reason="logged-out"]')).toHaveCount(1);
    await expect(status(page)).toHaveAttribute('data-logged-in', 'false');
    await expect(outbox(page)).toHaveAttribute('data-count', '0');
  }
  await context.setOffline(false);
  await expect(one.locator('#network')).toHaveAttribute('data-online', 'true');
  expect((await serverStats()).stats.api.authorized).toBe(authorizedBefore);
  for (const page of tabs) expect(await page.locator('body').innerText()).not.toMatch(/\b[ar]t-[0-9a-f]{12}-/);
  await screenshots(tabs, 'offline');
});

test('sign-in at the provider from one tab: every tab signed in as that user; signing out at the provider comes back logged out', async ({ context }) => {
  await control('lifetimes', { accessTokenTtlSeconds: 20 });
  const tabs = [await context.newPage(), await context.newPage(), await context.newPage()];
  const ids: string[] = [];
  for (const page of tabs) ids.push(await openDemoTab(page));
  const [one, two, three] = tabs as [Page, Page, Page];
  const [idOne, idTwo] = ids as [string, string, string];
  const before = (await serverStats()).stats;

  // -- "Things to try" is the first thing a new user sees: whole, without scrolling, in a 1280×800 window
  // (a viewport of about 1280×700), and it starts with the sign-in.
  await one.setViewportSize({ width: 1280, height: 700 });
  const help = (await one.locator('#help').boundingBox())!;
  expect(help.y + help.height).toBeLessThanOrEqual(700);
  await expect(one.locator('#help li').first()).toContainText('Sign in');
  await one.setViewportSize({ width: 1280, height: 900 });

  // -- bob signs in from tab 1: the picker's user is the login_hint; the provider's login page, and back
  await one.locator('#user').selectOption('bob');
  await click(one, '#start-sign-in');
  await one.waitForURL((url) => url.pathname === '/oauth/authorize');
  await expect(one.locator('#username')).toHaveValue('bob'); // pre-filled from login_hint
  await one.fill('#username', 'bob');
  await one.fill('#password', 'bob-password');
  await one.click('#sign-in');
  await one.waitForURL(`${origin}/`);
  await expect(one.locator('body')).toHaveAttribute('data-ready', 'true');
  for (const page of tabs) {
    await expect(status(page)).toHaveAttribute('data-logged-in', 'true');
    await expect(who(page)).toHaveText('Signed in as bob');
    await expect(page.locator('#user')).toHaveValue('bob'); // the picker follows the session
  }
  // The tabs that stayed heard the worker's logged-in; the one that went kept its timeline across the trip.
  for (const page of [two, three]) await expect(rows(page, '[data-kind="login"]')).toContainText('logged in as bob');
  await expect(rows(one, `[data-kind="action"][data-tab="${idOne}"]`)).toHaveText([/back from the provider: signed in as bob/, /signs in as bob at the provider/]);
  const afterSignIn = (await serverStats()).stats;
  expect(afterSignIn).toMatchObject({ codeGrants: before.codeGrants + 1, loginGrants: before.loginGrants, reuseDetections: 0 });
  expect(afterSignIn.discoveryRequests).toBeGreaterThan(before.discoveryRequests); // the worker read the provider's metadata

  // -- the API, as bob, from another tab
  await click(three, '#call');
  await expect(rows(three, '[data-kind="api"][data-status="200"]')).toContainText('(as bob)');

  // -- sign out at the provider from tab 2: every tab logged out; tab 2 goes through the provider's logout and comes back
  const landed = two.waitForEvent('load');
  await click(two, '#end-session');
  await landed;
  await expect(two.locator('body')).toHaveAttribute('data-ready', 'true');
  expect(two.url()).toBe(`${origin}/`);
  for (const page of tabs) {
    await expect(status(page)).toHaveAttribute('data-logged-in', 'false');
    await expect(who(page)).toHaveText('signed out');
  }
  for (const page of [one, three]) await expect(rows(page, '[data-kind="logout"][data-reason="user"]')).toHaveCount(1);
  await expect(rows(two, `[data-kind="action"][data-tab="${idTwo}"]`).first()).toHaveText(/back from the provider's logout: signed out/);
  expect((await serverStats()).stats).toMatchObject({ endSessions: before.endSessions + 1, revocations: before.revocations + 1, reuseDetections: 0 });
  for (const page of tabs) expect(await page.locator('body').innerText()).not.toMatch(/\b[ar]t-[0-9a-f]{12}-|eyJ[\w-]{20,}\./);
  await screenshots(tabs, 'sign-in');
});
