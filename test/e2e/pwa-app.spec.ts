import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { build } from 'vite';
import { TokenServer } from '../server/token-server.js';
import { expect, test as base } from './helpers.js';

// examples/pwa-app: vite-plugin-pwa (injectManifest: precache, a NavigationRoute, a runtime route) and the
// proxy in one service worker, built as the app builds it, served by the strict token server.
let built: string;
base.beforeAll(async () => {
  built = await mkdtemp(join(tmpdir(), 'pwa-app-'));
  await build({ configFile: join(import.meta.dirname, '../../examples/pwa-app/vite.config.ts'), logLevel: 'warn', build: { outDir: built } });
});
base.afterAll(() => rm(built, { recursive: true, force: true }));

/** A copy of the built app per test (the update test edits its sw.js), and a server for it. */
const test = base.extend<{ app: { server: TokenServer; dir: string } }>({
  app: async ({}, use) => {
    const dir = await mkdtemp(join(tmpdir(), 'pwa-site-'));
    await cp(built, dir, { recursive: true });
    const server = new TokenServer({ staticDir: dir, accessTokenTtlSeconds: 60 });
    await server.listen();
    await use({ server, dir });
    await server.close();
    await rm(dir, { recursive: true, force: true });
  },
});

const ready = (page: Page) => expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
const out = (page: Page) => page.locator('#out');

test('offline navigation from the precache, API calls with tokens, writes kept offline and delivered', async ({ page, app }) => {
  const { server } = app;
  await page.goto(`${server.origin}/`);
  await ready(page);
  await page.click('#login');
  await expect(page.locator('#status')).toHaveText('logged in');
  await page.click('#profile');
  await expect(out(page)).toContainText('"status":200');
  await expect(out(page)).toContainText('"user":"alice"');
  expect(server.apiRequests().at(-1)).toMatchObject({ path: '/api/profile', tokenValid: true });

  // The network is gone: a deep link still opens, from the precached shell, still logged in.
  server.cutNetwork(true);
  await page.goto(`${server.origin}/notes/today`);
  await ready(page);
  await expect(page.locator('#status')).toHaveText('logged in');
  await page.click('#note');
  await expect(out(page)).toContainText('"status":202');
  await expect(out(page)).toContainText('"queued":true');

  // Back: the next successful API call delivers what waits, with a token valid then.
  server.cutNetwork(false);
  await page.click('#profile');
  await expect(page.locator('#deliveries')).toHaveText('delivered POST /api/notes: 200');
  const delivered = server.apiRequests().find((r) => r.method === 'POST' && r.path === '/api/notes')!;
  expect(delivered).toMatchObject({ tokenValid: true, body: '{"text":"hello"}' });
  expect(server.apiRequests().filter((r) => r.method === 'POST')).toHaveLength(1);
  expect(server.stats.api.anonymous).toBe(0);
});

test('an update waits for the prompt (the proxy never skips waiting), then takes over with the session kept', async ({ page, app }) => {
  const { server, dir } = app;
  await page.goto(`${server.origin}/`);
  await ready(page);
  await page.click('#login');
  await expect(page.locator('#status')).toHaveText('logged in');
  // A returning visit (the page loads already controlled): the case in which the prompt reloads after an update.
  await page.reload();
  await ready(page);

  await writeFile(join(dir, 'sw.js'), `${await readFile(join(dir, 'sw.js'), 'utf8')}\n// version 2\n`);
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.update());
  await expect(page.locator('#update')).toBeVisible();
  // Waiting, not active: the old version still serves, with the session.
  expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.waiting !== null)).toBe(true);
  await page.click('#profile');
  await expect(out(page)).toContainText('"status":200');

  // The user says yes: SKIP_WAITING, the new version takes over and the page reloads.
  const reloaded = page.waitForEvent('load');
  await page.click('#reload');
  await reloaded;
  await ready(page);
  expect(await page.evaluate(async () => {
    const registration = (await navigator.serviceWorker.getRegistration())!;
    return { waiting: registration.waiting, controlled: navigator.serviceWorker.controller !== null };
  })).toEqual({ waiting: null, controlled: true });
  await expect(page.locator('#status')).toHaveText('logged in');
  await page.click('#profile');
  await expect(out(page)).toContainText('"user":"alice"');
  expect(server.stats.refreshGrants + server.stats.reuseDetections).toBe(0);
});
