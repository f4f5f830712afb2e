import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { createDbConnection, request, single, transaction } from '../../src/sw/db.js';

const fresh = () => `db-${Math.random()}`;

describe('the IndexedDB layer', () => {
  it('creates the three stores once and keeps one connection', async () => {
    const db = createDbConnection(fresh());
    const first = await db();
    expect([...first.objectStoreNames].sort()).toEqual(['meta', 'outbox', 'session']);
    expect(await db()).toBe(first);
  });

  it('resolves a write only once it is committed, and reads it back through another connection', async () => {
    const name = fresh();
    await single(createDbConnection(name), 'meta', 'readwrite', (meta) => meta.put('v', 'k'));
    expect(await single(createDbConnection(name), 'meta', 'readonly', (meta) => meta.get('k'))).toBe('v');
  });

  it('keeps a transaction alive across awaited requests (read, then write in the same transaction)', async () => {
    const db = createDbConnection(fresh());
    const [outbox, done] = await transaction(db, 'outbox', 'readwrite');
    const before = await request<unknown[]>(outbox.getAll());
    const seq = await request<number>(outbox.add({ n: before.length }));
    const after = await request<unknown[]>(outbox.getAll());
    await done;
    expect(seq).toBe(1);
    expect(after).toHaveLength(1);
  });

  it('rejects a failed request and its commit, with no unhandled rejection', async () => {
    const db = createDbConnection(fresh());
    await single(db, 'outbox', 'readwrite', (outbox) => outbox.add({ seq: 5 }));
    // a second add with the same key fails: ConstraintError
    await expect(single(db, 'outbox', 'readwrite', (outbox) => outbox.add({ seq: 5 }))).rejects.toMatchObject({ name: 'ConstraintError' });
    const [outbox, done] = await transaction(db, 'outbox', 'readwrite');
    await expect(request(outbox.add({ seq: 5 }))).rejects.toMatchObject({ name: 'ConstraintError' });
    await expect(done).rejects.toBeDefined();
  });

  it('steps aside for a newer version that wants to upgrade, and opens again on next use', async () => {
    const name = fresh();
    const db = createDbConnection(name);
    await db(); // our connection is open
    const upgrade = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open(name, 2); // a newer worker's upgrade: blocked unless ours closes
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    expect(upgrade.version).toBe(2);
    upgrade.close();
    // ours closed (else the upgrade would still be blocked); the next use opens afresh — and, being the
    // older version now, fails; that failure is not cached either
    const again = db();
    await expect(again).rejects.toMatchObject({ name: 'VersionError' });
    const retried = db();
    expect(retried).not.toBe(again);
    await expect(retried).rejects.toMatchObject({ name: 'VersionError' });
  });

  it('does not cache an open that threw synchronously (SecurityError): the next use opens', async () => {
    const db = createDbConnection(fresh());
    const open = vi.spyOn(indexedDB, 'open').mockImplementationOnce(() => {
      throw new DOMException('storage is not allowed here', 'SecurityError');
    });
    await expect(db()).rejects.toMatchObject({ name: 'SecurityError' });
    open.mockRestore();
    expect([...(await db()).objectStoreNames]).toContain('session');
  });
});
