import { DATABASE, timedCall } from '../support/storage.js';
import { defineScenario, expect } from '../support/scenario.js';

export default defineScenario({
  name: "storage fault: the page deletes the worker's database while two tabs are logged in → logged-out (storage-cleared) once in every tab, calls go out bare, none hangs",
  async run(t) {
    const tabs = await t.openTabs(2);
    await tabs[0]!.login();
    expect((await tabs[1]!.call('/api/data')).status).toBe(200);
    const outcome = await tabs[1]!.evaluate(
      (name: string) =>
        new Promise<string>((resolve) => {
          const request = indexedDB.deleteDatabase(name);
          request.onsuccess = () => resolve('deleted');
          request.onerror = () => resolve(`error: ${String(request.error)}`);
          request.onblocked = () => resolve('blocked');
        }),
      DATABASE,
    );
    t.log(`deleteDatabase: ${outcome}`);
    expect(outcome).toBe('deleted');
    for (const tab of tabs) expect(await tab.heard('logged-out')).toMatchObject({ reason: 'storage-cleared' });
    for (const tab of tabs) expect(await tab.status()).toMatchObject({ loggedIn: false });
    for (const tab of tabs) {
      const call = await timedCall(tab, '/api/data');
      expect(call.status).toBe(401);
      expect(call.ms).toBeLessThan(3000);
      expect(t.server.apiRequests().at(-1)!.authorization).toBeNull();
    }
    for (const tab of tabs) expect((await tab.events()).filter((e) => e.type === 'logged-out')).toHaveLength(1);
  },
});
