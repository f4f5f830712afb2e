import { defineScenario, expect, waitUntilExpired } from '../support/scenario.js';

export default defineScenario({
  name: 'transient 429 with Retry-After: 2 → the second attempt waits at least 2 s, the call succeeds, no logout',
  server: { accessTokenTtlSeconds: 2 },
  async run(t) {
    const tab = await t.openTab();
    await tab.login();
    await waitUntilExpired(tab);
    t.server.fail('refresh', '429', { retryAfterSeconds: 2 });
    expect((await tab.call('/api/data')).status).toBe(200);
    const attempts = t.server.requests.filter((r) => r.path === '/oauth/token' && r.body?.includes('refresh_token'));
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(2000);
    expect(t.server.stats).toMatchObject({ refreshGrants: 1, reuseDetections: 0 });
    expect((await tab.events()).some((e) => e.type === 'logged-out')).toBe(false);
  },
});
