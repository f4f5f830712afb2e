import type { TestTab } from './scenario.js';

/** The worker's database at the root scope (appNames('/').database in src/shared/protocol.ts). */
export const DATABASE = 'sw-token-proxy';

/** Calls the page makes, each with how long it took: a hang shows as a time near the page's own limit. */
export async function timedCall(tab: TestTab, path: string): Promise<{ status: number; ms: number; authorization?: string }> {
  return tab.evaluate(async (p: string) => {
    const started = performance.now();
    const result = await window.tp.call(p);
    return { status: result.status, ms: Math.round(performance.now() - started) };
  }, path);
}

/** A client-library call that may reject, with its time; a rejection comes back as `{ error }`. */
export async function timedAttempt(tab: TestTab, what: 'login' | 'status'): Promise<{ value: unknown; ms: number }> {
  return tab.evaluate(async (which: string) => {
    const started = performance.now();
    const value = await window.tp.attempt(() => (which === 'login' ? window.tp.login() : window.tp.proxy.status()));
    return { value, ms: Math.round(performance.now() - started) };
  }, what);
}
