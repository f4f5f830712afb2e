import { describe, expect, it } from 'vitest';
import type { WorkerFacade } from '../../src/shared/protocol.js';
import { callProblem, serveFacade } from '../../src/sw/rpc.js';

const facade: WorkerFacade = {
  login: async (response) => ({ ok: true, value: { loggedIn: Boolean(response), refreshCount: 0 } }),
  logout: async () => ({ ok: true, value: { revoked: false } }),
  status: async () => ({ ok: true, value: { loggedIn: false, refreshCount: 0 } }),
  outbox: async () => {
    throw new Error('disk on fire');
  },
  replayOutbox: async () => ({ ok: true, value: { replayed: 0, failed: 0, remaining: 0 } }),
};

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

  it('answers a release and closes', async () => {
    expect(await ask({ id: 'r', type: 'RELEASE' })).toEqual({ id: 'r', type: 'RAW', value: undefined });
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
    ['nested path', { type: 'APPLY', path: ['login', 'call'], argumentList: [] }],
    ['empty path', { type: 'APPLY', path: [], argumentList: [] }],
    ['proxy argument', { type: 'APPLY', path: ['login'], argumentList: [{ type: 'HANDLER', name: 'proxy', value: 1 }] }],
    ['two arguments', { type: 'APPLY', path: ['login'], argumentList: [{ type: 'RAW', value: 1 }, { type: 'RAW', value: 2 }] }],
    ['argumentList missing', { type: 'APPLY', path: ['status'] }],
  ])('refuses %s', async (_, message) => {
    expect(callProblem(message)).not.toBeNull();
    expect(await ask(typeof message === 'object' && message !== null ? { id: 'z', ...message } : message)).toMatchObject({ type: 'RAW', value: { ok: false, error: { code: 'bad-message' } } });
  });
});
