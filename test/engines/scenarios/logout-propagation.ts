import { defineScenario, expect } from '../support/scenario.js';

/** The library's claim (README, bench 6) is < 10 ms over BroadcastChannel; 100 ms leaves room for a loaded machine. */
const MAX_PROPAGATION_MS = 100;

export default defineScenario({
  name: `logout propagation: logout in tab 2 → tabs 1 and 3 hear logged-out (user) within ${MAX_PROPAGATION_MS} ms; their calls carry no token`,
  breaksBrokenWorker: true,
  async run(t) {
    const [tab1, tab2, tab3] = await t.openTabs(3);
    await tab1!.login();
    for (const tab of [tab2!, tab3!]) await tab.heard('logged-in');
    expect((await tab3!.call('/api/data')).status).toBe(200);
    const calledAt = await tab2!.evaluate(async () => {
      const started = Date.now();
      await window.tp.proxy.logout();
      return started;
    });
    const delays: number[] = [];
    for (const tab of [tab1!, tab3!]) {
      const heard = await tab.heard('logged-out');
      expect(heard).toMatchObject({ reason: 'user' });
      delays.push(heard.receivedAt - calledAt);
    }
    t.log(`logout heard after ${delays.join(' ms, ')} ms`);
    for (const delay of delays) expect(delay).toBeLessThan(MAX_PROPAGATION_MS);
    for (const tab of [tab1!, tab3!]) {
      expect((await tab.call('/api/data')).status).toBe(401);
      expect(t.server.apiRequests().at(-1)!.authorization).toBeNull();
    }
    expect(t.server.stats.revocations).toBe(1);
  },
});
