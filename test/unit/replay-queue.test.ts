import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../src/shared/protocol.js';
import { createEntryStore } from '../../src/sw/features/outbox/entry-store.js';
import { createReplayQueue, type OutboxWrite } from '../../src/sw/features/outbox/replay-queue.js';
import type { Session } from '../../src/sw/session.js';
import type { OutboxRecord } from '../../src/sw/storage/database.js';
import { freshDatabase } from './support/database.js';
import { createSharedLock, ManualClock } from './support/engine-harness.js';
import { createGate } from './support/gate.js';
import { makeSession } from './support/sessions.js';

const session = (accessToken = 'at-1', id = 's1'): Session => makeSession({ accessToken, id });

type Reply = Response | 'network-error' | Promise<Response>;

/** An outbox over fake-indexeddb, a scripted server and a scripted session. */
function createOutbox(
  options: { reply?: (entry: OutboxRecord, token: string) => Reply; maxEntries?: number; maxBytes?: number; keepForSameUser?: boolean } = {},
) {
  const clock = new ManualClock();
  const events: SessionEvent[] = [];
  const sent: Array<{ n: unknown; token: string }> = [];
  let current: Session | null = session();
  let refreshes = 0;
  const outbox = createReplayQueue({
    store: createEntryStore(freshDatabase()),
    engine: {
      sessionForRequest: async () => current,
      sessionAfterRejection: async (rejected) => {
        if (current && current.accessToken === rejected) {
          refreshes++;
          current = session(`at-${refreshes + 1}`, current.id);
        }
        return current;
      },
    },
    send: async (entry, s) => {
      const reply = options.reply?.(entry, s.accessToken) ?? new Response('ok');
      const resolved = await reply;
      if (resolved === 'network-error') throw new TypeError('Failed to fetch');
      sent.push({ n: JSON.parse(new TextDecoder().decode(entry.body!)).n, token: s.accessToken });
      return resolved;
    },
    isTokenRejected: (r) => r.status === 401,
    now: clock.now,
    withLock: createSharedLock(),
    emit: (e) => events.push(e),
    policy: {
      maxEntries: options.maxEntries ?? 100,
      maxBytes: options.maxBytes ?? 1_000_000,
      retentionMs: 86_400_000,
      keepForSameUser: options.keepForSameUser ?? false,
    },
  });
  let ids = 0;
  const write = (n: number, sessionId: string | null = 's1', subject?: string): OutboxWrite => ({
    id: `e${++ids}`,
    url: 'https://app.test/api/notes',
    method: 'POST',
    headers: [['content-type', 'application/json'], ['idempotency-key', `k${ids}`]],
    body: new TextEncoder().encode(JSON.stringify({ n })).buffer as ArrayBuffer,
    credentials: 'same-origin',
    idempotencyKey: `k${ids}`,
    sessionId,
    ...(subject === undefined ? {} : { subject }),
  });
  return {
    outbox,
    clock,
    events,
    sent,
    write,
    setSession: (s: Session | null) => (current = s),
    refreshes: () => refreshes,
    types: () => events.map((e) => e.type),
  };
}

describe('the outbox', () => {
  it('replays in FIFO order and empties', async () => {
    const t = createOutbox();
    for (const n of [1, 2, 3]) await t.outbox.enqueue(t.write(n));
    expect((await t.outbox.list()).map((e) => e.id)).toEqual(['e1', 'e2', 'e3']);
    expect(await t.outbox.replay()).toEqual({ replayed: 3, failed: 0, remaining: 0 });
    expect(t.sent.map((s) => s.n)).toEqual([1, 2, 3]);
    expect(t.types()).toEqual(['queued', 'queued', 'queued', 'replayed', 'replayed', 'replayed']);
    expect(t.outbox.pending).toBe(false);
  });

  it('concurrent triggers never send an entry twice', async () => {
    const gate = createGate();
    const t = createOutbox({ reply: () => gate.pass().then(() => new Response('ok')) });
    for (const n of [1, 2, 3]) await t.outbox.enqueue(t.write(n));
    const triggers = [t.outbox.replay(), t.outbox.replay(), t.outbox.replay()];
    await gate.reached; // the first entry is on its way; the other triggers share that replay
    expect(gate.held()).toBe(1);
    gate.open();
    await Promise.all(triggers);
    await t.outbox.replay();
    expect(t.sent.map((s) => s.n)).toEqual([1, 2, 3]);
  });

  it('a network error stops the replay and keeps the entry and everything behind it', async () => {
    let offline = true;
    const t = createOutbox({ reply: () => (offline ? 'network-error' : new Response('ok')) });
    for (const n of [1, 2]) await t.outbox.enqueue(t.write(n));
    expect(await t.outbox.replay()).toEqual({ replayed: 0, failed: 0, remaining: 2, waitingFor: 'network' });
    offline = false;
    expect(await t.outbox.replay()).toEqual({ replayed: 2, failed: 0, remaining: 0 });
  });

  it('5xx keeps the entry, backs off (Retry-After honoured) and holds everything behind it', async () => {
    let failing = true;
    const t = createOutbox({ reply: () => (failing ? new Response('busy', { status: 503, headers: { 'Retry-After': '30' } }) : new Response('ok')) });
    for (const n of [1, 2]) await t.outbox.enqueue(t.write(n));
    expect(await t.outbox.replay()).toEqual({ replayed: 0, failed: 0, remaining: 2, waitingFor: 'backoff' });
    expect((await t.outbox.list())[0]!.attempts).toBe(1);
    failing = false;
    t.clock.advance(29_000);
    expect(await t.outbox.replay()).toMatchObject({ replayed: 0 }); // still backing off
    t.clock.advance(1_000);
    expect(await t.outbox.replay()).toEqual({ replayed: 2, failed: 0, remaining: 0 });
  });

  it('other 4xx removes the entry as failed with status and body; the rest goes on (partial failure)', async () => {
    const t = createOutbox({ reply: (entry) => (entry.id === 'e2' ? new Response('duplicate title', { status: 409 }) : new Response('ok')) });
    for (const n of [1, 2, 3]) await t.outbox.enqueue(t.write(n));
    expect(await t.outbox.replay()).toEqual({ replayed: 2, failed: 1, remaining: 0 });
    expect(t.events.find((e) => e.type === 'replay-failed')).toMatchObject({ reason: 'rejected', status: 409, body: 'duplicate title', entry: { id: 'e2' } });
  });

  it('401 → one refresh through the engine and a retry with the new token', async () => {
    const t = createOutbox({ reply: (_, token) => (token === 'at-1' ? new Response('', { status: 401 }) : new Response('ok')) });
    await t.outbox.enqueue(t.write(1));
    expect(await t.outbox.replay()).toEqual({ replayed: 1, failed: 0, remaining: 0 });
    expect(t.refreshes()).toBe(1);
    expect(t.sent.map((s) => s.token)).toEqual(['at-1', 'at-2']);
  });

  it('a 401 that a refresh cannot fix (logged out) keeps the entry', async () => {
    const t = createOutbox({ reply: () => new Response('', { status: 401 }) });
    await t.outbox.enqueue(t.write(1));
    t.setSession(null);
    expect(await t.outbox.replay()).toEqual({ replayed: 0, failed: 0, remaining: 1, waitingFor: 'login' });
  });

  it('entries wait while logged out; a write made logged out goes with the next session', async () => {
    const t = createOutbox();
    t.setSession(null);
    await t.outbox.enqueue(t.write(1, null));
    expect(await t.outbox.replay()).toEqual({ replayed: 0, failed: 0, remaining: 1, waitingFor: 'login' });
    t.setSession(session('at-9', 's2'));
    expect(await t.outbox.replay()).toEqual({ replayed: 1, failed: 0, remaining: 0 });
  });

  it('never sends an entry under another session', async () => {
    const t = createOutbox();
    await t.outbox.enqueue(t.write(1, 's1'));
    t.setSession(session('at-other', 's2'));
    expect(await t.outbox.replay()).toEqual({ replayed: 0, failed: 1, remaining: 0 });
    expect(t.sent).toEqual([]);
    expect(t.events.at(-1)).toMatchObject({ type: 'replay-failed', reason: 'logged-out' });
  });

  it('drops entries older than the retention period as expired', async () => {
    const t = createOutbox();
    await t.outbox.enqueue(t.write(1));
    t.clock.advance(86_400_001);
    await t.outbox.enqueue(t.write(2));
    expect(await t.outbox.replay()).toEqual({ replayed: 1, failed: 1, remaining: 0 });
    expect(t.events.find((e) => e.type === 'replay-failed')).toMatchObject({ reason: 'expired', entry: { id: 'e1' } });
    expect(t.sent.map((s) => s.n)).toEqual([2]);
  });

  it('refuses a write over the entry or byte bound and keeps what is queued', async () => {
    const byCount = createOutbox({ maxEntries: 2 });
    expect(await byCount.outbox.enqueue(byCount.write(1))).not.toBeNull();
    expect(await byCount.outbox.enqueue(byCount.write(2))).not.toBeNull();
    expect(await byCount.outbox.enqueue(byCount.write(3))).toBeNull();
    expect((await byCount.outbox.list()).map((e) => e.id)).toEqual(['e1', 'e2']);

    const byBytes = createOutbox({ maxBytes: 150 });
    expect(await byBytes.outbox.enqueue(byBytes.write(1))).not.toBeNull();
    expect(await byBytes.outbox.enqueue(byBytes.write(2))).toBeNull();
    expect(await byBytes.outbox.list()).toHaveLength(1);
  });

  it('a session end drops its writes and reports each one', async () => {
    const t = createOutbox();
    for (const n of [1, 2]) await t.outbox.enqueue(t.write(n, 's1', 'alice'));
    await t.outbox.sessionEnded();
    expect(await t.outbox.list()).toEqual([]);
    expect(t.events.filter((e) => e.type === 'replay-failed').map((e) => e.type === 'replay-failed' && [e.entry.id, e.reason])).toEqual([
      ['e1', 'logged-out'],
      ['e2', 'logged-out'],
    ]);
  });

  it('keepForSameUser: writes survive the session end and go out in the same user\'s next session only', async () => {
    const t = createOutbox({ keepForSameUser: true });
    await t.outbox.enqueue(t.write(1, 's1', 'alice'));
    await t.outbox.enqueue(t.write(2, 's1')); // user unknown: cannot be proven the same, dropped
    await t.outbox.sessionEnded();
    expect((await t.outbox.list()).map((e) => e.id)).toEqual(['e1']);
    t.setSession({ ...session('at-alice-2', 's2'), subject: 'alice' });
    expect(await t.outbox.replay()).toEqual({ replayed: 1, failed: 0, remaining: 0 });
    expect(t.sent).toEqual([{ n: 1, token: 'at-alice-2' }]);
  });

  it('keepForSameUser: another user never gets them', async () => {
    const t = createOutbox({ keepForSameUser: true });
    await t.outbox.enqueue(t.write(1, 's1', 'alice'));
    await t.outbox.sessionEnded();
    t.setSession({ ...session('at-bob', 's3'), subject: 'bob' });
    expect(await t.outbox.replay()).toEqual({ replayed: 0, failed: 1, remaining: 0 });
    expect(t.sent).toEqual([]);
    expect(t.events.at(-1)).toMatchObject({ type: 'replay-failed', reason: 'logged-out' });
  });

  it('summaries never carry bodies or headers', async () => {
    const t = createOutbox();
    const summary = await t.outbox.enqueue(t.write(1));
    expect(Object.keys(summary!).sort()).toEqual(['attempts', 'bytes', 'enqueuedAt', 'id', 'idempotencyKey', 'method', 'url']);
  });
});
