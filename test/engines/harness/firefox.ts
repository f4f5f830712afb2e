import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';
import { decodeResult, describeFunction, pageExpression } from './page-script.js';
import { cannot, done, type Capability, type EngineBrowser, type PageFunction, type Tab } from './types.js';

export const firefoxPath = () => process.env['FIREFOX_PATH'] || '/usr/bin/firefox-esr';

/** The part of puppeteer's raw BiDi connection we use (reached through `browser.connection`, not in its typed API). */
interface BidiConnection {
  send(method: string, params: Record<string, unknown>): Promise<{ result: unknown }>;
}
interface BidiEvaluateResult {
  type: 'success' | 'exception';
  result?: { type: string; value?: unknown };
  exceptionDetails?: { text?: string };
}

/**
 * Firefox ESR through puppeteer-core over WebDriver BiDi, headless. Privileged ("chrome" scope) script
 * over the same connection (`--remote-allow-system-access`) stops workers and clears site data, which
 * the page-facing protocol cannot.
 */
export async function launchFirefox(): Promise<EngineBrowser> {
  const browser: Browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: firefoxPath(),
    headless: true,
    args: ['--remote-allow-system-access'],
    extraPrefsFirefox: {
      // Only one tab is in front: without these, timers of the others are clamped to 1 s and budgeted,
      // and a background tab's polling would stand for engine behaviour it is not.
      'dom.min_background_timeout_value': 4,
      'dom.timeout.enable_budget_timer_throttling': false,
      'dom.timeout.background_throttling_max_budget': -1,
    },
  });
  const connection = (browser as unknown as { connection: BidiConnection }).connection;
  let context: BrowserContext | null = null;
  const pages = new Set<Page>();

  let chromeContext: string | null = null;
  /** Runs `source` (an expression, awaited) with chrome privileges; resolves with its string result. */
  async function privileged(source: string): Promise<string> {
    if (chromeContext === null) {
      const { result } = (await connection.send('browsingContext.getTree', { 'moz:scope': 'chrome' })) as { result: { contexts: Array<{ context: string }> } };
      chromeContext = result.contexts[0]?.context ?? null;
      if (chromeContext === null) throw new Error('Firefox gave no chrome-scope browsing context (is --remote-allow-system-access on?)');
    }
    const { result } = (await connection.send('script.evaluate', {
      expression: source,
      target: { context: chromeContext },
      awaitPromise: true,
      'moz:scope': 'chrome',
    })) as { result: BidiEvaluateResult };
    if (result.type !== 'success') throw new Error(`privileged script failed: ${result.exceptionDetails?.text ?? 'unknown'}`);
    return String(result.result?.value ?? '');
  }

  async function endTest(): Promise<void> {
    pages.clear();
    await context?.close();
    context = null;
  }
  const current = async (): Promise<BrowserContext> => (context ??= await browser.createBrowserContext());

  const tabOf = (page: Page): Tab => ({
    async goto(url) {
      await page.goto(url, { waitUntil: 'load' });
    },
    async evaluate<A extends unknown[], R>(fn: PageFunction<A, R>, ...args: A): Promise<R> {
      return decodeResult<R>(await page.evaluate(pageExpression(fn, args)), describeFunction(fn));
    },
    async hardReload(): Promise<Capability> {
      try {
        await page.reload({ ignoreCache: true, waitUntil: 'load' });
        return done;
      } catch (error) {
        // Firefox ESR 153's BiDi answers "Argument "ignoreCache" is not supported yet".
        if (String(error).includes('ignoreCache')) return cannot(`Firefox's WebDriver BiDi has no reload that bypasses the cache and worker (${String(error).split('\n')[0]})`);
        throw error;
      }
    },
    async close() {
      pages.delete(page);
      await page.close();
    },
  });

  return {
    engine: 'firefox',
    version: await browser.version(),
    async newTab() {
      const page = await (await current()).newPage();
      pages.add(page);
      return tabOf(page);
    },
    async beginTest() {
      await endTest();
      context = await browser.createBrowserContext();
    },
    endTest,
    async stopServiceWorkers(origin) {
      // terminateWorker() resolves once the worker is shut down; the next event starts a new instance.
      const stopped = await privileged(`(async () => {
        const manager = Cc['@mozilla.org/serviceworkers/manager;1'].getService(Ci.nsIServiceWorkerManager);
        const registrations = manager.getAllRegistrations();
        let stopped = 0;
        for (let i = 0; i < registrations.length; i++) {
          const registration = registrations.queryElementAt(i, Ci.nsIServiceWorkerRegistrationInfo);
          if (!registration.scope.startsWith(${JSON.stringify(`${origin}/`)})) continue;
          for (const worker of [registration.activeWorker, registration.waitingWorker, registration.installingWorker]) {
            if (worker) { await worker.terminateWorker(); stopped++; }
          }
        }
        return String(stopped);
      })()`);
      return Number(stopped) > 0 ? done : cannot(`no registration of ${origin} found to stop`);
    },
    async clearSiteData(origin) {
      // What Settings → Cookies and Site Data → Clear does for one site: every kind of data of its host.
      const host = new URL(origin).hostname;
      await privileged(`new Promise((resolve, reject) => {
        Services.clearData.deleteDataFromHost(${JSON.stringify(host)}, true, Ci.nsIClearDataService.CLEAR_ALL, (failed) => failed ? reject(new Error('clear-data flags failed: ' + failed)) : resolve('ok'));
      })`);
      return done;
    },
    async overrideQuota() {
      return cannot('Firefox has no per-origin quota override (its limits are browser-wide prefs, with a 10 MB floor per site)');
    },
    close: () => browser.close(),
  };
}
