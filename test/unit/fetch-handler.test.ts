import { describe, expect, it } from 'vitest';
import { defaultIsTokenRejected } from '../../src/sw/resolved-config.js';
import { proxyApiRequest, type ProxyDeps } from '../../src/sw/fetch-handler.js';
import { createHarness, loginResponse, okOutcome, type Harness } from './support/engine-harness.js';
import { createGate } from './support/gate.js';

interface Seen {
  method: string;
  authorization: string | null;
  body: string;
}

/**
 * The hot path over a real engine and a scripted API: `answer` decides each response from what arrived.
 * `existingAuthorization` as configured.
 */
function setUp(answer: (seen: Seen) => Response | Promise<Response>, existingAuthorization: 'replace' | 'keep' = 'replace') {
  const gate = createGate();
  const h: Harness = createHarness(async (_, { clock }) => {
    await gate.pass();
    return okOutcome(clock);
  });
  const seen: Seen[] = [];
  const deps: ProxyDeps = {
    engine: h.engine,
    config: { isTokenRejected: defaultIsTokenRejected, existingAuthorization },
    fetch: async (input, init) => {
      const request = new Request(input, init);
      const record = { method: request.method, authorization: request.headers.get('Authorization'), body: await request.text() };
      seen.push(record);
      return answer(record);
    },
    outbox: null,
    dpop: null,
  };
  const waited: Array<Promise<unknown>> = [];
  const proxy = (request: Request) => proxyApiRequest(request, deps, (work) => waited.push(work));
  return { h, gate, seen, proxy, waited };
}

const invalidToken = () => new Response('{}', { status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
const post = (n: number) => new Request('https://app.test/api/notes', { method: 'POST', body: JSON.stringify({ n }), headers: { 'Content-Type': 'application/json' } });

describe('the hot path (fetch-handler)', () => {
  it('a 401 invalid_token on several requests at once → one shared refresh, each replayed once with its own body', async () => {
    const t = setUp(({ authorization }) => (authorization === 'Bearer at-login' ? invalidToken() : new Response('ok')));
    await t.h.engine.login(loginResponse(300));
    const answers = Promise.all([1, 2, 3].map((n) => t.proxy(post(n))));
    await t.gate.reached; // the refresh is out; every request waits on it
    expect(t.h.presented).toEqual(['rt-login']);
    t.gate.open();
    expect((await answers).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(t.h.presented).toEqual(['rt-login']);
    const replays = t.seen.filter((s) => s.authorization !== 'Bearer at-login');
    expect(replays.map((s) => s.body).sort()).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(new Set(replays.map((s) => s.authorization)).size).toBe(1);
    expect(t.seen).toHaveLength(6);
  });

  it('a 403 never refreshes and is answered as it is', async () => {
    const t = setUp(() => new Response('{"error":"insufficient_scope"}', { status: 403, headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' } }));
    await t.h.engine.login(loginResponse(300));
    expect((await t.proxy(post(1))).status).toBe(403);
    expect(t.h.presented).toEqual([]);
    expect(t.seen).toHaveLength(1);
  });

  it('a fresh token: the request goes out at once with it, and nothing else happens', async () => {
    const t = setUp(() => new Response('ok'));
    await t.h.engine.login(loginResponse(300));
    expect((await t.proxy(new Request('https://app.test/api/data'))).status).toBe(200);
    expect(t.seen).toEqual([{ method: 'GET', authorization: 'Bearer at-login', body: '' }]);
    expect(t.h.presented).toEqual([]);
  });

  it("existingAuthorization 'replace' (default): a page-set Authorization is replaced by the session's", async () => {
    const t = setUp(() => new Response('ok'));
    await t.h.engine.login(loginResponse(300));
    await t.proxy(new Request('https://app.test/api/data', { headers: { Authorization: 'Basic cGFnZQ==' } }));
    expect(t.seen[0]!.authorization).toBe('Bearer at-login');
  });

  it("existingAuthorization 'keep': the page's header goes out as it is, and its 401 does not refresh the session", async () => {
    const t = setUp(({ authorization }) => (authorization === 'Basic cGFnZQ==' ? invalidToken() : new Response('ok')), 'keep');
    await t.h.engine.login(loginResponse(300));
    const answer = await t.proxy(new Request('https://app.test/api/data', { headers: { Authorization: 'Basic cGFnZQ==' } }));
    expect(answer.status).toBe(401);
    expect(t.seen.map((s) => s.authorization)).toEqual(['Basic cGFnZQ==']);
    expect(t.h.presented).toEqual([]);
    // without a page header, the session's token is still added
    await t.proxy(new Request('https://app.test/api/data'));
    expect(t.seen.at(-1)!.authorization).toBe('Bearer at-login');
  });

  it('logged out: the request goes out as the page made it', async () => {
    const t = setUp(() => new Response('nope', { status: 401 }));
    expect((await t.proxy(post(1))).status).toBe(401);
    expect(t.seen).toEqual([{ method: 'POST', authorization: null, body: '{"n":1}' }]);
    expect(t.h.presented).toEqual([]);
  });
});
