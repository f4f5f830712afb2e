import { defineScenario, expect } from '../support/scenario.js';

const QUOTA_BYTES = 1024 * 1024;
/** Base64 makes it 4 MB: over the quota, under the outbox's default maxBytes (5 MiB). */
const BIG_BYTES = 3 * 1024 * 1024;
const CANNOT = 'needs a per-origin quota override, which only Chromium has (CDP Storage.overrideQuotaForOrigin)';

export default defineScenario({
  name: 'storage fault: an outbox write over the quota → 507 outbox_full and an error event (storage-unavailable); what was queued before is delivered, never a 202 that is lost',
  engines: {
    firefox: { skip: `${CANNOT}; Firefox's limits are browser-wide prefs with a 10 MB floor per site` },
    webkit: { skip: `${CANNOT}; WebKitWebDriver has none` },
  },
  async run(t) {
    // Chromium holds an open IndexedDB connection to the quota it had when opened, and the worker keeps
    // its connection: the override comes first, with room for the session and small writes.
    const tab = await t.blankTab();
    expect(await t.browser.overrideQuota(t.server.origin, QUOTA_BYTES)).toEqual({ done: true });
    expect(await tab.register({ outbox: {} })).toBe(true);
    await tab.login();
    t.server.cutNetwork(true);
    expect((await tab.post('/api/notes', { n: 1 })).status).toBe(202);
    // Random, so it stays big (Chromium compresses IndexedDB values: 'xxx…' would fit any quota), and
    // within the outbox's own 5 MiB bound, so only storage can refuse it.
    const big = await tab.evaluate(async (bytes: number) => {
      const random = new Uint8Array(bytes);
      for (let i = 0; i < bytes; i += 65536) crypto.getRandomValues(random.subarray(i, i + 65536));
      let pad = '';
      for (let i = 0; i < bytes; i += 32768) pad += btoa(String.fromCharCode(...random.subarray(i, i + 32768)));
      return window.tp.call('/api/notes', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ n: 2, pad }) });
    }, BIG_BYTES);
    t.log(`write over the quota answered ${big.status} ${big.body.slice(0, 160)}`);
    expect(big.status).toBe(507);
    expect(JSON.parse(big.body)).toMatchObject({ error: 'outbox_full' });
    await tab.heard('error', (e) => e.error?.code === 'storage-unavailable');
    expect((await tab.evaluate(() => window.tp.proxy.outbox())).length).toBe(1);
    await t.browser.overrideQuota(t.server.origin, null);
    t.server.cutNetwork(false);
    expect((await tab.call('/api/data')).status).toBe(200);
    await t.waitFor('the queued write at the server', () => t.server.apiRequests().some((r) => r.method === 'POST'));
    expect(t.server.apiRequests().filter((r) => r.method === 'POST').map((r) => (JSON.parse(r.body!) as { n: number }).n)).toEqual([1]);
  },
});
