import type { IDBPDatabase } from 'idb';
import type { ProxyDB } from './db.js';
import type { Session, SessionStore } from './session.js';

const KEY = 'current';
const KEY_RECORD = 'session-key';
const MEMORY_MARKER = 'memory-session';

/**
 * The session as stored: id and version in clear for the compare-and-swap, everything else (tokens
 * included) AES-GCM encrypted with a non-extractable key kept in the same database. This protects a
 * copied disk or profile, not the origin: script running in the origin can use the key too.
 */
export interface SealedSession {
  id: string;
  version: number;
  iv: Uint8Array<ArrayBuffer>;
  data: ArrayBuffer;
}

type Db = () => Promise<IDBPDatabase<ProxyDB>>;

/**
 * A key made once per origin and kept in IndexedDB (CryptoKeys are stored as they are, still
 * non-extractable). Two workers racing keep the first one stored. `make` runs outside the transaction:
 * WebCrypto is asynchronous and a transaction would commit while it ran.
 */
export function storedKey<K extends CryptoKey | CryptoKeyPair>(db: Db, record: string, make: () => Promise<K>): () => Promise<K> {
  const isKey = (value: unknown): value is K => typeof value === 'object' && value !== null && typeof value !== 'string';
  let key: Promise<K> | null = null;
  const load = async (): Promise<K> => {
    const stored = await (await db()).get('meta', record);
    if (isKey(stored)) return stored;
    const made = await make();
    const tx = (await db()).transaction('meta', 'readwrite');
    const raced = await tx.store.get(record);
    if (!isKey(raced)) await tx.store.put(made, record);
    await tx.done;
    return isKey(raced) ? raced : made;
  };
  return () => {
    key ??= load().catch((error: unknown) => {
      key = null;
      throw error;
    });
    return key;
  };
}

export function createIdbSessionStore(db: Db): SessionStore {
  const keyring = storedKey(db, KEY_RECORD, () => crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']));

  async function seal(session: Session): Promise<SealedSession> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const plain = new TextEncoder().encode(JSON.stringify(session));
    const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await keyring(), plain);
    return { id: session.id, version: session.version, iv, data };
  }

  async function open(sealed: SealedSession | undefined): Promise<Session | null> {
    if (!sealed) return null;
    try {
      const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.iv }, await keyring(), sealed.data);
      return JSON.parse(new TextDecoder().decode(plain)) as Session;
    } catch {
      return null; // key lost or record tampered with: no usable session
    }
  }

  return {
    async read() {
      const connection = await db();
      // The key is read alongside the record, not after it: one round trip less on a cold start.
      void keyring().catch(() => undefined);
      return open(await connection.get('session', KEY));
    },
    async write(session) {
      const sealed = await seal(session);
      await (await db()).put('session', sealed, KEY);
    },
    async replace(expected, next) {
      const sealed = next === null ? null : await seal(next); // crypto must not run inside the transaction
      const tx = (await db()).transaction('session', 'readwrite');
      const current = await tx.store.get(KEY);
      const same = current?.id === expected.id && current.version === expected.version;
      if (same) await (sealed === null ? tx.store.delete(KEY) : tx.store.put(sealed, KEY));
      await tx.done;
      return same;
    },
    async clear() {
      await (await db()).delete('session', KEY);
    },
  };
}

/**
 * Memory-only mode: the session lives in this worker instance alone and dies with it. Only a marker
 * (the session id, no token) is written, so that the next worker instance can tell every tab the
 * session was lost rather than silently acting logged out.
 */
export function createMemorySessionStoreWithMarker(db: Db): SessionStore {
  let current: Session | null = null;
  const mark = async (id: string | null) => {
    await (id === null ? (await db()).delete('meta', MEMORY_MARKER) : (await db()).put('meta', id, MEMORY_MARKER));
  };
  return {
    read: async () => current,
    async write(session) {
      current = session;
      await mark(session.id);
    },
    async replace(expected, next) {
      if (current?.id !== expected.id || current.version !== expected.version) return false;
      current = next;
      if (next === null) await mark(null);
      return true;
    },
    async clear() {
      current = null;
      await mark(null);
    },
    async wasLost() {
      if (current !== null) return false;
      const marker = await (await db()).get('meta', MEMORY_MARKER);
      if (marker === undefined) return false;
      await mark(null);
      return true;
    },
  };
}
