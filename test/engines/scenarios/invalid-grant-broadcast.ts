import { count, defineScenario, expect, storm, waitUntilExpired } from '../support/scenario.js';

export default defineScenario({
  name: 'invalid_grant: every tab hears logged-out (refresh-rejected), no call hangs, one refresh request',
  server: { accessTokenTtlSeconds: 2 },
  breaksBrokenWorker: true,
  async run(t) {
    const tabs = await t.openTabs(3);
    await tabs[0]!.login();
    await waitUntilExpired(tabs[0]!);
    t.server.fail('refresh', 'invalid_grant');
    const statuses = await storm(tabs, 10);
    expect(count(statuses, 401), `401s of ${statuses.join(',')}`).toBe(30);
    for (const tab of tabs) {
      expect(await tab.heard('logged-out')).toMatchObject({ reason: 'refresh-rejected' });
      expect((await tab.status()).loggedIn).toBe(false);
    }
    expect(t.server.stats.refreshRequests).toBe(1);
    // Logged out means the calls go out bare: nothing left to refresh.
    expect((await tabs[2]!.call('/api/data')).status).toBe(401);
    expect(t.server.apiRequests().at(-1)!.authorization).toBeNull();
    expect(t.server.stats.refreshRequests).toBe(1);
  },
});
