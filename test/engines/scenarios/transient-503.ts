import { count, defineScenario, expect, storm, waitUntilExpired } from '../support/scenario.js';

export default defineScenario({
  name: 'transient 503: twice then success → no logout, every call answered 200 after the backoff, one grant',
  server: { accessTokenTtlSeconds: 2 },
  async run(t) {
    const tabs = await t.openTabs(2);
    await tabs[0]!.login();
    await waitUntilExpired(tabs[0]!);
    t.server.fail('refresh', '503', { count: 2 });
    const statuses = await storm(tabs, 10);
    expect(count(statuses, 200)).toBe(20);
    expect(t.server.stats).toMatchObject({ refreshRequests: 3, refreshGrants: 1, reuseDetections: 0 });
    for (const tab of tabs) expect((await tab.events()).some((e) => e.type === 'logged-out')).toBe(false);
    expect((await tabs[1]!.status()).loggedIn).toBe(true);
  },
});
