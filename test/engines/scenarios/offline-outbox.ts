import { defineScenario, expect, waitUntilExpired } from '../support/scenario.js';

export default defineScenario({
  name: 'offline outbox, network cut at the server: 3 POSTs from two tabs → 202 queued; restored → delivered in order, once each, after one refresh',
  server: { accessTokenTtlSeconds: 3 },
  async run(t) {
    // Offline emulation does not reach the worker in Firefox (BiDi) or WebKit: the server drops every
    // connection instead, in every engine, so navigator.onLine stays true and the worker learns of the
    // cut from its failing fetches.
    const tab1 = await t.openTab({ outbox: {} });
    const tab2 = await t.openTab({ outbox: {} });
    await tab1.login();
    t.server.cutNetwork(true);
    const answers = [await tab1.post('/api/notes', { n: 1 }), await tab2.post('/api/notes', { n: 2 }), await tab1.post('/api/notes', { n: 3 })];
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    const ids = answers.map((a) => (JSON.parse(a.body) as { id: string }).id);
    await t.waitFor('3 queued events in tab 2', async () => (await tab2.events()).filter((e) => e.type === 'queued').length === 3);
    expect((await tab2.evaluate(() => window.tp.proxy.outbox())).map((e) => e.id)).toEqual(ids);

    await waitUntilExpired(tab1); // the access token dies while the network is away
    expect(t.server.apiRequests()).toHaveLength(0); // the cut connections were never recorded
    t.server.cutNetwork(false);
    // No `online` event here (the browser never knew): the next successful API call is the trigger.
    expect((await tab2.call('/api/data')).status).toBe(200);

    await t.waitFor('the 3 queued writes at the server', () => t.server.apiRequests().filter((r) => r.method === 'POST').length >= 3);
    await t.waitFor('3 replayed events in tab 1', async () => (await tab1.events()).filter((e) => e.type === 'replayed').length === 3);
    const delivered = t.server.apiRequests().filter((r) => r.method === 'POST');
    expect(delivered.map((r) => (JSON.parse(r.body!) as { n: number }).n)).toEqual([1, 2, 3]);
    expect(delivered.every((r) => r.tokenValid)).toBe(true);
    expect(new Set(delivered.map((r) => r.idempotencyKey)).size).toBe(3);
    expect(t.server.stats).toMatchObject({ refreshGrants: 1, reuseDetections: 0 });
    const replayed = (await tab1.events()).filter((e) => e.type === 'replayed').map((e) => (e.type === 'replayed' ? e.entry.id : ''));
    expect(replayed).toEqual(ids);
    expect(await tab1.evaluate(() => window.tp.proxy.outbox())).toEqual([]);
  },
});
