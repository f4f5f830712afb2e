import { count, defineScenario, expect, storm, waitUntilExpired } from '../support/scenario.js';

export default defineScenario({
  name: 'worker restart: stopped between calls and storms → the session is kept (read from IndexedDB), one grant per expiry',
  // A refreshed token is due again after half its lifetime: 1.5 s is room for a storm to end first.
  server: { accessTokenTtlSeconds: 3 },
  engines: {
    // No slow path either: the only way WebKit ends a worker is every page of its origin leaving, and then
    // nothing a test can observe tells that it has ended (no same-origin page may stay to ask, and the
    // worker sends nothing on its way out) — waiting "long enough" would be a sleep, not a condition.
    webkit: { skip: 'WebKit cannot stop a service worker on demand, and its end after every tab has left cannot be observed' },
  },
  async run(t) {
    const [tab1, tab2] = await t.openTabs(2);
    await tab1!.login();
    expect((await tab1!.call('/api/data')).status).toBe(200);
    expect(await t.stopWorkers()).toEqual({ done: true });
    expect((await tab2!.call('/api/data')).status).toBe(200);
    expect(await t.stopWorkers()).toEqual({ done: true });
    expect((await tab2!.status()).loggedIn).toBe(true);
    for (let cycle = 1; cycle <= 2; cycle++) {
      expect(await t.stopWorkers()).toEqual({ done: true });
      await waitUntilExpired(tab1!);
      const statuses = await storm([tab1!, tab2!], 15);
      expect(count(statuses, 200), `cycle ${cycle}`).toBe(30);
      expect(t.server.stats.refreshGrants, `cycle ${cycle}`).toBe(cycle);
    }
    expect(t.server.stats.reuseDetections).toBe(0);
    expect(t.server.apiRequests().every((r) => r.tokenValid)).toBe(true);
  },
});
