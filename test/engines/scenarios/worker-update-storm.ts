import { count, defineScenario, expect, storm, waitUntilExpired } from '../support/scenario.js';

export default defineScenario({
  name: 'worker update during a storm: a new version activates while the old one refreshes → no duplicate refresh, session kept',
  // Longer than the slow refresh below, so the token it brings is not dead on arrival.
  server: { accessTokenTtlSeconds: 5 },
  breaksBrokenWorker: true,
  async run(t) {
    const [oldTab, newTab] = await t.openTabs(2);
    await oldTab!.login();
    await waitUntilExpired(oldTab!);
    t.server.fail('refresh', 'slow', { delayMs: 1500 });
    const oldStorm = storm([oldTab!], 20);
    await t.waitFor('the old worker’s refresh to reach the server', () => t.server.stats.refreshRequests >= 1);
    // A new worker script (another URL: a new version) takes over while the old worker's refresh is in flight.
    await newTab!.evaluate(async (url: string) => {
      const changed = new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
      await navigator.serviceWorker.register(url);
      await changed;
    }, t.workerUrl({ version: 2 }));
    const newStorm = storm([newTab!], 20);
    const statuses = [...(await oldStorm), ...(await newStorm)];
    expect(count(statuses, 200), `statuses ${statuses.join(',')}`).toBe(40);
    expect(t.server.stats).toMatchObject({ refreshGrants: 1, reuseDetections: 0 });
    expect((await oldTab!.call('/api/data')).status).toBe(200);
    expect((await oldTab!.status()).loggedIn).toBe(true);
  },
});
