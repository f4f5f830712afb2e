import type { Page } from '@playwright/test';
import type { TokenServerOptions } from '../server/token-server.js';
import { expect, login, openTab, test } from './helpers.js';

// A device clock an hour off the server's: expiry given as an absolute time must still work — no refresh
// on every request (the loop peers' users report), no token used long after it died.

/** Calls the API every 100 ms for `ms`, from the page; resolves with every status. */
const callFor = (page: Page, ms: number) =>
  page.evaluate(async (duration) => {
    const statuses: number[] = [];
    const end = Date.now() + duration;
    while (Date.now() < end) {
      statuses.push((await fetch('/api/data')).status);
      await new Promise((resolve) => setTimeout(resolve, 100)); // the app's own pace, not synchronisation
    }
    return statuses;
  }, ms);

const shapes: Array<[string, TokenServerOptions]> = [
  ['expires_at only', { expiry: 'expires_at' }],
  ['a JWT exp only', { expiry: 'none', jwtAccessTokens: true }],
];

for (const [clock, offset] of [['an hour ahead', 3600], ['an hour behind', -3600]] as const) {
  for (const [shape, options] of shapes) {
    test.describe(`the server's clock ${clock}, ${shape}`, () => {
      test.use({ serverOptions: { ...options, clockOffsetSeconds: offset, accessTokenTtlSeconds: 4 } });

      test('one refresh per token lifetime at most, every call answered, no reuse', async ({ context, server }) => {
        const tab = await openTab(context, server);
        await login(tab);
        const statuses = await callFor(tab, 9_000);
        expect(statuses.length).toBeGreaterThan(40);
        expect(statuses.filter((s) => s !== 200)).toEqual([]);
        // 9 s of 4 s tokens: a handful of refreshes (the first may come from a 401), never one per call
        expect(server.stats.refreshGrants).toBeGreaterThanOrEqual(2);
        expect(server.stats.refreshGrants).toBeLessThanOrEqual(6);
        expect(server.stats.reuseDetections).toBe(0);
        // Refreshed before expiry, by the server's clock: at most the login's own token (handed over by the
        // page, with no Date header to place its expires_at by) is ever sent dead, once — then a 401 refreshes it.
        expect(server.stats.api.unauthorized).toBeLessThanOrEqual(1);
      });
    });
  }
}
