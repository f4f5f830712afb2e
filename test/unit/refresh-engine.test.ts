import { describe, expect, it } from 'vitest';
import type { RefreshOutcome } from '../../src/sw/refresh-engine.js';
import type { SessionStore } from '../../src/sw/session.js';
import { createGatedHarness, createHarness, createMemorySessionStore, createSharedLock, loginResponse, ManualClock, okOutcome } from './support/engine-harness.js';
import { makeSession } from './support/sessions.js';

describe('when a refresh is due', () => {
  it('uses the configured skew, capped at half the token lifetime', async () => {
    const h = createHarness((_, { clock }) => okOutcome(clock));
    /** Whether a request now starts a refresh behind it (awaited, so the next check starts from no flight). */
    const due = async () => {
      const behind: Array<Promise<unknown>> = [];
      h.engine.ready((work) => behind.push(work));
      await Promise.all(behind);
      return behind.length > 0;
    };
    await h.engine.login(loginResponse(30)); // 30 s token, 60 s skew → effective 15 s
    h.clock.advance(14_000);
    expect(await due()).toBe(false);
    h.clock.advance(1_000);
    expect(await due()).toBe(true);

    await h.engine.login(loginResponse(3600)); // long token: the configured 60 s applies
    h.clock.advance(3_539_000);
    expect(await due()).toBe(false);
    h.clock.advance(1_000);
    expect(await due()).toBe(true);
  });

  it('does not refresh a fresh token; inside the skew the valid token goes out at once with one refresh behind it', async () => {
    const { gate, h } = createGatedHarness();
    await h.engine.login(loginResponse(300));
    expect(h.engine.ready()?.accessToken).toBe('at-login');
    await h.engine.sessionForRequest();
    expect(h.presented).toEqual([]);
    h.clock.advance(241_000); // 59 s left < 60 s skew: due, still valid
    const behind: Array<Promise<unknown>> = [];
    // Requests inside the window wait for nothing: they get the valid token while the refresh is held.
    expect(h.engine.ready((work) => behind.push(work))?.accessToken).toBe('at-login');
    expect((await h.engine.sessionForRequest((work) => behind.push(work)))?.accessToken).toBe('at-login');
    await gate.reached;
    expect(gate.held()).toBe(1); // one refresh for both,
    expect(behind).toHaveLength(1); // kept alive by the request that started it
    gate.open();
    await Promise.all(behind);
    expect(h.presented).toEqual(['rt-login']);
    expect(h.engine.ready()?.accessToken).not.toBe('at-login');
    expect(h.events.map((e) => e.type)).toEqual(['logged-in', 'refreshed']);
  });

  it('inside the skew a caller with nothing to keep the worker alive (the outbox replay, apiStrategies) still starts the refresh', async () => {
    const { gate, h } = createGatedHarness();
    await h.engine.login(loginResponse(300));
    h.clock.advance(241_000);
    expect(h.engine.ready()?.accessToken).toBe('at-login');
    await gate.reached;
    expect(gate.held()).toBe(1);
    gate.open();
    await expect.poll(() => h.presented).toEqual(['rt-login']);
  });

  it('an expired token waits for its refresh', async () => {
    const h = createHarness((_, { clock }) => okOutcome(clock));
    await h.engine.login(loginResponse(300));
    h.clock.advance(300_000);
    expect(h.engine.ready()).toBeUndefined();
    const session = await h.engine.sessionForRequest();
    expect(h.presented).toEqual(['rt-login']);
    expect(session?.accessToken).not.toBe('at-login');
  });

  it('refreshes a legacy session without any expiry on first use', async () => {
    const h = createHarness((_, { clock }) => okOutcome(clock));
    await h.engine.login(loginResponse(null));
    expect((await h.engine.load())!.expiresAt).toBeNull();
    await h.engine.sessionForRequest();
    expect(h.presented).toEqual(['rt-login']);
  });

  it('does not refresh on every request when the refreshed token has no expiry either', async () => {
    const h = createHarness((_, { clock }) => {
      const outcome = okOutcome(clock);
      if (outcome.kind === 'ok') outcome.tokens.expiresAt = outcome.tokens.lifetimeMs = null;
      return outcome;
    });
    await h.engine.login(loginResponse(null));
    const refreshed = await h.engine.sessionForRequest();
    await h.engine.sessionForRequest();
    expect(h.presented).toEqual(['rt-login']);
    // the API's 401 is then what triggers the next refresh
    await h.engine.sessionAfterRejection(refreshed!.accessToken);
    expect(h.presented).toHaveLength(2);
  });

  it('logs out without a network call when the refresh token is known to have expired', async () => {
    const h = createHarness((_, { clock }) => okOutcome(clock));
    await h.engine.login(loginResponse(60, { refresh_expires_in: 120 }));
    h.clock.advance(121_000);
    expect(await h.engine.sessionForRequest()).toBeNull();
    expect(h.presented).toEqual([]);
    expect(h.events.at(-1)).toMatchObject({ type: 'logged-out', reason: 'refresh-token-expired' });
    expect(await h.store.read()).toBeNull();
  });

  it('ends a session that expired and has no refresh token', async () => {
    const h = createHarness((_, { clock }) => okOutcome(clock));
    await h.engine.login({ access_token: 'only-access', expires_in: 60 });
    h.clock.advance(61_000);
    expect(await h.engine.sessionForRequest()).toBeNull();
    expect(h.events.at(-1)).toMatchObject({ type: 'logged-out', reason: 'session-expired' });
  });
});

describe('single flight', () => {
  it('serves 50 concurrent requests with one refresh', async () => {
    const { gate, h } = createGatedHarness();
    await h.engine.login(loginResponse(60));
    h.clock.advance(60_000);
    const waiting = Array.from({ length: 50 }, () => h.engine.sessionForRequest());
    await gate.reached; // the refresh is in flight and every request waits behind it
    expect(gate.held()).toBe(1);
    gate.open();
    const sessions = await Promise.all(waiting);
    expect(h.presented).toEqual(['rt-login']);
    expect(new Set(sessions.map((s) => s?.accessToken)).size).toBe(1);
  });

  it('stores the rotated pair before any waiter resumes', async () => {
    const order: string[] = [];
    const inner = createMemorySessionStore();
    const store: SessionStore = {
      ...inner,
      replace: async (expected, next) => {
        const done = await inner.replace(expected, next);
        order.push(`stored ${next?.refreshToken}`);
        return done;
      },
    };
    const h = createHarness((_, { clock }) => okOutcome(clock), { store });
    await h.engine.login(loginResponse(60));
    h.clock.advance(60_000);
    await Promise.all(
      [1, 2, 3].map(async (n) => {
        const session = await h.engine.sessionForRequest();
        order.push(`waiter ${n} got ${session?.refreshToken}`);
        expect((await store.read())?.refreshToken).toBe(session?.refreshToken);
      }),
    );
    expect(order[0]).toMatch(/^stored rt-/);
    expect(order).toHaveLength(4);
  });

  it('re-reads after the lock: a second worker version skips the refresh another one carried out', async () => {
    const store = createMemorySessionStore();
    const clock = new ManualClock();
    const withLock = createSharedLock();
    let calls = 0;
    const respond = async (): Promise<RefreshOutcome> => {
      calls++;
      return okOutcome(clock);
    };
    const oldWorker = createHarness(respond, { store, clock, withLock });
    const newWorker = createHarness(respond, { store, clock, withLock });
    await oldWorker.engine.login(loginResponse(60));
    await newWorker.engine.load();
    clock.advance(60_000);
    const [a, b] = await Promise.all([oldWorker.engine.sessionForRequest(), newWorker.engine.sessionForRequest()]);
    expect(calls).toBe(1);
    expect(a?.accessToken).toBe(b?.accessToken);
    expect(a?.version).toBe(1);
  });

  it('answers a 401 for a token that already changed with the current one, without refreshing', async () => {
    const h = createHarness((_, { clock }) => okOutcome(clock));
    await h.engine.login(loginResponse(60));
    h.clock.advance(60_000);
    const fresh = await h.engine.sessionForRequest();
    const again = await h.engine.sessionAfterRejection('at-login');
    expect(again?.accessToken).toBe(fresh?.accessToken);
    expect(h.presented).toHaveLength(1);
    // a 401 for the current token forces one refresh even though it looks fresh
    const forced = await h.engine.sessionAfterRejection(fresh!.accessToken);
    expect(h.presented).toHaveLength(2);
    expect(forced?.accessToken).not.toBe(fresh?.accessToken);
  });

  it('keeps the old refresh token (and its expiry) when the response has none', async () => {
    const h = createHarness((_, { clock }) => okOutcome(clock, 300, false));
    await h.engine.login(loginResponse(60, { refresh_expires_in: 3600 }));
    const before = (await h.engine.load())!;
    h.clock.advance(60_000);
    const after = (await h.engine.sessionForRequest())!;
    expect(after.refreshToken).toBe('rt-login');
    expect(after.refreshExpiresAt).toBe(before.refreshExpiresAt);
    expect(after.accessToken).not.toBe('at-login');
  });

  it('drops a refresh result when the user logged out while it was in flight', async () => {
    const { gate, h } = createGatedHarness();
    await h.engine.login(loginResponse(60));
    h.clock.advance(60_000);
    const pending = h.engine.sessionForRequest();
    await gate.reached; // the refresh request is out
    await h.engine.logout('user');
    gate.open();
    expect(await pending).toBeNull();
    expect(await h.store.read()).toBeNull();
  });
});

describe('failure classes', () => {
  const rejected: RefreshOutcome = { kind: 'rejected', error: 'invalid_grant' };

  it('invalid_grant ends the session for every waiter and says why', async () => {
    const h = createHarness(() => rejected);
    await h.engine.login(loginResponse(60));
    h.clock.advance(60_000);
    const results = await Promise.all([h.engine.sessionForRequest(), h.engine.sessionForRequest()]);
    expect(results).toEqual([null, null]);
    expect(h.presented).toHaveLength(1);
    expect(await h.store.read()).toBeNull();
    expect(h.events.at(-1)).toMatchObject({ type: 'logged-out', reason: 'refresh-rejected' });
    expect((await h.engine.status()).lastError?.code).toBe('refresh-rejected');
    // no further refresh is tried
    await h.engine.sessionForRequest();
    expect(h.presented).toHaveLength(1);
  });

  it('a configuration error is reported once, not retried, and keeps the session', async () => {
    const h = createHarness(() => ({ kind: 'misconfigured', error: 'invalid_client' }));
    await h.engine.login(loginResponse(60));
    h.clock.advance(60_000);
    const session = await h.engine.sessionForRequest();
    expect(session?.accessToken).toBe('at-login');
    await h.engine.sessionForRequest();
    expect(h.presented).toHaveLength(1);
    expect(h.events.filter((e) => e.type === 'error')).toHaveLength(1);
    expect(h.events.some((e) => e.type === 'logged-out')).toBe(false);
    expect((await h.engine.status()).lastError?.code).toBe('refresh-misconfigured');
  });

  it('passing failures back off and then succeed: 503, 503, 200', async () => {
    const script: RefreshOutcome[] = [
      { kind: 'transient', reason: '503' },
      { kind: 'transient', reason: '503' },
    ];
    const h = createHarness((_, { clock }) => script.shift() ?? okOutcome(clock));
    await h.engine.login(loginResponse(60));
    h.clock.advance(60_000);
    const session = await h.engine.sessionForRequest();
    expect(session?.refreshCount).toBe(1);
    expect(h.sleeps).toEqual([500, 1000]);
    expect(h.presented).toEqual(['rt-login', 'rt-login', 'rt-login']);
    expect(h.events.some((e) => e.type === 'logged-out')).toBe(false);
  });

  it('honours Retry-After on 429', async () => {
    const script: RefreshOutcome[] = [{ kind: 'transient', reason: '429', retryAfterMs: 2000 }];
    const h = createHarness((_, { clock }) => script.shift() ?? okOutcome(clock));
    await h.engine.login(loginResponse(60));
    h.clock.advance(60_000);
    await h.engine.sessionForRequest();
    expect(h.sleeps).toEqual([2000]);
  });

  it('gives up for now when attempts run out or Retry-After is too long, keeping the refresh token', async () => {
    const h = createHarness(() => ({ kind: 'transient', reason: '429', retryAfterMs: 60_000 }));
    await h.engine.login(loginResponse(120));
    h.clock.advance(70_000); // within the skew, still valid
    const behind: Array<Promise<unknown>> = [];
    const session = await h.engine.sessionForRequest((work) => behind.push(work));
    expect(session?.accessToken).toBe('at-login'); // the still-valid token keeps being used
    await Promise.all(behind);
    expect(h.sleeps).toEqual([]);
    expect((await h.store.read())?.refreshToken).toBe('rt-login');
    // blocked until Retry-After has passed: no hammering, and no refresh started behind requests either
    expect(h.engine.ready((work) => behind.push(work))?.accessToken).toBe('at-login');
    await h.engine.sessionForRequest((work) => behind.push(work));
    expect(behind).toHaveLength(1);
    expect(h.presented).toHaveLength(1);
    h.clock.advance(60_000);
    await h.engine.sessionForRequest();
    expect(h.presented).toHaveLength(2);
    expect(h.events.filter((e) => e.type === 'error').map((e) => e.type === 'error' && e.error.code)).toEqual([
      'refresh-unavailable',
      'refresh-unavailable',
    ]);
  });

  it('stops after the configured number of attempts on network errors, never logging out', async () => {
    const h = createHarness(() => ({ kind: 'transient', reason: 'network error' }));
    await h.engine.login(loginResponse(60));
    h.clock.advance(61_000);
    expect((await h.engine.sessionForRequest())?.accessToken).toBe('at-login');
    expect(h.presented).toHaveLength(3);
    expect(h.sleeps).toEqual([500, 1000]);
    expect(await h.store.read()).not.toBeNull();
  });
});

describe('login and logout', () => {
  it('rejects a bad payload and leaves the current session as it was', async () => {
    const h = createHarness((_, { clock }) => okOutcome(clock));
    await h.engine.login(loginResponse(60));
    const before = await h.store.read();
    await expect(h.engine.login({ access_token: '' })).rejects.toMatchObject({ code: 'invalid-token-response', field: 'access_token' });
    expect(await h.store.read()).toEqual(before);
  });

  it('status never carries a token', async () => {
    const h = createHarness((_, { clock }) => okOutcome(clock));
    await h.engine.login(loginResponse(60, { scope: 'read write' }));
    const status = await h.engine.status();
    expect(status).toEqual({ loggedIn: true, expiresAt: h.clock.now() + 60_000, scope: 'read write', refreshCount: 0 });
    expect(JSON.stringify(status)).not.toMatch(/at-login|rt-login/);
    await h.engine.logout('user');
    expect(await h.engine.status()).toEqual({ loggedIn: false, refreshCount: 0 });
    expect(h.events.at(-1)).toMatchObject({ type: 'logged-out', reason: 'user' });
  });

  it('reads the session back from the store after a restart (cold start)', async () => {
    const store = createMemorySessionStore();
    const first = createHarness((_, { clock }) => okOutcome(clock), { store });
    await first.engine.login(loginResponse(300));
    const restarted = createHarness((_, { clock }) => okOutcome(clock), { store, clock: first.clock });
    expect(restarted.engine.ready()).toBeUndefined();
    expect((await restarted.engine.sessionForRequest())?.accessToken).toBe('at-login');
    expect(restarted.engine.ready()?.accessToken).toBe('at-login');
  });

  it('a stored session with a different version is not overwritten by a stale refresh', async () => {
    const store = createMemorySessionStore();
    const stale = makeSession({ id: 's', version: 1, accessToken: 'a' });
    await store.write({ ...stale, version: 2 });
    expect(await store.replace(stale, { ...stale, version: 2, accessToken: 'b' })).toBe(false);
    expect((await store.read())?.accessToken).toBe('a');
  });
});

describe('logout when already logged out', () => {
  it('tells nobody: no event, no session-end hook', async () => {
    let ended = 0;
    const h = createHarness((_, { clock }) => okOutcome(clock));
    h.engine.onEnded(async () => {
      ended++;
    });
    await h.engine.login(loginResponse(60));
    expect(await h.engine.logout('user')).not.toBeNull();
    expect(await h.engine.logout('user')).toBeNull();
    expect(h.events.filter((e) => e.type === 'logged-out')).toHaveLength(1);
    expect(ended).toBe(1);
  });
});

describe('offline', () => {
  it('defers the refresh while the browser knows it is offline — no attempts, no backoff, no logout — and refreshes once back', async () => {
    let online = false;
    const h = createHarness((_, { clock }) => okOutcome(clock), { online: () => online });
    await h.engine.login(loginResponse(60));
    h.clock.advance(61_000);
    expect((await h.engine.sessionForRequest())?.accessToken).toBe('at-login');
    expect(h.presented).toEqual([]);
    online = true;
    expect((await h.engine.sessionForRequest())?.accessToken).not.toBe('at-login');
    expect(h.presented).toHaveLength(1);
    expect(h.events.some((e) => e.type === 'logged-out')).toBe(false);
  });

  it('a network failure while going offline stops the attempts at once and does not block the next refresh', async () => {
    let online = true;
    const h = createHarness(
      (_, { clock }) => {
        if (online) {
          online = false;
          return { kind: 'transient', reason: 'network error' };
        }
        return okOutcome(clock);
      },
      { online: () => online },
    );
    await h.engine.login(loginResponse(60));
    h.clock.advance(61_000);
    await h.engine.sessionForRequest();
    expect(h.presented).toHaveLength(1);
    expect(h.sleeps).toEqual([]);
    online = true;
    await h.engine.sessionForRequest();
    expect(h.presented).toHaveLength(2);
  });
});

describe('storage failures end in a clear state', () => {
  /** A store that fails (as IndexedDB does when it cannot open) while `broken` says so. */
  function flakyStore() {
    const inner = createMemorySessionStore();
    const control = { broken: false };
    const fail = () => Promise.reject(new DOMException('the database cannot be opened', 'VersionError'));
    const store: SessionStore = {
      read: () => (control.broken ? fail() : inner.read()),
      write: (session) => (control.broken ? fail() : inner.write(session)),
      replace: (expected, next) => (control.broken ? fail() : inner.replace(expected, next)),
      clear: () => (control.broken ? fail() : inner.clear()),
    };
    return { store, control };
  }

  it('an unreadable store reads as logged out, says so once, and recovers when storage works again', async () => {
    const { store, control } = flakyStore();
    const h = createHarness((_, { clock }) => okOutcome(clock), { store });
    control.broken = true;
    expect(await h.engine.sessionForRequest()).toBeNull();
    expect(await h.engine.sessionForRequest()).toBeNull();
    const status = await h.engine.status();
    expect(status).toMatchObject({ loggedIn: false, lastError: { code: 'storage-unavailable' } });
    expect(h.events.filter((e) => e.type === 'error')).toHaveLength(1);
    control.broken = false;
    expect((await h.engine.status()).lastError).toBeUndefined();
  });

  it('a login that cannot be stored fails with storage-unavailable, keeping the cause', async () => {
    const { store, control } = flakyStore();
    const h = createHarness((_, { clock }) => okOutcome(clock), { store });
    control.broken = true;
    await expect(h.engine.login(loginResponse(300))).rejects.toMatchObject({ code: 'storage-unavailable', cause: expect.objectContaining({ name: 'VersionError' }) });
    expect(h.events.map((e) => e.type)).not.toContain('logged-in');
  });

  it('a rotation that cannot be saved is still used by this worker: the old refresh token is dead at the server', async () => {
    const { store, control } = flakyStore();
    const h = createHarness((_, { clock }) => okOutcome(clock), { store });
    await h.engine.login(loginResponse(60));
    h.clock.advance(60_000);
    control.broken = true;
    const refreshed = await h.engine.sessionForRequest();
    expect(refreshed?.refreshToken).toMatch(/^rt-\d+$/);
    expect(h.engine.ready()?.accessToken).toBe(refreshed?.accessToken);
    expect((await h.engine.status()).lastError?.code).toBe('storage-unavailable');
  });

  it('a cleared store ends the session held: every tab hears storage-cleared once, the end hooks run', async () => {
    let ended = 0;
    const h = createHarness((_, { clock }) => okOutcome(clock));
    h.engine.onEnded(async () => {
      ended++;
    });
    await h.engine.login(loginResponse(300));
    await h.store.clear(); // the database was deleted under the worker
    await h.engine.storageCleared();
    await h.engine.storageCleared(); // nothing held any more: nothing more to say
    expect(h.events.filter((e) => e.type === 'logged-out')).toEqual([expect.objectContaining({ reason: 'storage-cleared' })]);
    expect(ended).toBe(1);
    expect(await h.engine.sessionForRequest()).toBeNull();
  });
});

describe('a wrong device clock never makes a refresh loop', () => {
  it('a token whose expiry is past on arrival is used as it is; the API 401 is what refreshes it', async () => {
    const h = createHarness((_, { clock }) => okOutcome(clock));
    await h.engine.login({ access_token: 'at-login', refresh_token: 'rt-login', expires_at: (h.clock.now() - 3_540_000) / 1000 });
    for (let i = 0; i < 5; i++) expect(h.engine.ready()?.accessToken).toBe('at-login');
    await h.engine.sessionForRequest();
    expect(h.presented).toEqual([]);
    await h.engine.sessionAfterRejection('at-login');
    expect(h.presented).toEqual(['rt-login']);
  });

  it('a refreshed token that already looks due is not refreshed again at once (the refresh-rate floor)', async () => {
    // The server answers tokens that this clock sees as expiring at once.
    const h = createHarness((_, { clock }) => ({ kind: 'ok', tokens: { accessToken: `at-${clock.now()}`, tokenType: 'Bearer', refreshToken: `rt-${clock.now()}`, expiresAt: clock.now() + 1, lifetimeMs: 60_000, refreshExpiresAt: null } }));
    await h.engine.login(loginResponse(60));
    h.clock.advance(60_000);
    await h.engine.sessionForRequest();
    expect(h.presented).toHaveLength(1);
    h.clock.advance(10);
    for (let i = 0; i < 10; i++) await h.engine.sessionForRequest();
    expect(h.presented).toHaveLength(1); // not one per request
    h.clock.advance(5_000);
    await h.engine.sessionForRequest();
    expect(h.presented).toHaveLength(2);
  });
});

describe('status() tells who is signed in', () => {
  it('the subject (sub of the ID token) when known, never a token', async () => {
    const h = createHarness((_, { clock }) => okOutcome(clock));
    const idToken = `e30.${Buffer.from(JSON.stringify({ sub: 'alice' })).toString('base64url')}.sig`;
    await h.engine.login(loginResponse(300, { id_token: idToken }));
    const status = await h.engine.status();
    expect(status).toMatchObject({ loggedIn: true, subject: 'alice' });
    expect(JSON.stringify(status)).not.toContain(idToken);
    expect(JSON.stringify(status)).not.toContain('at-login');
  });
});
