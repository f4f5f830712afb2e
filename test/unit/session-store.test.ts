import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { createDbConnection } from '../../src/sw/db.js';
import type { Session } from '../../src/sw/session.js';
import { createIdbSessionStore, createMemorySessionStoreWithMarker } from '../../src/sw/session-store.js';

const session = (version: number, accessToken = `at-secret-${version}`): Session => ({
  id: 's1',
  version,
  accessToken,
  tokenType: 'Bearer',
  refreshToken: `rt-secret-${version}`,
  expiresAt: 1,
  lifetimeMs: 1,
  refreshExpiresAt: null,
  refreshCount: version,
});

/** Every record of every store, as raw bytes and strings, to search for secrets. */
async function dump(name: string): Promise<string> {
  const db = await openDB(name);
  const parts: string[] = [];
  for (const store of db.objectStoreNames) {
    for (const value of await db.getAll(store)) {
      parts.push(JSON.stringify(value, (_, v: unknown) => (v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? Buffer.from(v as ArrayBuffer).toString('latin1') : v)));
    }
  }
  db.close();
  return parts.join('\n');
}

describe('the IndexedDB session store', () => {
  it('writes, reads back through a new connection, compares-and-swaps and clears', async () => {
    const name = `db-${Math.random()}`;
    const store = createIdbSessionStore(createDbConnection(name));
    expect(await store.read()).toBeNull();
    await store.write(session(0));
    const reopened = createIdbSessionStore(createDbConnection(name));
    expect(await reopened.read()).toEqual(session(0));
    expect(await reopened.replace({ id: 's1', version: 0 }, session(1))).toBe(true);
    expect(await store.replace({ id: 's1', version: 0 }, session(1, 'stale'))).toBe(false);
    expect((await store.read())?.accessToken).toBe('at-secret-1');
    expect(await store.replace({ id: 'other', version: 1 }, null)).toBe(false);
    expect(await store.replace({ id: 's1', version: 1 }, null)).toBe(true);
    expect(await store.read()).toBeNull();
    await store.write(session(3));
    await store.clear();
    expect(await store.read()).toBeNull();
  });

  it('keeps no token in clear text: the record is AES-GCM sealed with a non-extractable key', async () => {
    const name = `db-${Math.random()}`;
    const store = createIdbSessionStore(createDbConnection(name));
    await store.write(session(7));
    const raw = await dump(name);
    expect(raw).not.toContain('secret');
    expect(raw).toContain('"id":"s1"');
    const db = await openDB(name);
    const key = (await db.get('meta', 'session-key')) as CryptoKey;
    db.close();
    expect(key.extractable).toBe(false);
    expect(key.algorithm).toMatchObject({ name: 'AES-GCM', length: 256 });
    expect((await store.read())?.refreshToken).toBe('rt-secret-7');
  });

  it('treats a record it cannot decrypt (key lost, tampered) as no session', async () => {
    const name = `db-${Math.random()}`;
    await createIdbSessionStore(createDbConnection(name)).write(session(1));
    const db = await openDB(name);
    await db.delete('meta', 'session-key');
    db.close();
    expect(await createIdbSessionStore(createDbConnection(name)).read()).toBeNull();
  });
});

describe('the memory-only session store', () => {
  it('writes nothing but a marker, and tells the next instance once that a session was lost', async () => {
    const name = `db-${Math.random()}`;
    const first = createMemorySessionStoreWithMarker(createDbConnection(name));
    await first.write(session(0));
    expect(await first.read()).toEqual(session(0));
    expect(await first.wasLost!()).toBe(false);
    const raw = await dump(name);
    expect(raw).not.toContain('secret');
    expect(raw).toBe('"s1"');

    const restarted = createMemorySessionStoreWithMarker(createDbConnection(name));
    expect(await restarted.read()).toBeNull();
    expect(await restarted.wasLost!()).toBe(true);
    expect(await restarted.wasLost!()).toBe(false);
  });

  it('a logout clears the marker: nothing to report after a restart', async () => {
    const name = `db-${Math.random()}`;
    const first = createMemorySessionStoreWithMarker(createDbConnection(name));
    await first.write(session(0));
    await first.clear();
    expect(await createMemorySessionStoreWithMarker(createDbConnection(name)).wasLost!()).toBe(false);
  });
});
