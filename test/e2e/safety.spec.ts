import type { Page } from '@playwright/test';
import type { TokenServer } from '../server/token-server.js';
import { SHAPES } from './fixture/request-shapes.js';
import { call, events, expect, login, openTab, openTabs, startServer, stopWorkers, test } from './helpers.js';

test.describe('where the token goes', () => {
  test(`${SHAPES.length} request shapes: the token reaches exactly the allowed places`, async ({ context, server }) => {
    const partner = await startServer({ cors: true });
    try {
      const tab = await openTab(context, server, { api: ['/api', { origin: partner.origin, pathPrefix: '/partner' }] });
      await login(tab);
      const token = JSON.parse((await call(tab, '/api/whoami')).body) as { ok: boolean };
      expect(token.ok).toBe(true);
      const ours = server.apiRequests().at(-1)!.authorization!;
      expect(ours).toMatch(/^Bearer at-/);

      const outcome: string[] = [];
      for (const shape of SHAPES) {
        const target: TokenServer = shape.at === 'self' ? server : partner;
        const url = `${target.origin}${shape.path}`;
        const before = target.requests.length;
        await tab.evaluate(`(async () => { ${shape.run(url, server.origin)} })()`);
        const seen = () => target.requests.slice(before).filter((r) => r.path === shape.path && r.method !== 'OPTIONS');
        if (shape.expect === 'not-sent') {
          await call(tab, '/echo/fence'); // anything sent before this has arrived
          expect(seen(), shape.name).toEqual([]);
          outcome.push(`${shape.name}: not sent`);
          continue;
        }
        await expect.poll(() => seen().length, { message: shape.name }).toBeGreaterThan(0);
        const authorization = seen()[0]!.authorization;
        if (shape.expect === 'token') expect(authorization, shape.name).toBe(ours);
        else expect(authorization, shape.name).toBeNull();
        outcome.push(`${shape.name}: ${authorization === null ? 'no token' : 'token'}`);
      }
      console.log(outcome.join('\n'));
      // The worker's own refresh request carries the refresh token in its body, never an access token.
      server.revokeAccessTokens();
      expect((await call(tab, '/api/after-revoke')).status).toBe(200);
      const refresh = server.requests.find((r) => r.path === '/oauth/token' && r.body?.includes('grant_type=refresh_token'))!;
      expect(refresh.authorization).toBeNull();
    } finally {
      await partner.close();
    }
  });
});

/** Every body and header of every response the page received, as text. */
function recordResponses(page: Page): () => Promise<string> {
  const seen: Array<Promise<string>> = [];
  page.on('response', (response) => {
    seen.push(
      response
        .body()
        .then((body) => body.toString('latin1'), () => '')
        .then((body) => `${response.url()} ${JSON.stringify(response.headers())} ${body}`),
    );
  });
  return async () => (await Promise.all(seen)).join('\n');
}

test.describe('token-endpoint capture', () => {
  test('a page that completes login through fetch never sees the access or refresh token', async ({ context, server }) => {
    const [tab, other] = (await openTabs(2, context, server, { capture: true })) as [Page, Page];
    const received = recordResponses(tab);
    const answer = await tab.evaluate(async () => {
      const response = await fetch('/oauth/token', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=password&username=alice&password=alice-password',
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ token_type: 'Bearer', expires_in: 60, refresh_expires_in: 3600, scope: 'api' });
    await expect.poll(async () => (await events(other)).map((e) => e.type)).toContain('logged-in');
    expect((await call(tab, '/api/data')).status).toBe(200);
    server.revokeAccessTokens();
    expect((await call(tab, '/api/data')).status).toBe(200); // a refresh happened: more tokens issued
    expect(server.issuedTokens.length).toBeGreaterThanOrEqual(4);
    const everything = await received();
    expect(everything).toContain('/oauth/token');
    for (const secret of server.issuedTokens) expect(everything).not.toContain(secret);
  });

  test('page script calling the token endpoint with a refresh grant is refused; the session is unharmed', async ({ context, server }) => {
    const tab = await openTab(context, server);
    const response = await tab.evaluate(() => window.tp.tokenResponse());
    await tab.evaluate((r) => window.tp.proxy.login(r as never), response);
    // the page kept a copy of the refresh token (capture off) and tries to use it
    const attempt = await call(tab, '/oauth/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `grant_type=refresh_token&refresh_token=${String(response['refresh_token'])}`,
    });
    expect(attempt.status).toBe(403);
    expect(JSON.parse(attempt.body)).toMatchObject({ error: 'access_denied' });
    const asJson = await call(tab, '/oauth/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: response['refresh_token'] }),
    });
    expect(asJson.status).toBe(403);
    expect(server.stats.refreshRequests).toBe(0);
    server.revokeAccessTokens();
    expect((await call(tab, '/api/data')).status).toBe(200);
    expect(server.stats).toMatchObject({ refreshGrants: 1, reuseDetections: 0 });
  });
});

/** Every value in the origin's IndexedDB databases, as text (binary as latin1). */
function dumpIndexedDb(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const out: string[] = [];
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(name!);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      for (const store of db.objectStoreNames) {
        const values = await new Promise<unknown[]>((resolve) => {
          const request = db.transaction(store).objectStore(store).getAll();
          request.onsuccess = () => resolve(request.result);
        });
        out.push(
          JSON.stringify(values, (_, v: unknown) =>
            v instanceof ArrayBuffer || ArrayBuffer.isView(v)
              ? String.fromCharCode(...new Uint8Array(v instanceof ArrayBuffer ? v : v.buffer))
              : v,
          ),
        );
      }
      db.close();
    }
    return out.join('\n');
  });
}

test.describe('storage', () => {
  test('at rest the IndexedDB records hold no token in clear text', async ({ context, server }) => {
    const tab = await openTab(context, server);
    await login(tab);
    server.revokeAccessTokens();
    expect((await call(tab, '/api/data')).status).toBe(200); // refreshed: a rotated pair was stored
    const stored = await dumpIndexedDb(tab);
    expect(stored).toContain('"version":1'); // the sealed session record is there, rotated once
    for (const secret of server.issuedTokens) expect(stored).not.toContain(secret);
    expect(stored).not.toMatch(/at-|rt-/);
  });

  test('memory-only mode: nothing in IndexedDB; after the worker stops the session is gone and every tab hears worker-restarted', async ({ context, server }) => {
    const tabs = await openTabs(3, context, server, { storage: 'memory' });
    await login(tabs[0]!);
    expect((await call(tabs[1]!, '/api/data')).status).toBe(200);
    const stored = await dumpIndexedDb(tabs[0]!);
    for (const secret of server.issuedTokens) expect(stored).not.toContain(secret);
    await stopWorkers(tabs[0]!);
    expect((await call(tabs[2]!, '/api/data')).status).toBe(401);
    expect(server.apiRequests().at(-1)!.authorization).toBeNull();
    for (const tab of tabs) {
      await expect.poll(async () => (await events(tab)).find((e) => e.type === 'logged-out')).toMatchObject({ reason: 'worker-restarted' });
    }
    expect((await tabs[0]!.evaluate(() => window.tp.proxy.status())).loggedIn).toBe(false);
    // said once, not on every call
    expect((await call(tabs[1]!, '/api/data')).status).toBe(401);
    expect((await events(tabs[1]!)).filter((e) => e.type === 'logged-out')).toHaveLength(1);
  });
});

test.describe('message hygiene', () => {
  test('hostile messages to the worker → typed errors or silence, the session unchanged, the worker still serving', async ({ context, server }) => {
    const tab = await openTab(context, server);
    await login(tab);
    const before = await tab.evaluate(() => window.tp.proxy.status());

    // Raw messages without a reply port: ignored.
    await tab.evaluate(() => {
      const worker = navigator.serviceWorker.controller!;
      for (const junk of ['login', 42, null, [], { type: 'sw-token-proxy:connect' }, { type: 'sw-token-proxy:connect', port: 'x' }, { type: 'unknown' }, { type: 'sw-token-proxy:claim', extra: { deep: [1] } }]) {
        worker.postMessage(junk);
      }
    });

    // comlink-level calls sent by hand over a fresh port, as page script could.
    const answers = await tab.evaluate(async () => {
      const ask = (message: unknown) =>
        new Promise<unknown>((resolve) => {
          const { port1, port2 } = new MessageChannel();
          port1.onmessage = (event) => resolve(event.data);
          port1.start();
          navigator.serviceWorker.controller!.postMessage({ type: 'sw-token-proxy:connect' }, [port2]);
          port1.postMessage(message);
          setTimeout(() => resolve('no answer'), 1500);
        });
      const raw = (value: unknown) => ({ type: 'RAW', value });
      const calls: Array<[string, unknown]> = [
        ['GET a member', { id: '1', type: 'GET', path: ['login'] }],
        ['SET a member', { id: '2', type: 'SET', path: ['status'], value: raw(1) }],
        ['CONSTRUCT', { id: '3', type: 'CONSTRUCT', path: ['login'], argumentList: [] }],
        ['ENDPOINT', { id: '4', type: 'ENDPOINT' }],
        ['unknown function', { id: '5', type: 'APPLY', path: ['fetch'], argumentList: [raw('https://evil.test/')] }],
        ['prototype walk', { id: '6', type: 'APPLY', path: ['login', 'constructor'], argumentList: [raw('return 1')] }],
        ['__proto__ path', { id: '7', type: 'APPLY', path: ['__proto__'], argumentList: [] }],
        ['argumentList not an array', { id: '8', type: 'APPLY', path: ['status'], argumentList: 'x' }],
        ['a transferred proxy argument', { id: '9', type: 'APPLY', path: ['login'], argumentList: [{ type: 'HANDLER', name: 'proxy', value: null }] }],
        ['too many arguments', { id: '10', type: 'APPLY', path: ['logout'], argumentList: [raw({}), raw({})] }],
        ['login with junk (skipping the client checks)', { id: '11', type: 'APPLY', path: ['login'], argumentList: [raw({ access_token: 'x y', refresh_token: 7 })] }],
        ['login with a prototype-polluting payload', { id: '12', type: 'APPLY', path: ['login'], argumentList: [raw(JSON.parse('{"__proto__": {"access_token": "polluted"}}'))] }],
        ['logout with bad options', { id: '13', type: 'APPLY', path: ['logout'], argumentList: [raw({ revoke: 'yes' })] }],
        ['logout with a non-object', { id: '14', type: 'APPLY', path: ['logout'], argumentList: [raw('now')] }],
        ['a call without a type', { id: '15', path: ['status'] }],
        ['a number', 7],
      ];
      const out: Record<string, unknown> = {};
      for (const [name, message] of calls) out[name] = await ask(message);
      return out;
    });
    const typedError = (code: string) => ({ type: 'RAW', value: { ok: false, error: { code } } });
    for (const name of ['GET a member', 'SET a member', 'CONSTRUCT', 'ENDPOINT', 'unknown function', 'prototype walk', '__proto__ path', 'argumentList not an array', 'a transferred proxy argument', 'too many arguments', 'logout with bad options', 'logout with a non-object', 'a call without a type']) {
      expect(answers[name], name).toMatchObject(typedError('bad-message'));
    }
    for (const name of ['login with junk (skipping the client checks)', 'login with a prototype-polluting payload']) {
      expect(answers[name], name).toMatchObject(typedError('invalid-token-response'));
    }
    expect(answers['a number']).toMatchObject(typedError('bad-message')); // answered, though there is no id to match
    expect(Object.keys(answers)).toHaveLength(16);

    expect(await tab.evaluate(() => window.tp.proxy.status())).toEqual(before);
    expect((await call(tab, '/api/data')).status).toBe(200);
    // nothing made the worker send the token anywhere but the API
    expect(server.requests.filter((r) => r.authorization !== null && !r.path.startsWith('/api/'))).toEqual([]);
  });
});
