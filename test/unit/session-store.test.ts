import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { createDbConnection, single, transaction, request, type StoreName } from '../../src/sw/db.js';
import type { Session } from '../../src/sw/session.js';
import { createMemorySessionStoreWithMarker } from '../../src/sw/memory-storage.js';
import { createIdbSessionStore } from '../../src/sw/session-store.js';

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
  const db = createDbConnection(name);
  const parts: string[] = [];
  for (const store of (await db()).objectStoreNames) {
    const [records] = await transaction(db, store as StoreName);
    for (const value of await request<unknown[]>(records.getAll())) {
      parts.push(JSON.stringify(value, (_, v: unknown) => (v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? Buffer.from(v as ArrayBuffer).toString('latin1') : v)));
    }
  }
  (await db()).close();
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
    const key = (await single(createDbConnection(name), 'meta', 'readonly', (meta) => meta.get('session-key'))) as CryptoKey;
    expect(key.extractable).toBe(false);
    expect(key.algorithm).toMatchObject({ name: 'AES-GCM', length: 256 });
    expect((await store.read())?.refreshToken).toBe('rt-secret-7');
  });

  it('decrypts a record once: reading the same id and version again (the re-read under the refresh lock) costs no decrypt', async () => {
    const name = `db-${Math.random()}`;
    await createIdbSessionStore(createDbConnection(name)).write(session(1));
    const store = createIdbSessionStore(createDbConnection(name)); // another worker instance: must decrypt
    const decrypt = vi.spyOn(crypto.subtle, 'decrypt');
    try {
      expect((await store.read())?.version).toBe(1);
      expect((await store.read())?.version).toBe(1);
      expect(decrypt).toHaveBeenCalledTimes(1);
      // another context rotated: a new version is decrypted
      await createIdbSessionStore(createDbConnection(name)).replace(session(1), session(2, 'at-secret-2b'));
      expect((await store.read())?.accessToken).toBe('at-secret-2b');
      expect(decrypt).toHaveBeenCalledTimes(2);
      // its own writes are known without a decrypt
      expect(await store.replace(session(2), session(3))).toBe(true);
      expect((await store.read())?.version).toBe(3);
      expect(decrypt).toHaveBeenCalledTimes(2);
    } finally {
      decrypt.mockRestore();
    }
  });

  it('treats a record it cannot decrypt (key lost, tampered) as no session', async () => {
    const name = `db-${Math.random()}`;
    await createIdbSessionStore(createDbConnection(name)).write(session(1));
    await single(createDbConnection(name), 'meta', 'readwrite', (meta) => meta.delete('session-key'));
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
