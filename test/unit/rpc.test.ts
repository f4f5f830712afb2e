import { releaseProxy, wrap } from 'comlink';
import { describe, expect, it } from 'vitest';
import type { WorkerFacade } from '../../src/shared/protocol.js';
import { createFacade, type WorkerCalls } from '../../src/sw/facade.js';
import { callProblem, serveFacade } from '../../src/sw/rpc.js';
import { createHarness, loginResponse, okOutcome } from './support/engine-harness.js';

const facade: WorkerCalls = {
  login: async (response) => ({ loggedIn: Boolean(response), refreshCount: 0 }),
  logout: async () => ({ revoked: false }),
  status: async () => ({ loggedIn: false, refreshCount: 0 }),
  outbox: async () => {
    throw new Error('disk on fire');
  },
  replayOutbox: async () => ({ replayed: 0, failed: 0, remaining: 0 }),
  signIn: async () => 'https://id.test/authorize',
  completeSignIn: async () => null,
};

/** Resolves when `port`'s other end has closed (Node's MessagePort says so with a 'close' event). */
const closed = (port: MessagePort) => new Promise<void>((resolve) => port.addEventListener('close', () => resolve()));

function ask(message: unknown): Promise<unknown> {
  const { port1, port2 } = new MessageChannel();
  void serveFacade(port2, facade, () => 1, 10_000);
  return new Promise((resolve) => {
    port1.onmessage = (event) => {
      resolve(event.data);
      port1.close();
    };
    port1.postMessage(message);
  });
}

describe('the worker side of the comlink protocol', () => {
  it('answers a call of a facade function in comlink wire form', async () => {
    expect(await ask({ id: 'a', type: 'APPLY', path: ['status'], argumentList: [] })).toEqual({ id: 'a', type: 'RAW', value: { ok: true, value: { loggedIn: false, refreshCount: 0 } } });
    expect(await ask({ id: 'b', type: 'APPLY', path: ['login'], argumentList: [{ type: 'RAW', value: { x: 1 } }] })).toMatchObject({ id: 'b', value: { ok: true } });
  });

  it('answers a release and closes its port', async () => {
    const { port1, port2 } = new MessageChannel();
    void serveFacade(port2, facade, () => 1, 10_000);
    const answer = new Promise((resolve) => (port1.onmessage = (event) => resolve(event.data)));
    const gone = closed(port1);
    port1.postMessage({ id: 'r', type: 'RELEASE' });
    expect(await answer).toEqual({ id: 'r', type: 'RAW', value: undefined });
    await gone;
  });

  it('turns an unexpected failure into a typed error', async () => {
    expect(await ask({ id: 'c', type: 'APPLY', path: ['outbox'], argumentList: [] })).toMatchObject({ value: { ok: false, error: { code: 'internal-error', message: 'the worker failed: disk on fire' } } });
  });

  it.each([
    ['not an object', 'x'],
    ['null', null],
    ['a number', 42],
    ['GET', { type: 'GET', path: ['status'] }],
    ['SET', { type: 'SET', path: ['status'], value: { type: 'RAW', value: 1 } }],
    ['CONSTRUCT', { type: 'CONSTRUCT', path: ['status'], argumentList: [] }],
    ['unknown function', { type: 'APPLY', path: ['toString'], argumentList: [] }],
    ['an inherited member', { type: 'APPLY', path: ['constructor'], argumentList: [] }],
    ['the prototype', { type: 'APPLY', path: ['__proto__'], argumentList: [] }],
    ['a function that does not exist', { type: 'APPLY', path: ['refresh'], argumentList: [] }],
    ['nested path', { type: 'APPLY', path: ['login', 'call'], argumentList: [] }],
    ['empty path', { type: 'APPLY', path: [], argumentList: [] }],
    ['proxy argument', { type: 'APPLY', path: ['login'], argumentList: [{ type: 'HANDLER', name: 'proxy', value: 1 }] }],
    ['two arguments', { type: 'APPLY', path: ['login'], argumentList: [{ type: 'RAW', value: 1 }, { type: 'RAW', value: 2 }] }],
    ['argumentList missing', { type: 'APPLY', path: ['status'] }],
  ])('refuses %s', async (_, message) => {
    expect(callProblem(message, facade)).not.toBeNull();
    expect(await ask(typeof message === 'object' && message !== null ? { id: 'z', ...message } : message)).toMatchObject({ type: 'RAW', value: { ok: false, error: { code: 'bad-message' } } });
  });
});

describe('the real comlink.wrap, as pages use it, against serveFacade', () => {
  // The worker speaks comlink's wire format by hand (rpc.ts); this pins it to the comlink the client ships.
  function connect(served: WorkerCalls, now = () => 1) {
    const { port1, port2 } = new MessageChannel();
    const answered = serveFacade(port2, served, now, 10_000);
    return { remote: wrap<WorkerFacade>(port1), port1, answered };
  }

  it('login, status and logout round trips', async () => {
    const h = createHarness((_, { clock }) => okOutcome(clock));
    const served = createFacade({ engine: h.engine, outbox: null, signIn: null, revoke: async () => ({ revoked: true }) });
    const login = connect(served);
    expect(await login.remote.login(loginResponse(300))).toEqual({ ok: true, value: expect.objectContaining({ loggedIn: true, refreshCount: 0 }) });
    await login.answered; // the worker's waitUntil ends with the first answer
    const status = connect(served);
    expect(await status.remote.status()).toMatchObject({ ok: true, value: { loggedIn: true } });
    const logout = connect(served);
    expect(await logout.remote.logout({ revoke: true })).toEqual({ ok: true, value: { revoked: true } });
    expect(await connect(served).remote.status()).toMatchObject({ ok: true, value: { loggedIn: false } });
    expect(h.events.map((e) => e.type)).toEqual(['logged-in', 'logged-out']);
  });

  it('a typed error arrives as data with its code', async () => {
    const h = createHarness((_, { clock }) => okOutcome(clock));
    const served = createFacade({ engine: h.engine, outbox: null, signIn: null, revoke: async () => ({ revoked: false }) });
    expect(await connect(served, () => 7).remote.login({ token_type: 'Bearer' } as never)).toEqual({
      ok: false,
      error: { code: 'invalid-token-response', field: 'access_token', message: expect.stringContaining('access_token'), at: 7 },
    });
  });

  it('a storage failure (IndexedDB throws DOMExceptions) arrives as storage-unavailable', async () => {
    const failing: WorkerCalls = { ...facade, status: async () => Promise.reject(new DOMException('disk full', 'QuotaExceededError')) };
    expect(await connect(failing, () => 3).remote.status()).toEqual({ ok: false, error: { code: 'storage-unavailable', message: 'storage failed: disk full', at: 3 } });
  });

  it('a function that throws answers internal-error instead of leaving the page waiting', async () => {
    expect(await connect(facade).remote.outbox()).toMatchObject({ ok: false, error: { code: 'internal-error', message: 'the worker failed: disk on fire' } });
  });

  it('a release is answered and closes the worker side', async () => {
    const { remote, port1 } = connect(facade);
    const gone = closed(port1);
    await remote[releaseProxy]();
    await gone;
  });
});
