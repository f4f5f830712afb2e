import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Builder, type WebDriver } from 'selenium-webdriver';
import { decodeResult, describeFunction, pageExpression } from './page-script.js';
import { waitFor } from './wait.js';
import { cannot, type Capability, type EngineBrowser, type PageFunction, type Tab } from './types.js';

export const webkitDriverPath = () => process.env['WEBKIT_DRIVER_PATH'] || '/usr/bin/WebKitWebDriver';
export const miniBrowserPath = () => process.env['MINIBROWSER_PATH'] || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** One command at a time, each on its own window: classic WebDriver has one current window per session. */
function serialiser() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** How long one poll of a running page job may hold the session before other tabs get their turn. */
const JOB_POLL_MS = 50;

/**
 * WebKitGTK's MiniBrowser (--automation) through selenium-webdriver against a WebKitWebDriver started on
 * a free port; needs a display (run under `xvfb-run -a`). Each tab is a window of its own, so no page is
 * a hidden background tab. A page function runs as a job in its page: started in one command and
 * collected by short polls, so a long evaluate in one tab does not hold the session while the others'
 * evaluates wait — calls on different tabs overlap here as they do in the other engines.
 */
export async function launchWebKit(): Promise<EngineBrowser> {
  if (!process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY']) {
    throw new Error('WebKit (MiniBrowser) needs a display: run the WebKit suite under `xvfb-run -a` (scripts/engines-test.mjs does)');
  }
  if (!existsSync(miniBrowserPath())) throw new Error(`MiniBrowser not found at ${miniBrowserPath()}`);
  const port = await freePort();
  const server: ChildProcess = spawn(webkitDriverPath(), [`--port=${port}`, '--host=127.0.0.1'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<never>((_, reject) => server.once('exit', (code) => reject(new Error(`WebKitWebDriver exited (${code})`))));
  exited.catch(() => undefined);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('WebKitWebDriver to listen', async () => (await fetch(`${url}/status`).then((r) => r.ok, () => false)) || undefined, { timeoutMs: 10_000 });

  const driver: WebDriver = await new Builder()
    .usingServer(url)
    .withCapabilities({ browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: miniBrowserPath(), args: ['--automation'] } })
    .build();
  await driver.manage().setTimeouts({ script: 30_000, pageLoad: 30_000 });
  const capabilities = await driver.getCapabilities();
  const version = `WebKitGTK ${String(capabilities.get('browserVersion') ?? '?')}`;
  // The session ends with its last window: this one stays, at about:blank, and is no client of any test.
  const home = await driver.getWindowHandle();
  let currentWindow = home;
  const serial = serialiser();
  const open = new Set<string>();
  let jobs = 0;

  /** Runs `command` on `handle`'s window, after every command queued before it. */
  const on = <T>(handle: string, command: () => Promise<T>): Promise<T> =>
    serial(async () => {
      if (currentWindow !== handle) {
        await driver.switchTo().window(handle);
        currentWindow = handle;
      }
      return command();
    });

  async function closeWindow(handle: string): Promise<void> {
    if (!open.delete(handle)) return;
    await on(handle, () => driver.close());
    await serial(async () => {
      await driver.switchTo().window(home);
      currentWindow = home;
    });
  }

  async function endTest(): Promise<void> {
    for (const handle of [...open]) await closeWindow(handle);
  }

  const tabOf = (handle: string): Tab => ({
    async goto(target) {
      await on(handle, () => driver.get(target));
    },
    async evaluate<A extends unknown[], R>(fn: PageFunction<A, R>, ...args: A): Promise<R> {
      const id = `job${++jobs}`;
      const key = JSON.stringify(id);
      // The job's result is kept in the page until a poll takes it: a poll that gave up waiting never loses it.
      await on(handle, () => driver.executeScript(`const jobs = (window.__enginesJobs ??= {}); jobs[${key}] = { done: false }; (${pageExpression(fn, args)}).then((encoded) => { jobs[${key}] = { done: true, encoded }; });`));
      for (;;) {
        const polled = await on(handle, () =>
          driver.executeAsyncScript<string>(
            `const done = arguments[arguments.length - 1];
             const jobs = window.__enginesJobs || {};
             const take = () => { const job = jobs[${key}]; if (!job) return 'G'; if (!job.done) return null; delete jobs[${key}]; return 'R' + job.encoded; };
             const now = take();
             if (now !== null) { done(now); return; }
             const started = Date.now();
             const tick = () => { const later = take(); if (later !== null) done(later); else if (Date.now() - started >= ${JOB_POLL_MS}) done('P'); else setTimeout(tick, 2); };
             setTimeout(tick, 2);`,
          ),
        );
        if (polled.startsWith('R')) return decodeResult<R>(polled.slice(1), describeFunction(fn));
        if (polled === 'G') throw new Error(`${describeFunction(fn)}: the page went away before its result (navigation or reload)`);
      }
    },
    async hardReload(): Promise<Capability> {
      return cannot('WebDriver classic has no reload that bypasses the service worker (no Shift+Reload in WebKitWebDriver)');
    },
    close: () => closeWindow(handle),
  });

  return {
    engine: 'webkit',
    version,
    async newTab() {
      const handle = await serial(async () => {
        await driver.switchTo().newWindow('window');
        currentWindow = await driver.getWindowHandle();
        return currentWindow;
      });
      open.add(handle);
      return tabOf(handle);
    },
    async beginTest() {
      await endTest();
    },
    endTest,
    stopServiceWorkers: async () =>
      cannot('WebKit has no way to stop a service worker on demand (no protocol command, no privileged script); it ends a worker only some seconds after every page of its origin has gone'),
    clearSiteData: async () => cannot('WebKitWebDriver has no command to clear site data, and MiniBrowser has no automation hook for it'),
    overrideQuota: async () => cannot('WebKitWebDriver has no quota override'),
    async close() {
      await driver.quit().catch(() => undefined);
      server.kill();
    },
  };
}
