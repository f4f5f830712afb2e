import { defineScenario, expect } from '../support/scenario.js';

export default defineScenario({
  name: 'beside workbox in one worker, its routes registered first: API calls reach the proxy (with the token), other routes reach workbox',
  async run(t) {
    const tab = await t.blankTab();
    expect(await tab.evaluate(() => window.tp.register('/workbox-sw.js?order=workbox-first'))).toBe(true);
    await tab.login();
    for (let i = 0; i < 3; i++) expect((await tab.call('/api/data')).status).toBe(200);
    expect(t.server.apiRequests().filter((r) => r.tokenValid)).toHaveLength(3);
    expect(t.server.stats.api.anonymous).toBe(0);
    expect(await tab.call('/static/hello.txt')).toMatchObject({ status: 200, body: 'static file served by workbox\n' });
    // CacheFirst hands the response over before its cache write (a waitUntil) is done: wait for the write.
    const staticEntries = () => tab.evaluate(async () => (await (await self.caches.open('workbox-static')).keys()).map((r) => new URL(r.url).pathname));
    await expect.poll(staticEntries, { timeout: 5000 }).toEqual(['/static/hello.txt']);
    expect(await tab.evaluate(() => self.caches.keys())).not.toContain('workbox-api'); // workbox's API route never ran
  },
});
