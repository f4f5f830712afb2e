// Browser plumbing for the benchmarks, without Playwright's test runner (no `expect`, no fixtures).
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { TokenServer } from '../test/server/token-server.js';
import { CHROMIUM_ARGS } from '../test/e2e/playwright.config.js';
import type {} from '../test/e2e/fixture/page.js'; // window.tp

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';

/** Config of the proxy worker (setup c), as the e2e suite's DEFAULT_CONFIG. */
export const PROXY_CONFIG = { api: ['/api'], tokenEndpoint: '/oauth/token', revocationEndpoint: '/oauth/revoke' };

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

export function newContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ serviceWorkers: 'allow' });
}

export type Setup = 'none' | 'passthrough' | 'proxy';

/**
 * Opens the test page on `server` and, by setup: registers nothing (a), the pass-through worker (b), or
 * the proxy worker with `config` (c). Both workers are registered through the client library, which
 * resolves once the worker controls the page.
 */
export async function openTab(context: BrowserContext, server: TokenServer, setup: Setup, config: object = PROXY_CONFIG): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${server.origin}/`);
  await page.waitForFunction(() => window.tp !== undefined);
  if (setup === 'none') return page;
  const started =
    setup === 'proxy'
      ? await page.evaluate((c) => window.tp.start(c), config)
      : await page.evaluate(() => window.tp.register('/passthrough-sw.js'));
  if (started !== true) throw new Error(`${setup} worker did not start on ${server.origin}: ${JSON.stringify(started)}`);
  if (!(await page.evaluate(() => window.tp.controlled()))) throw new Error(`${setup} worker does not control ${server.origin}`);
  return page;
}

export async function login(page: Page): Promise<void> {
  const status = await page.evaluate(() => window.tp.attempt(() => window.tp.login()));
  if (!status || typeof status !== 'object' || !('loggedIn' in status) || status.loggedIn !== true) {
    throw new Error(`login failed: ${JSON.stringify(status)}`);
  }
}

/** Resolves when `check()` is true; polls every `everyMs`. For synchronising on a condition, never a fixed sleep. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Stops every service worker of the browser (CDP ServiceWorker.stopAllWorkers) and waits until Chromium
 * has reported each running one stopped — as test/e2e/helpers.ts stopWorkers() does.
 */
export async function stopWorkers(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  const running = new Set<string>();
  const stopped = new Set<string>();
  let stopping = false;
  cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
    for (const v of versions) {
      if (v.runningStatus === 'running' && !stopping) running.add(v.versionId);
      if (v.runningStatus === 'stopped') stopped.add(v.versionId);
    }
  });
  await cdp.send('ServiceWorker.enable');
  stopping = true;
  await cdp.send('ServiceWorker.stopAllWorkers');
  await until(() => [...running].every((id) => stopped.has(id)), 'the service workers to stop', 5000, 5);
  await cdp.detach();
}
