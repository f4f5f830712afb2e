/**
 * Setup (d) of the benchmarks: AXA's @axa-fr/oidc-client in service-worker mode (bench/fixture/axa-page.ts,
 * its OidcServiceWorker.js and bench/fixture/OidcTrustedDomains.js), driven like the other setups but logged
 * in through AXA's own flow: loginAsync() → the test server's /oauth/authorize (autoApprove: no login form)
 * → /axa-callback.html → loginCallbackAsync() (code + PKCE S256 exchanged through the worker, which keeps
 * the tokens and hands the page placeholders).
 */
import type { TokenServer, TokenServerOptions } from '../test/server/token-server.js';
import { until, type BenchContext, type BenchPage } from './browser.js';
import type { AxaEvent, AxaStatus } from './fixture/axa-page.js';

export type { AxaEvent, AxaStatus } from './fixture/axa-page.js';

/** The test-server options (d) needs: the authorization endpoint answers with a code at once. */
export const AXA_SERVER_OPTIONS: TokenServerOptions = { autoApprove: 'alice' };

/** Every tab of a figure uses the same skew: AXA refreshes `skewSeconds` before the access token expires. */
export async function openAxaTab(context: BenchContext, server: TokenServer, skewSeconds: number): Promise<BenchPage> {
  const page = await context.newPage(`${server.origin}/axa.html?skew=${skewSeconds}`, async (p) => {
    const state = await p.evaluate(() => window.axa?.state ?? 'loading', undefined);
    return state !== 'loading';
  });
  await expectReady(page, server);
  return page;
}

async function expectReady(page: BenchPage, server: TokenServer): Promise<void> {
  const { state, error, controlled } = await page.evaluate(() => ({ state: window.axa.state, error: window.axa.error, controlled: window.axa.controlled() }), undefined);
  if (state !== 'ready') throw new Error(`AXA page on ${server.origin} failed: ${error ?? state}`);
  if (!controlled) throw new Error(`AXA's OidcServiceWorker.js does not control ${server.origin}`);
}

export function axaStatus(page: BenchPage): Promise<AxaStatus> {
  return page.evaluate(() => window.axa.status(), undefined);
}

export function axaEvents(page: BenchPage): Promise<AxaEvent[]> {
  return page.evaluate(() => window.axa.events, undefined);
}

/**
 * AXA's login in `page`: the document navigates to the authorization endpoint and comes back to
 * /axa-callback.html, whose loginCallbackAsync() completes the exchange. Resolves with the session the
 * page then holds (placeholders only, checked).
 */
export async function axaLogin(page: BenchPage, server: TokenServer): Promise<AxaStatus> {
  // A mark on the current document: the callback is done when a document without it is ready.
  await page.evaluate(() => {
    (window as unknown as { benchLeaving?: true }).benchLeaving = true;
    window.axa.login();
  }, undefined);
  await until(
    () =>
      page.evaluate(
        () =>
          (window as unknown as { benchLeaving?: true }).benchLeaving === undefined &&
          location.pathname === '/axa-callback.html' &&
          window.axa !== undefined &&
          window.axa.state !== 'loading',
        undefined,
      ),
    `AXA's login on ${server.origin}`,
  );
  await expectReady(page, server);
  const status = await axaStatus(page);
  if (!status.loggedIn) throw new Error(`AXA login on ${server.origin} left no session`);
  if (!status.hidden) throw new Error(`AXA login on ${server.origin}: the page holds real tokens (not service-worker mode)`);
  return status;
}

/**
 * Waits until `page` holds the session issued at `issuedAt`, or a later one: AXA tabs pick up another tab's
 * login on their 1 s timer, and with short-lived tokens that tab may have refreshed it by then. A tab with
 * no session (logged out, or never logged in) runs no timer: it is asked to adopt the worker's.
 */
export async function axaAdopted(page: BenchPage, issuedAt: number, what: string): Promise<void> {
  await until(async () => {
    const status = await axaStatus(page);
    if (status.loggedIn && status.issuedAt !== null && status.issuedAt >= issuedAt) return true;
    if (!status.loggedIn) await page.evaluate(() => window.axa.keep(), undefined);
    return false;
  }, what);
}

/** Logs in through AXA's flow in `tabs[0]` and waits until every other tab holds that session. */
export async function axaSession(tabs: readonly BenchPage[], server: TokenServer): Promise<AxaStatus> {
  const [first, ...others] = tabs;
  if (!first) throw new Error('axaSession: no tab');
  const status = await axaLogin(first, server);
  if (status.issuedAt === null) throw new Error(`AXA login on ${server.origin}: the session has no issuedAt`);
  const issuedAt = status.issuedAt;
  await Promise.all(others.map((tab) => axaAdopted(tab, issuedAt, `AXA tabs on ${server.origin} to adopt the login`)));
  return status;
}
