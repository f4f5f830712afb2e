import { forceCloseDatabase } from 'fake-indexeddb';
import { unwrap } from 'idb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEntryStore } from '../../src/sw/features/outbox/entry-store.js';
import { DATABASE_VERSION, openDatabase, type OutboxRecord } from '../../src/sw/storage/database.js';
import { persistedKeys } from '../../src/sw/storage/key-store.js';
import { createSealedSessionStore } from '../../src/sw/storage/sealed-session-store.js';
import { freshDatabase, freshDatabaseName, memorySessions } from './support/database.js';
import { makeSession } from './support/sessions.js';
import { createIdbOutboxStore } from './fixtures/v0.2/outbox-store.js';
import { createDbConnection } from './fixtures/v0.2/db.js';
import { createIdbSessionStore } from './fixtures/v0.2/session-store.js';

const entry = (n: number): OutboxRecord => ({
  id: `e${n}`,
  method: 'POST',
  url: 'https://app.test/api/notes',
  enqueuedAt: 1,
  attempts: 0,
  bytes: 10,
  idempotencyKey: `k${n}`,
  sessionId: 's1',
  headers: [['content-type', 'application/json']],
  body: new TextEncoder().encode(JSON.stringify({ n })).buffer as ArrayBuffer,
  credentials: 'same-origin',
  notBefore: 0,
});

describe('the database', () => {
  it('creates its stores once and keeps one connection', async () => {
    const db = freshDatabase();
    const first = await db();
    expect([...first.objectStoreNames].sort()).toEqual(['meta', 'outbox', 'session']);
    expect(first.version).toBe(DATABASE_VERSION);
    expect(await db()).toBe(first);
  });

  it('steps aside for a newer version that wants to upgrade, and opens again on next use', async () => {
    const name = freshDatabaseName();
    const db = openDatabase(name);
    await db(); // our connection is open
    const upgrade = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open(name, DATABASE_VERSION + 1); // a newer worker's upgrade: blocked unless ours closes
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    expect(upgrade.version).toBe(DATABASE_VERSION + 1);
    upgrade.close();
    // ours closed (else the upgrade would still be blocked); the next use opens afresh — and, being the
    // older version now, fails; that failure is not kept either
    const again = db();
    await expect(again).rejects.toMatchObject({ name: 'VersionError' });
    const retried = db();
    expect(retried).not.toBe(again);
    await expect(retried).rejects.toMatchObject({ name: 'VersionError' });
  });

  it('does not keep an open that threw synchronously (SecurityError): the next use opens', async () => {
    const db = freshDatabase();
    const open = vi.spyOn(indexedDB, 'open').mockImplementationOnce(() => {
      throw new DOMException('storage is not allowed here', 'SecurityError');
    });
    await expect(db()).rejects.toMatchObject({ name: 'SecurityError' });
    open.mockRestore();
    expect([...(await db()).objectStoreNames]).toContain('session');
  });

  it('opens again after the browser closed the connection (site data cleared)', async () => {
    const db = freshDatabase();
    const first = await db();
    forceCloseDatabase(unwrap(first) as never); // what the browser does when site data is cleared: 'close' fires
    const second = await db();
    expect(second).not.toBe(first);
    expect(await second.get('meta', 'nothing')).toBeUndefined();
  });
});

describe('writes resolve only once committed', () => {
  // Every read-write transaction made, and whether it had committed when the write that made it resolved.
  let transactions: Array<{ mode: IDBTransactionMode; completed: boolean }>;
  let spy: { mockRestore(): void };
  beforeEach(() => {
    transactions = [];
    const original = IDBDatabase.prototype.transaction;
    spy = vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
      const tx = original.apply(this, args);
      const record = { mode: tx.mode, completed: false };
      transactions.push(record);
      tx.addEventListener('complete', () => (record.completed = true));
      return tx;
    });
  });
  afterEach(() => spy.mockRestore());
  const writesCommitted = () => transactions.filter((t) => t.mode === 'readwrite').map((t) => t.completed);

  const sealedStore = () => {
    const db = freshDatabase();
    return createSealedSessionStore(db, persistedKeys(db));
  };

  it.each([
    ['the session write', async () => sealedStore().write(makeSession())],
    ['the session compare-and-swap', async () => {
      const store = sealedStore();
      await store.write(makeSession());
      await store.replace(makeSession(), makeSession({ version: 1 }));
    }],
    ['the session clear', async () => sealedStore().clear()],
    ['a key made and stored', async () => persistedKeys(freshDatabase())('k', async () => ({}) as CryptoKey)()],
    ['an outbox add, put, remove and clear', async () => {
      const store = createEntryStore(freshDatabase());
      const added = entry(1);
      await store.add(added, { maxEntries: 10, maxBytes: 1000 });
      await store.put({ ...added, attempts: 1 });
      await store.add(entry(2), { maxEntries: 10, maxBytes: 1000 });
      await store.remove(added.seq!);
      await store.clear();
    }],
    ['the memory-only marker', async () => memorySessions(freshDatabase()).write(makeSession())],
  ])('%s', async (_, write) => {
    // Checked at each resolution: a write that resolved on its request would show an uncommitted transaction.
    await write();
    expect(writesCommitted().length).toBeGreaterThan(0);
    expect(writesCommitted()).not.toContain(false);
  });

  it('(the check can fail: a write resolved on its request shows an uncommitted transaction)', async () => {
    const tx = (await freshDatabase()()).transaction('meta', 'readwrite');
    await tx.store.put('v', 'k');
    expect(writesCommitted()).toEqual([false]);
    await tx.done;
  });
});

describe('a database written by version 0.2', () => {
  it('is read by this version as it is: the stored session and the queued writes survive', async () => {
    const name = freshDatabaseName();
    const session = makeSession({ accessToken: 'at-from-0.2', refreshToken: 'rt-from-0.2', expiresAt: 1_800_000_000_000, lifetimeMs: 3_600_000, subject: 'alice' });
    const old = createDbConnection(name);
    await createIdbSessionStore(old).write(session);
    const oldOutbox = createIdbOutboxStore(old);
    for (const n of [1, 2, 3]) await oldOutbox.add(entry(n), { maxEntries: 10, maxBytes: 1000 });
    (await old()).close();

    const db = openDatabase(name);
    expect(await createSealedSessionStore(db, persistedKeys(db)).read()).toEqual(session);
    expect([(await db()).version, [...(await db()).objectStoreNames].sort()]).toEqual([DATABASE_VERSION, ['meta', 'outbox', 'session']]);
    const entries = await createEntryStore(db).list();
    expect(entries.map((e) => [e.seq, e.id, JSON.parse(new TextDecoder().decode(e.body!)).n])).toEqual([
      [1, 'e1', 1],
      [2, 'e2', 2],
      [3, 'e3', 3],
    ]);
    // and the queue goes on from there: a new write is appended after the old ones
    const next = entry(4);
    await createEntryStore(db).add(next, { maxEntries: 10, maxBytes: 1000 });
    expect(next.seq).toBe(4);
  });
});
