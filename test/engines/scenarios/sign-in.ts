import { defineScenario, expect, type WorkerConfig } from '../support/scenario.js';

/** The worker signs in at the test server (its own origin); token and revocation endpoints come from discovery. */
const signIn = (issuer: string): WorkerConfig => ({ signIn: { issuer, clientId: 'spa', redirectUri: '/callback', scope: 'openid offline_access' } });

export default defineScenario({
  name: 'sign-in run by the worker: the provider comes back to the redirect URI, the worker completes it, every tab hears logged-in, the code never reaches the page',
  server: { autoApprove: 'alice' },
  async run(t) {
    // The harness's default config names the endpoints; discovery is what this test proves, so leave them out.
    const config = { ...signIn(t.server.origin), tokenEndpoint: undefined, revocationEndpoint: undefined } as unknown as WorkerConfig;
    const tab = await t.openTab(config);
    const other = await t.openTab(config);
    // The page navigates away once it has the URL: start the sign-in and wait for the landing.
    await tab.evaluate(() => window.tp.leave(() => window.tp.proxy.signIn({ returnTo: '/?signed-in' })));
    await t.waitFor('the page back on the app, at returnTo', () => tab.evaluate(() => location.search === '?signed-in' && typeof window.tp !== 'undefined'), { timeoutMs: 15_000 });
    expect(await tab.evaluate(() => window.tp.leftWith())).toEqual({ settled: null }); // signIn resolved: no error kept
    expect(await tab.evaluate(() => location.href)).not.toContain('code=');
    expect(t.server.requests.some((r) => r.path.startsWith('/callback'))).toBe(false); // the worker answered it
    await other.heard('logged-in');
    expect(await tab.register(config)).toBe(true);
    expect(await tab.status()).toMatchObject({ loggedIn: true });
    expect((await other.call('/api/data')).status).toBe(200);
    expect(t.server.stats).toMatchObject({ codeGrants: 1, codeReuse: 0, discoveryRequests: 1 });
  },
});
