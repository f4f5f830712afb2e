import { defineScenario, expect } from '../support/scenario.js';

export default defineScenario({
  name: 'multi-tab login: every tab hears logged-in; an API call from tab 2 carries the token',
  breaksBrokenWorker: true,
  async run(t) {
    const tabs = await t.openTabs(3);
    await tabs[0]!.login();
    for (const tab of tabs) await tab.heard('logged-in');
    const result = await tabs[1]!.call('/api/data');
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ ok: true, user: 'alice' });
    const seen = t.server.apiRequests().at(-1)!;
    expect(seen.authorization).toMatch(/^Bearer at-/);
    expect(seen.tokenValid).toBe(true);
    expect(t.server.stats).toMatchObject({ refreshRequests: 0, reuseDetections: 0 });
  },
});
