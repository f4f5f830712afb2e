import { defineScenario, expect } from '../support/scenario.js';

export default defineScenario({
  name: 'reactive 401: the access token revoked early → one refresh, the POST replayed with its body intact',
  breaksBrokenWorker: true,
  async run(t) {
    const tabs = await t.openTabs(2);
    await tabs[0]!.login();
    expect((await tabs[0]!.call('/api/data')).status).toBe(200);
    t.server.revokeAccessTokens();
    // The first refresh answers late, so both tabs' 401s meet it in flight: one shared refresh is then the
    // library's doing, not the luck of a second 401 arriving after the first refresh was done (which let
    // the broken worker, a refresh per 401, pass this now and then).
    t.server.fail('refresh', 'slow', { delayMs: 500 });
    const body = JSON.stringify({ note: 'keep me', n: [1, 2, 3] });
    const results = await Promise.all(tabs.map((tab) => tab.call('/api/items', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })));
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    for (const r of results) expect(JSON.parse(r.body)).toMatchObject({ method: 'POST', body });
    expect(t.server.stats).toMatchObject({ refreshGrants: 1, reuseDetections: 0 });
    const posts = t.server.apiRequests().filter((r) => r.method === 'POST');
    expect(posts.filter((r) => r.tokenValid).map((r) => r.body)).toEqual([body, body]);
  },
});
