import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';
import type { RegisterOptions } from '../../src/client/index.js';
import { OFFLINE_PROBE, TokenServer, type TokenServerOptions } from '../server/token-server.js';
import type { CallResult } from './fixture/page.js';
import { FIXTURE_DIR } from './fixture/build.js';
import type { WorkerConfig } from './fixture/worker-config.js';
import { stopServiceWorkers } from './worker-stops.js';

export { expect };
export type { WorkerConfig };

export const DEFAULT_CONFIG = { api: ['/api'], tokenEndpoint: '/oauth/token', revocationEndpoint: '/oauth/revoke' };

/** The worker config a test asks for, on top of the defaults; with sign-in, its endpoints come from discovery. */
export const workerConfig = (config: WorkerConfig = {}): WorkerConfig => ({ ...(config.signIn ? { api: DEFAULT_CONFIG.api } : DEFAULT_CONFIG), ...config });

export async function startServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const server = new TokenServer({ staticDir: FIXTURE_DIR, ...options });
  await server.listen();
  return server;
}

/** A strict token server per test; `test.use({ serverOptions })` changes it for a describe block. */
export const test = base.extend<{ serverOptions: TokenServerOptions; server: TokenServer }>({
  serverOptions: [{}, { option: true }],
  server: async ({ serverOptions }, use) => {
    const server = await startServer(serverOptions);
    await use(server);
    await server.close();
  },
});

/** Opens a tab on the test page and registers the worker with `config`; fails the test if that fails. */
export async function openTab(
  context: BrowserContext,
  server: TokenServer,
  config: WorkerConfig = {},
  options: RegisterOptions = {},
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${server.origin}/`);
  await page.waitForFunction(() => window.tp !== undefined);
  const started = await page.evaluate(([c, o]) => window.tp.start(c, o), [workerConfig(config), options] as const);
  expect(started).toBe(true);
  return page;
}

export async function openTabs(count: number, context: BrowserContext, server: TokenServer, config: WorkerConfig = {}): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) pages.push(await openTab(context, server, config));
  return pages;
}

export function call(page: Page, path: string, init?: RequestInit): Promise<CallResult> {
  return page.evaluate(([p, i]) => window.tp.call(p, i), [path, init] as const);
}

/**
 * Cuts the network of `context` and waits until a request the worker itself sends fails: setOffline answers
 * before its emulation has reached the worker's target (a write once left mid-cut). The probe is a GET,
 * which is never kept, and the server does not count it as API traffic.
 */
export async function goOffline(context: BrowserContext, page: Page): Promise<void> {
  await context.setOffline(true);
  await expect.poll(async () => (await call(page, OFFLINE_PROBE)).status).toBe(0);
}

export function login(page: Page, user = 'alice') {
  return page.evaluate((u) => window.tp.login(u), user);
}

/** Waits (on the page's clock, by condition) until the session's access token has expired. */
export async function waitUntilExpired(page: Page): Promise<void> {
  const { expiresAt } = await page.evaluate(() => window.tp.proxy.status());
  expect(expiresAt).toBeDefined();
  await page.waitForFunction((t) => Date.now() >= t, expiresAt!, { polling: 50, timeout: 30_000 });
}

/** The events a tab has heard so far. */
export function events(page: Page) {
  return page.evaluate(() => window.tp.events.slice());
}

/**
 * Stops every service worker of the browser (CDP ServiceWorker.stopAllWorkers) and waits until Chromium
 * has reported each running one stopped (see worker-stops.ts).
 */
export async function stopWorkers(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await stopServiceWorkers({
    send: (method) => cdp.send(method),
    onVersions: (listener) => cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => listener(versions)),
    waitFor: (what, check) => expect.poll(check, { timeout: 5000, message: what }).toBe(true),
  });
  await cdp.detach();
}
