import { count, defineScenario, expect, expiryOf, storm } from '../support/scenario.js';

const TABS = 4;
const PER_TAB = 30;
const CYCLES = 2;

export default defineScenario({
  name: `storm at expiry: ${TABS} tabs × ${PER_TAB} concurrent calls → exactly 1 refresh grant per cycle, 0 reuse, all 200, over ${CYCLES} cycles`,
  // The refreshed token is due again after half its lifetime (the skew is capped there): a second
  // refresh within a cycle is a duplicate only while the storm ends within that half. Firefox's storms
  // took up to 1.6 s here on a loaded machine: 3 s leaves room.
  server: { accessTokenTtlSeconds: 6 },
  breaksBrokenWorker: true,
  async run(t) {
    const tabs = await t.openTabs(TABS);
    const status = await tabs[0]!.login();
    let expiresAt = status.expiresAt!;
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      // Every tab fires at the moment of expiry (a wait inside each page until then).
      const grantsBefore = t.server.stats.refreshGrants;
      const statuses = await storm(tabs, PER_TAB, { at: expiresAt });
      const refreshes = t.server.requests.filter((r) => r.path === '/oauth/token' && r.at >= expiresAt).map((r) => r.at - expiresAt);
      t.log(`cycle ${cycle}: storm over after ${Date.now() - expiresAt} ms; refresh requests at +${refreshes.join(' ms, +')} ms (${t.server.stats.refreshGrants - grantsBefore} grant(s))`);
      expect(count(statuses, 200), `cycle ${cycle}: calls answered 200 of ${statuses.length}`).toBe(TABS * PER_TAB);
      expect(t.server.stats.refreshGrants, `cycle ${cycle}: refresh grants`).toBe(cycle);
      expect(t.server.stats.reuseDetections, `cycle ${cycle}: reuse detections`).toBe(0);
      expiresAt = await expiryOf(tabs[cycle % TABS]!);
    }
    expect(t.server.stats.api.unauthorized + t.server.stats.api.anonymous).toBe(0);
  },
});
