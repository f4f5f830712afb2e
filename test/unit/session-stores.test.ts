import { describe, expect, it, vi } from 'vitest';
import type { SessionEvent } from '../../src/shared/protocol.js';
import type { Session } from '../../src/sw/session.js';
import { openDatabase } from '../../src/sw/storage/database.js';
import { persistedKeys } from '../../src/sw/storage/key-store.js';
import { createSealedSessionStore } from '../../src/sw/storage/sealed-session-store.js';
import { freshDatabaseName, memorySessions } from './support/database.js';
import { makeSession } from './support/sessions.js';

const session = (version: number, accessToken = `at-secret-${version}`): Session =>
  makeSession({ version, accessToken, refreshToken: `rt-secret-${version}`, expiresAt: 1, lifetimeMs: 1, refreshCount: version });

/** A sealed store over its own connection to database `name`, as another worker instance has. */
function sealedStore(name: string) {
  const db = openDatabase(name);
  return createSealedSessionStore(db, persistedKeys(db));
}

/** Every record of every store, as raw bytes and strings, to search for secrets. */
async function dump(name: string): Promise<string> {
  const db = await openDatabase(name)();
  const parts: string[] = [];
  for (const store of ['session', 'outbox', 'meta'] as const) {
    for (const value of await db.getAll(store)) {
      parts.push(JSON.stringify(value, (_, v: unknown) => (v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? Buffer.from(v as ArrayBuffer).toString('latin1') : v)));
    }
  }
  db.close();
  return parts.join('\n');
}

describe('the sealed session store (IndexedDB)', () => {
  it('writes, reads back through a new connection, compares-and-swaps and clears', async () => {
    const name = freshDatabaseName();
    const store = sealedStore(name);
    expect(await store.read()).toBeNull();
    await store.write(session(0));
    const reopened = sealedStore(name);
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
    const name = freshDatabaseName();
    const store = sealedStore(name);
    await store.write(session(7));
    const raw = await dump(name);
    expect(raw).not.toContain('secret');
    expect(raw).toContain('"id":"s1"');
    const key = (await (await openDatabase(name)()).get('meta', 'session-key')) as CryptoKey;
    expect(key.extractable).toBe(false);
    expect(key.algorithm).toMatchObject({ name: 'AES-GCM', length: 256 });
    expect((await store.read())?.refreshToken).toBe('rt-secret-7');
  });

  it('decrypts a record once: reading the same id and version again (the re-read under the refresh lock) costs no decrypt', async () => {
    const name = freshDatabaseName();
    await sealedStore(name).write(session(1));
    const store = sealedStore(name); // another worker instance: must decrypt
    const decrypt = vi.spyOn(crypto.subtle, 'decrypt');
    try {
      expect((await store.read())?.version).toBe(1);
      expect((await store.read())?.version).toBe(1);
      expect(decrypt).toHaveBeenCalledTimes(1);
      // another context rotated: a new version is decrypted
      await sealedStore(name).replace(session(1), session(2, 'at-secret-2b'));
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

  it('a cold read (a new worker instance) starts with one read-only transaction over the record and its key', async () => {
    const name = freshDatabaseName();
    await sealedStore(name).write(session(4));
    const db = openDatabase(name);
    const store = createSealedSessionStore(db, persistedKeys(db));
    const connection = await db();
    const transaction = vi.spyOn(connection, 'transaction');
    try {
      expect((await store.read())?.accessToken).toBe('at-secret-4');
      // the first transaction is the read itself; the key store is asked only afterwards, for the next write
      expect(transaction.mock.calls[0]).toEqual([['session', 'meta']]);
    } finally {
      transaction.mockRestore();
    }
  });

  it('treats a record it cannot decrypt (key lost, tampered) as no session', async () => {
    const name = freshDatabaseName();
    await sealedStore(name).write(session(1));
    await (await openDatabase(name)()).delete('meta', 'session-key');
    expect(await sealedStore(name).read()).toBeNull();
  });
});

describe('the memory-only session store', () => {
  it('writes nothing but a marker, and tells the next instance once that a session was lost', async () => {
    const name = freshDatabaseName();
    const firstEvents: SessionEvent[] = [];
    const first = memorySessions(openDatabase(name), firstEvents);
    await first.write(session(0));
    expect(await first.read()).toEqual(session(0));
    expect(firstEvents).toEqual([]);
    const raw = await dump(name);
    expect(raw).not.toContain('secret');
    expect(raw).toBe('"s1"');

    const events: SessionEvent[] = [];
    const restarted = memorySessions(openDatabase(name), events);
    expect(await restarted.read()).toBeNull();
    expect(await restarted.read()).toBeNull();
    expect(events).toEqual([{ type: 'logged-out', at: 1, reason: 'worker-restarted' }]);
  });

  it('a logout clears the marker: nothing to report after a restart', async () => {
    const name = freshDatabaseName();
    const first = memorySessions(openDatabase(name));
    await first.write(session(0));
    await first.clear();
    const events: SessionEvent[] = [];
    await memorySessions(openDatabase(name), events).read();
    expect(events).toEqual([]);
  });
});
