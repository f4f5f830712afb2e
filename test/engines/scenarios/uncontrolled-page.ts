import { defineScenario, expect } from '../support/scenario.js';

export default defineScenario({
  name: 'uncontrolled pages: first loads (two tabs open before any worker) are claimed without a reload; a hard-reloaded page is claimed again',
  async run(t) {
    const first = await t.blankTab();
    const second = await t.blankTab();
    for (const tab of [first, second]) expect(await tab.controlled()).toBe(false);
    // A mark in the page: a reload would wipe it.
    for (const tab of [first, second]) await tab.evaluate(() => void ((window as unknown as { mark: number }).mark = 1));
    // An uncontrolled page's call bypasses any worker: it goes out bare.
    expect((await second.call('/api/data')).status).toBe(401);

    expect(await first.register()).toBe(true);
    expect(await first.controlled()).toBe(true);
    // The worker claims every page of its scope when it activates: the other first load too.
    await t.waitFor('the second tab to be claimed', () => second.controlled());
    expect(await second.register()).toBe(true);
    for (const tab of [first, second]) expect(await tab.evaluate(() => (window as unknown as { mark?: number }).mark)).toBe(1);
    await first.login();
    expect((await second.call('/api/data')).status).toBe(200);
    expect(t.server.apiRequests().at(-1)!.authorization).toMatch(/^Bearer at-/);

    const reloaded = await first.tab.hardReload();
    if (!reloaded.done) {
      t.log(`hard reload part skipped: ${reloaded.reason}`);
      return;
    }
    await first.ready();
    expect(await first.controlled()).toBe(false); // Shift+Reload bypasses the worker
    // Uncontrolled while a session exists: the call bypasses the worker and goes out without the token.
    expect((await first.call('/api/data')).status).toBe(401);
    expect(t.server.apiRequests().at(-1)!.authorization).toBeNull();
    await first.evaluate(() => void ((window as unknown as { mark: number }).mark = 2));
    expect(await first.register()).toBe(true);
    expect(await first.controlled()).toBe(true);
    expect(await first.evaluate(() => (window as unknown as { mark?: number }).mark)).toBe(2); // no guarded reload was needed
    expect((await first.call('/api/data')).status).toBe(200);
  },
});
