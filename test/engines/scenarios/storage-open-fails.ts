import { DATABASE, timedAttempt, timedCall } from '../support/storage.js';
import { defineScenario, expect } from '../support/scenario.js';

export default defineScenario({
  name: "storage fault: IndexedDB cannot be opened (the database is at version 99) → login() rejects storage-unavailable, status() says so, calls pass through bare, none hangs",
  async run(t) {
    const tab = await t.blankTab();
    // Before any worker runs: the worker's open at its own version then fails with a VersionError.
    const opened = await tab.evaluate(
      (name: string) =>
        new Promise<number>((resolve, reject) => {
          const request = indexedDB.open(name, 99);
          request.onsuccess = () => {
            const version = request.result.version;
            request.result.close();
            resolve(version);
          };
          request.onerror = () => reject(request.error);
        }),
      DATABASE,
    );
    expect(opened).toBe(99);
    expect(await tab.register()).toBe(true);
    const login = await timedAttempt(tab, 'login');
    t.log(`login(): ${JSON.stringify(login)}`);
    expect(login.value).toMatchObject({ error: { code: 'storage-unavailable' } });
    const status = await timedAttempt(tab, 'status');
    t.log(`status(): ${JSON.stringify(status)}`);
    expect(status.value).toMatchObject({ loggedIn: false, lastError: { code: 'storage-unavailable' } });
    const call = await timedCall(tab, '/api/data');
    t.log(`API call: ${JSON.stringify(call)}`);
    expect(call.status).toBe(401);
    expect(call.ms).toBeLessThan(3000);
    expect(t.server.apiRequests().at(-1)!.authorization).toBeNull();
  },
});
