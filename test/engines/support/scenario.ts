import { expect } from 'vitest';
import type { RegisterOptions, SessionStatus } from '../../../src/client/index.js';
import type { CallResult, ErrorResult, RecordedEvent } from '../../e2e/fixture/page.js';
import type { WorkerConfig } from '../../e2e/fixture/worker-config.js';
import { TokenServer, type TokenServerOptions } from '../../server/token-server.js';
import { ENGINES_BUILD_DIR } from '../fixture/build.js';
import type { Capability, EngineBrowser, EngineName, PageFunction, Tab } from '../harness/types.js';
import { waitFor, type WaitOptions } from '../harness/wait.js';

export { expect };
export type { WorkerConfig };

export const DEFAULT_CONFIG = { api: ['/api'], tokenEndpoint: '/oauth/token', revocationEndpoint: '/oauth/revoke' };

/** How a scenario is expected to end in an engine when that is not a plain pass. */
export type Expectation =
  /** It runs, and must fail: a known library gap or engine difference (the reason says which). */
  | { fails: string }
  /** It cannot be produced in this engine; the reason is printed. */
  | { skip: string };

export interface Scenario {
  /** The test's name, the same in every engine. */
  name: string;
  /** The strict token server's options for this scenario (one server, one origin, per test). */
  server?: TokenServerOptions;
  /** For every engine: e.g. a contract the library does not meet yet. */
  expect?: Expectation;
  /** Per engine, overriding `expect`. */
  engines?: Partial<Record<EngineName, Expectation>>;
  /** The broken worker (fixture/broken-sw.ts) must fail this one: see broken-worker.test.ts. */
  breaksBrokenWorker?: true;
  run(t: ScenarioContext): Promise<void>;
}

/** One scenario per file in scenarios/: `export default defineScenario({...})`. */
export const defineScenario = (scenario: Scenario): Scenario => scenario;

export function expectationFor(scenario: Scenario, engine: EngineName): Expectation | undefined {
  return scenario.engines?.[engine] ?? scenario.expect;
}

/** A session event as recorded by the test page, read loosely: reasons and codes the library may add. */
export type LooseEvent = RecordedEvent & { reason?: string; error?: { code?: string; message?: string } };

/** A tab on the test page of this test's origin. */
export class TestTab {
  constructor(
    readonly tab: Tab,
    private readonly t: ScenarioContext,
  ) {}

  evaluate<A extends unknown[], R>(fn: PageFunction<A, R>, ...args: A): Promise<R> {
    return this.tab.evaluate(fn, ...args);
  }

  /** Waits for the test page's script (window.tp) after a navigation. */
  async ready(): Promise<void> {
    await waitFor('the test page (window.tp)', () => this.evaluate(() => typeof window.tp !== 'undefined'), { timeoutMs: 10_000 });
  }

  /** Registers the worker (the scenario's script with `config`); resolves true or the page's error. */
  register(config: VersionedConfig = {}, options: RegisterOptions = {}): Promise<true | ErrorResult> {
    return this.evaluate((url: string, o: RegisterOptions) => window.tp.register(url, o), this.t.workerUrl(config), options);
  }

  login(user = 'alice'): Promise<SessionStatus> {
    return this.evaluate((u: string) => window.tp.login(u), user);
  }

  call(path: string, init?: RequestInit): Promise<CallResult> {
    return this.evaluate((p: string, i: RequestInit | null) => window.tp.call(p, i ?? undefined), path, init ?? null);
  }

  post(path: string, payload: unknown): Promise<CallResult> {
    return this.call(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(payload) });
  }

  status(): Promise<SessionStatus> {
    return this.evaluate(() => window.tp.proxy.status());
  }

  /** A call to the client library that may reject: the rejection comes back as `{ error }`, never thrown. */
  attempt(what: 'login' | 'status' | 'logout'): Promise<unknown> {
    return this.evaluate((which: string) => window.tp.attempt<unknown>(() => (which === 'login' ? window.tp.login() : which === 'status' ? window.tp.proxy.status() : window.tp.proxy.logout())), what);
  }

  events(): Promise<LooseEvent[]> {
    return this.evaluate(() => window.tp.events.slice()) as Promise<LooseEvent[]>;
  }

  /** Waits until this tab has heard an event of `type` (matching `where`), and returns it. */
  async heard(type: string, where: (event: LooseEvent) => boolean = () => true, options: WaitOptions = {}): Promise<LooseEvent> {
    return waitFor(`a ${type} event in a tab`, async () => (await this.events()).find((e) => e.type === type && where(e)), { timeoutMs: 5000, ...options });
  }

  controlled(): Promise<boolean> {
    return this.evaluate(() => window.tp.controlled());
  }

  close(): Promise<void> {
    return this.tab.close();
  }
}

export interface ScenarioContext {
  readonly engine: EngineName;
  readonly browser: EngineBrowser;
  /** This test's strict token server; its origin is this test's origin. */
  readonly server: TokenServer;
  /** Another server (another origin), closed after the test. */
  startServer(options?: TokenServerOptions): Promise<TestServer>;
  /** The worker script of this run (the library's test worker, or the broken one) with `config`. */
  workerUrl(config?: VersionedConfig): string;
  /** A tab at the test page, not registered yet. */
  blankTab(): Promise<TestTab>;
  /** A tab at the test page with the worker registered and in control (asserted). */
  openTab(config?: WorkerConfig, options?: RegisterOptions): Promise<TestTab>;
  openTabs(count: number, config?: WorkerConfig): Promise<TestTab[]>;
  /** Stops the origin's workers where the engine can. */
  stopWorkers(): Promise<Capability>;
  waitFor: typeof waitFor;
  /** Prints a line naming the engine and the test. */
  log(message: string): void;
}

export type TestServer = TokenServer;

/** A worker config; `version` changes only the script's URL, which makes it a new worker version. */
export type VersionedConfig = WorkerConfig & { version?: number };

export interface RunOptions {
  /** '/sw.js' (the library's test worker) unless the broken worker is under test. */
  workerScript?: string;
  /** Where `log` goes; the scenario's name and the engine are prefixed. */
  print?: (line: string) => void;
}

export async function runScenario(browser: EngineBrowser, scenario: Scenario, options: RunOptions = {}): Promise<void> {
  const workerScript = options.workerScript ?? '/sw.js';
  const print = options.print ?? ((line: string) => console.log(line));
  const servers: TokenServer[] = [];
  const startServer = async (serverOptions: TokenServerOptions = {}) => {
    const server = new TokenServer({ staticDir: ENGINES_BUILD_DIR, ...serverOptions });
    servers.push(server);
    await server.listen();
    return server;
  };
  await browser.beginTest();
  const server = await startServer(scenario.server);
  const t: ScenarioContext = {
    engine: browser.engine,
    browser,
    server,
    startServer,
    workerUrl: (config = {}) => `${workerScript}?config=${encodeURIComponent(JSON.stringify({ ...DEFAULT_CONFIG, ...config }))}`,
    async blankTab() {
      const tab = new TestTab(await browser.newTab(), t);
      await tab.tab.goto(`${server.origin}/`);
      await tab.ready();
      return tab;
    },
    async openTab(config = {}, registerOptions = {}) {
      const tab = await t.blankTab();
      expect(await tab.register(config, registerOptions), 'the worker registers and controls the tab').toBe(true);
      return tab;
    },
    async openTabs(count, config = {}) {
      const tabs: TestTab[] = [];
      for (let i = 0; i < count; i++) tabs.push(await t.openTab(config));
      return tabs;
    },
    stopWorkers: () => browser.stopServiceWorkers(server.origin),
    waitFor,
    log: (message) => print(`[${browser.engine}] ${scenario.name}: ${message}`),
  };
  try {
    await scenario.run(t);
  } finally {
    await browser.endTest().catch(() => undefined);
    for (const s of servers) await s.close();
  }
}

// ---- helpers the scenarios share ---------------------------------------------------------------

export const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

/**
 * `perTab` concurrent calls from every tab at once, each tab starting at `at` (epoch ms; the page's clock
 * is the machine's, as Node's) so the tabs fire together; resolves with every status (0 = network error).
 */
export async function storm(tabs: TestTab[], perTab: number, options: { path?: string; at?: number } = {}): Promise<number[]> {
  const results = await Promise.all(
    tabs.map((tab) =>
      tab.evaluate(
        async (n: number, path: string, at: number) => {
          while (Date.now() < at) await new Promise((resolve) => setTimeout(resolve, Math.min(10, at - Date.now())));
          return Promise.all(Array.from({ length: n }, () => fetch(path).then((r) => r.status, () => 0)));
        },
        perTab,
        options.path ?? '/api/data',
        options.at ?? 0,
      ),
    ),
  );
  return results.flat();
}

/** The session's access-token expiry, as the worker reports it. */
export async function expiryOf(tab: TestTab): Promise<number> {
  const { expiresAt } = await tab.status();
  expect(expiresAt, 'the session has an expiry').toBeTypeOf('number');
  return expiresAt!;
}

/** Waits (by condition, on the machine's clock) until the session's access token has expired. */
export async function waitUntilExpired(tab: TestTab): Promise<number> {
  const expiresAt = await expiryOf(tab);
  await waitFor('the access token to expire', () => Date.now() >= expiresAt, { timeoutMs: 30_000, intervalMs: 10 });
  return expiresAt;
}
