import { timedAttempt, timedCall } from '../support/storage.js';
import { defineScenario, expect, type TestTab } from '../support/scenario.js';

/** What a tab makes of its state once the site's data is gone: it must learn it, not wait forever. */
async function settle(tab: TestTab) {
  const heard = (await tab.events()).filter((e) => e.type === 'logged-out').map((e) => e.reason ?? '');
  const controlled = await tab.controlled();
  const status = await timedAttempt(tab, 'status');
  const call = await timedCall(tab, '/api/data');
  return { heard, controlled, status, call };
}

export default defineScenario({
  name: 'storage fault: the user clears site data with two tabs logged in → no hang; each tab learns it is logged out or no longer controlled',
  engines: {
    webkit: { skip: 'WebKitWebDriver has no command to clear site data, and MiniBrowser has no automation hook for it' },
  },
  async run(t) {
    const tabs = await t.openTabs(2);
    await tabs[0]!.login();
    expect((await tabs[1]!.call('/api/data')).status).toBe(200);
    expect(await t.browser.clearSiteData(t.server.origin)).toEqual({ done: true });
    for (const [i, tab] of tabs.entries()) {
      const state = await t.waitFor(`tab ${i + 1} to learn the session is gone`, async () => {
        const s = await settle(tab);
        const loggedOut = s.heard.length > 0 || (s.status.value as { loggedIn?: boolean }).loggedIn === false;
        const lostWorker = !s.controlled || (s.status.value as { error?: { code?: string } }).error?.code === 'not-controlled';
        return loggedOut || lostWorker ? s : undefined;
      }, { timeoutMs: 8000 });
      t.log(`tab ${i + 1} after clearing: ${JSON.stringify(state)}`);
      expect(state.status.ms, 'status() answered in time').toBeLessThan(3000);
      expect(state.call.ms, 'the API call answered in time').toBeLessThan(3000);
      expect(state.call.status, 'the API call went out without a valid token').toBe(401);
    }
  },
});
