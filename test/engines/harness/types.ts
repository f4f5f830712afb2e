/**
 * The driver-neutral browser surface the shared scenarios are written against. Each engine's adapter
 * (chromium.ts, firefox.ts, webkit.ts) implements it with its own driver; nothing above this file knows
 * which driver runs.
 */

export type EngineName = 'chromium' | 'firefox' | 'webkit';
export const ENGINES: readonly EngineName[] = ['chromium', 'firefox', 'webkit'];

/** A JSON value: what crosses between Node and a page (both ways), whatever the driver. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * What an engine could or could not do for a test: `{ done: true }`, or why not. A scenario that needs
 * the capability prints `reason` and takes its slow path or skips.
 */
export type Capability = { done: true } | { done: false; reason: string };

/** A page function: runs in the page with `args` (JSON), may return a promise; its result must be JSON-able. */
export type PageFunction<A extends unknown[], R> = (...args: A) => R | Promise<R>;

export interface Tab {
  /** Navigates and waits for the load event. */
  goto(url: string): Promise<void>;
  /**
   * Runs `fn` in the page with `args` and resolves with its (awaited) result, JSON round-tripped. A throw
   * in the page rejects with its message. Calls on different tabs run concurrently in every engine.
   */
  evaluate<A extends unknown[], R>(fn: PageFunction<A, R>, ...args: A): Promise<R>;
  /** A reload that bypasses the service worker, as Shift+Reload does; resolves once loaded again. */
  hardReload(): Promise<Capability>;
  close(): Promise<void>;
}

/** One browser process of one engine, reused by every test of a run. */
export interface EngineBrowser {
  readonly engine: EngineName;
  /** e.g. "Chromium 156.0.8078.114" */
  readonly version: string;
  /** A fresh tab (in this test's context) at about:blank. */
  newTab(): Promise<Tab>;
  /** Starts a test: a fresh context where the engine has one (tabs of earlier tests are closed). */
  beginTest(): Promise<void>;
  /** Ends a test: closes its tabs (and context). */
  endTest(): Promise<void>;
  /** Stops every running service worker of `origin` and resolves once they are stopped. */
  stopServiceWorkers(origin: string): Promise<Capability>;
  /** Clears the origin's site data as the browser's own "clear site data" does. */
  clearSiteData(origin: string): Promise<Capability>;
  /** Sets the origin's storage quota (bytes); null restores the default. */
  overrideQuota(origin: string, bytes: number | null): Promise<Capability>;
  close(): Promise<void>;
}

export const cannot = (reason: string): Capability => ({ done: false, reason });
export const done: Capability = { done: true };
