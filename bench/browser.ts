/**
 * Browser plumbing for the benchmarks. Chromium is launched by Playwright (system Chromium, the e2e suite's
 * CHROMIUM_ARGS), but the measured pages are NOT Playwright pages: Playwright enables the Network domain on
 * every page and service worker it knows, and the events of every request then cost Chromium and this
 * process about 1.5 ms per request (measured: p50 of a worker-less GET 3.5 ms under Playwright, 2.2 ms
 * without), added to every setup alike, which pulls every ratio towards 1 and floods the 2 cores during
 * bursts. So the pages live in a browser context made over a raw CDP session (Target.createBrowserContext):
 * Playwright does not adopt targets of contexts it did not make, and we drive them with Runtime.evaluate
 * only — no Network, Page or Log domain, no per-request events.
 */
import { chromium, type Browser, type CDPSession } from 'playwright-core';
import type { TokenServer } from '../test/server/token-server.js';
import { CHROMIUM_ARGS } from '../test/e2e/playwright.config.js';
import { stopServiceWorkers, type VersionReport } from '../test/e2e/worker-stops.js';
import type {} from '../test/e2e/fixture/page.js'; // window.tp

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';

/** Config of the proxy worker (setup c): the e2e suite's DEFAULT_CONFIG with `offlineOutbox()`, the fuller worker. */
export const PROXY_CONFIG = { api: ['/api'], tokenEndpoint: '/oauth/token', revocationEndpoint: '/oauth/revoke', outbox: {} };

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** A browser context of our own, with pages reached through Target.sendMessageToTarget. */
export class BenchContext {
  private readonly pages = new Map<string, BenchPage>();

  private constructor(
    private readonly cdp: CDPSession,
    readonly browserContextId: string,
  ) {
    cdp.on('Target.receivedMessageFromTarget', ({ sessionId, message }) => this.pages.get(sessionId)?.receive(JSON.parse(message) as CdpMessage));
    cdp.on('Target.detachedFromTarget', ({ sessionId }) => {
      if (sessionId) this.pages.get(sessionId)?.detached();
    });
  }

  static async create(browser: Browser): Promise<BenchContext> {
    const cdp = await browser.newBrowserCDPSession();
    const { browserContextId } = await cdp.send('Target.createBrowserContext', { disposeOnDetach: true });
    return new BenchContext(cdp, browserContextId);
  }

  /**
   * Opens `url` and resolves once `ready(page)` holds — by default, once the test page's `window.tp` is
   * there. `ready` may throw while the page is still loading (or navigating): that counts as not yet.
   */
  async newPage(url: string, ready?: (page: BenchPage) => Promise<boolean>, timeoutMs = 10_000): Promise<BenchPage> {
    const { targetId } = await this.cdp.send('Target.createTarget', { url, browserContextId: this.browserContextId });
    // Not flattened: this session is Playwright's, and it routes no child sessions of ours.
    const { sessionId } = await this.cdp.send('Target.attachToTarget', { targetId, flatten: false });
    const page = new BenchPage(this.cdp, targetId, sessionId, () => this.pages.delete(sessionId));
    this.pages.set(sessionId, page);
    const origin = new URL(url).origin;
    const check = ready ?? ((p: BenchPage) => p.evaluate((o) => location.origin === o && window.tp !== undefined, origin));
    await until(() => check(page).catch(() => false), `${url} to load`, timeoutMs);
    // Latency is timed with performance.now(), which Chromium coarsens to 100 µs unless the page is isolated.
    if (!(await page.evaluate(() => self.crossOriginIsolated, undefined))) throw new Error(`${url} is not cross-origin isolated: its timers are coarse`);
    return page;
  }

  async close(): Promise<void> {
    await this.cdp.send('Target.disposeBrowserContext', { browserContextId: this.browserContextId }).catch(() => undefined);
    await this.cdp.detach().catch(() => undefined);
  }
}

export class BenchPage {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (result: Record<string, unknown>) => void; reject: (error: Error) => void }>();
  private readonly listeners = new Map<string, Set<(params: Record<string, unknown>) => void>>();

  constructor(
    private readonly cdp: CDPSession,
    readonly targetId: string,
    readonly sessionId: string,
    private readonly forget: () => void,
  ) {}

  receive(message: CdpMessage): void {
    if (message.id !== undefined) {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) waiter?.reject(new Error(message.error.message));
      else waiter?.resolve(message.result ?? {});
    } else if (message.method) {
      this.listeners.get(message.method)?.forEach((listener) => listener(message.params ?? {}));
    }
  }

  detached(): void {
    for (const waiter of this.pending.values()) waiter.reject(new Error('the page went away'));
    this.pending.clear();
    this.forget();
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = ++this.nextId;
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.cdp.send('Target.sendMessageToTarget', { sessionId: this.sessionId, message: JSON.stringify({ id, method, params }) }).catch((error: Error) => {
      this.pending.get(id)?.reject(error);
      this.pending.delete(id);
    });
    return answer;
  }

  on(method: string, listener: (params: Record<string, unknown>) => void): () => void {
    let set = this.listeners.get(method);
    if (!set) this.listeners.set(method, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Runs `fn(arg)` in the page and resolves with its (awaited, JSON) result. `fn` is sent as source text:
   * it must be self-contained (no imported bindings, no closure over Node values).
   */
  async evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
    const expression = `(${fn.toString()})(${JSON.stringify(arg) ?? 'undefined'})`;
    const result = (await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true })) as {
      result?: { value?: unknown };
      exceptionDetails?: { text?: string; exception?: { description?: string } };
    };
    if (result.exceptionDetails) throw new Error(result.exceptionDetails.exception?.description ?? result.exceptionDetails.text ?? 'evaluation failed');
    return result.result?.value as R;
  }

  /**
   * Stops every service worker of this browser context (CDP ServiceWorker.stopAllWorkers) and waits until
   * Chromium has reported each running one stopped — as test/e2e/helpers.ts stopWorkers() does.
   */
  async stopWorkers(): Promise<void> {
    const offs: Array<() => void> = [];
    try {
      await stopServiceWorkers({
        send: (method) => this.send(method),
        onVersions: (listener) => void offs.push(this.on('ServiceWorker.workerVersionUpdated', (params) => listener(params['versions'] as VersionReport[]))),
        waitFor: (what, check) => until(check, what, 5000, 5),
      });
    } finally {
      for (const off of offs) off();
      await this.send('ServiceWorker.disable').catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.cdp.send('Target.closeTarget', { targetId: this.targetId }).catch(() => undefined);
  }
}

export type Setup = 'none' | 'passthrough' | 'proxy';

/**
 * Opens the test page on `server` and, by setup: registers nothing (a), the pass-through worker (b), the
 * pass-through worker that reads one IndexedDB record first (b′, the cold start's second baseline), or the
 * proxy worker with `config` (c). Every worker is registered through the client library, which resolves
 * once the worker controls the page.
 */
export async function openTab(context: BenchContext, server: TokenServer, setup: Setup | 'passthrough-idb', config: object = PROXY_CONFIG): Promise<BenchPage> {
  const page = await context.newPage(`${server.origin}/`);
  if (setup === 'none') return page;
  const started =
    setup === 'proxy'
      ? await page.evaluate((c) => window.tp.start(c), config)
      : await page.evaluate((script) => window.tp.register(script), `/${setup}-sw.js`);
  if (started !== true) throw new Error(`${setup} worker did not start on ${server.origin}: ${JSON.stringify(started)}`);
  if (!(await page.evaluate(() => window.tp.controlled(), undefined))) throw new Error(`${setup} worker does not control ${server.origin}`);
  return page;
}

export async function login(page: BenchPage): Promise<void> {
  const status = await page.evaluate(() => window.tp.attempt(() => window.tp.login()), undefined);
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
