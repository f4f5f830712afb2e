import { defineScenario, expect } from '../support/scenario.js';

export default defineScenario({
  // Also the proof that stopWorkers() really stops the worker in this engine: only a new instance can lose a memory-only session.
  name: 'memory-only worker stopped → the session is gone, every tab hears logged-out (worker-restarted) once, calls go out bare',
  engines: {
    webkit: { skip: 'WebKit cannot stop a service worker on demand, and its end after every tab has left cannot be observed' },
  },
  async run(t) {
    const tabs = await t.openTabs(2, { storage: 'memory' });
    await tabs[0]!.login();
    expect((await tabs[1]!.call('/api/data')).status).toBe(200);
    expect(await t.stopWorkers()).toEqual({ done: true });
    expect((await tabs[1]!.call('/api/data')).status).toBe(401);
    expect(t.server.apiRequests().at(-1)!.authorization).toBeNull();
    for (const tab of tabs) expect(await tab.heard('logged-out')).toMatchObject({ reason: 'worker-restarted' });
    expect((await tabs[0]!.status()).loggedIn).toBe(false);
    expect((await tabs[0]!.call('/api/data')).status).toBe(401);
    for (const tab of tabs) expect((await tab.events()).filter((e) => e.type === 'logged-out')).toHaveLength(1);
  },
});
