import { call, events, expect, login, openTab, startServer, stopWorkers, test } from './helpers.js';

test.describe('the token reaches the API from every tab, and only the API', () => {
  test('login in tab 1; an API call from tab 2 reaches the server with the token', async ({ context, server }) => {
    const tab1 = await openTab(context, server);
    const tab2 = await openTab(context, server);
    await login(tab1);
    const result = await call(tab2, '/api/data');
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ ok: true, user: 'alice' });
    const seen = server.apiRequests().at(-1)!;
    expect(seen.authorization).toMatch(/^Bearer at-/);
    expect(seen.tokenValid).toBe(true);
    // the page that registered heard the session start, the other tab too
    await expect.poll(async () => (await events(tab2)).map((e) => e.type)).toContain('logged-in');
  });

  test('another origin and a non-API path of this origin get no Authorization', async ({ context, server }) => {
    const other = await startServer();
    try {
      const tab = await openTab(context, server);
      await login(tab);
      expect((await call(tab, '/echo')).status).toBe(200);
      expect((await call(tab, `${other.origin}/echo`)).status).toBe(200);
      await call(tab, `${other.origin}/api/data`); // CORS-blocked for the page; what matters is what the server saw
      expect(server.requests.find((r) => r.path === '/echo')?.authorization).toBeNull();
      expect(other.requests.filter((r) => r.method !== 'OPTIONS').map((r) => [r.path, r.authorization])).toEqual([
        ['/echo', null],
        ['/api/data', null],
      ]);
      // and the API itself did get it
      expect((await call(tab, '/api/data')).status).toBe(200);
    } finally {
      await other.close();
    }
  });

  test('after the worker is stopped, the next call from either tab is authorized (session read from IndexedDB)', async ({ context, server }) => {
    const tab1 = await openTab(context, server);
    const tab2 = await openTab(context, server);
    await login(tab1);
    expect((await call(tab1, '/api/data')).status).toBe(200);
    await stopWorkers(tab1);
    expect((await call(tab2, '/api/data')).status).toBe(200);
    await stopWorkers(tab1);
    expect((await call(tab1, '/api/data')).status).toBe(200);
    expect(server.apiRequests().every((r) => r.tokenValid)).toBe(true);
    expect(server.stats.refreshRequests).toBe(0);
  });
});
