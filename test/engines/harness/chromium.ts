import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type CDPSession, type Page } from '@playwright/test';
import { CHROMIUM_ARGS } from '../../e2e/playwright.config.js';
import { stopServiceWorkers } from '../../e2e/worker-stops.js';
import { decodeResult, describeFunction, pageExpression } from './page-script.js';
import { waitFor } from './wait.js';
import { done, type Capability, type EngineBrowser, type PageFunction, type Tab } from './types.js';

export const chromiumPath = () => process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';

/**
 * Chromium through Playwright's library API, CDP for the rest. One browser with a persistent profile (a
 * temporary folder), fresh tabs per test: CDP's quota override acts on the profile's default storage
 * partition only, not on the throwaway contexts `browser.newContext()` makes. One origin per test keeps
 * the tests' registrations and storage apart.
 */
export async function launchChromium(): Promise<EngineBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'sw-token-proxy-engines-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    args: CHROMIUM_ARGS,
    headless: true,
    serviceWorkers: 'allow',
  });
  // The page the profile opens with stays: CDP sessions attach to it, and it belongs to no test.
  const anchor = context.pages()[0] ?? (await context.newPage());
  const testPages = new Set<Page>();

  async function withCdp<T>(use: (cdp: CDPSession) => Promise<T>): Promise<T> {
    const cdp = await context.newCDPSession(anchor);
    try {
      return await use(cdp);
    } finally {
      await cdp.detach().catch(() => undefined);
    }
  }

  const tabOf = (page: Page): Tab => ({
    async goto(url) {
      await page.goto(url, { waitUntil: 'load' });
    },
    async evaluate<A extends unknown[], R>(fn: PageFunction<A, R>, ...args: A): Promise<R> {
      return decodeResult<R>(await page.evaluate(pageExpression(fn, args)), describeFunction(fn));
    },
    async hardReload(): Promise<Capability> {
      const cdp = await page.context().newCDPSession(page);
      const loaded = page.waitForEvent('load');
      await cdp.send('Page.reload', { ignoreCache: true }); // what Shift+Reload does: bypasses the worker
      await loaded;
      await cdp.detach();
      return done;
    },
    async close() {
      testPages.delete(page);
      await page.close();
    },
  });

  let quotaSession: CDPSession | null = null;
  const dropQuotaSession = async () => {
    await quotaSession?.detach().catch(() => undefined);
    quotaSession = null;
  };
  const closeTestPages = async () => {
    await dropQuotaSession();
    for (const page of testPages) await page.close().catch(() => undefined);
    testPages.clear();
  };

  return {
    engine: 'chromium',
    version: `Chromium ${context.browser()?.version() ?? '?'}`,
    async newTab() {
      const page = await context.newPage();
      testPages.add(page);
      return tabOf(page);
    },
    beginTest: closeTestPages,
    endTest: closeTestPages,
    stopServiceWorkers: (origin) =>
      withCdp(async (cdp) => {
        await stopServiceWorkers(
          {
            send: (method) => cdp.send(method),
            onVersions: (listener) => cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => listener(versions)),
            waitFor: (what, check) => waitFor(what, check, { timeoutMs: 5000 }),
          },
          (scriptURL) => scriptURL.startsWith(`${origin}/`),
        );
        return done;
      }),
    clearSiteData: (origin) =>
      withCdp(async (cdp) => {
        await cdp.send('Storage.clearDataForOrigin', { origin, storageTypes: 'all' });
        return done;
      }),
    async overrideQuota(origin, bytes) {
      // Chromium drops an override when the DevTools session that set it detaches: the session stays
      // attached until the override is lifted (or the test ends).
      quotaSession ??= await context.newCDPSession(anchor);
      await quotaSession.send('Storage.overrideQuotaForOrigin', bytes === null ? { origin } : { origin, quotaSize: bytes });
      if (bytes === null) await dropQuotaSession();
      return done;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
