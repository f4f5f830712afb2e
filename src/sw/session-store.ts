import { request, single, transaction, type Db } from './db.js';
import type { Session, SessionStore } from './session.js';

const KEY = 'current';
const KEY_RECORD = 'session-key';

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

/**
 * A key made once per origin and kept in IndexedDB (CryptoKeys are stored as they are, still
 * non-extractable). Two workers racing keep the first one stored. `make` runs outside the transaction:
 * WebCrypto is asynchronous and a transaction would commit while it ran.
 */
export function storedKey<K extends CryptoKey | CryptoKeyPair>(db: Db, record: string, make: () => Promise<K>): () => Promise<K> {
  const isKey = (value: unknown): value is K => typeof value === 'object' && value !== null && typeof value !== 'string';
  let key: Promise<K> | null = null;
  const load = async (): Promise<K> => {
    const stored = await single(db, 'meta', 'readonly', (meta) => meta.get(record));
    if (isKey(stored)) return stored;
    const made = await make();
    const [meta, done] = await transaction(db, 'meta', 'readwrite');
    const raced = await request<unknown>(meta.get(record));
    if (!isKey(raced)) meta.put(made, record);
    await done;
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

  /**
   * The session last written or read: an id and version in clear identify a record's content (every
   * write has a new id or the next version, under a compare-and-swap), so reading the same one again —
   * the re-read under the refresh lock, at the start of every refresh — needs no decrypt, and the
   * refresh request goes out one task sooner.
   */
  let known: Session | null = null;
  const isKnown = (sealed: Pick<SealedSession, 'id' | 'version'>) => known?.id === sealed.id && known.version === sealed.version;

  async function open(sealed: SealedSession | undefined): Promise<Session | null> {
    if (!sealed) return null;
    if (isKnown(sealed)) return known;
    try {
      const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.iv }, await keyring(), sealed.data);
      return (known = JSON.parse(new TextDecoder().decode(plain)) as Session);
    } catch {
      return null; // key lost or record tampered with: no usable session
    }
  }

  return {
    async read() {
      const record = single(db, 'session', 'readonly', (sessions) => sessions.get(KEY));
      // The key is read alongside the record, not after it: one round trip less on a cold start.
      void keyring().catch(() => undefined);
      return open(await record);
    },
    async write(session) {
      const sealed = await seal(session);
      await single(db, 'session', 'readwrite', (sessions) => sessions.put(sealed, KEY));
      known = session;
    },
    async replace(expected, next) {
      const sealed = next === null ? null : await seal(next); // crypto must not run inside the transaction
      const [sessions, done] = await transaction(db, 'session', 'readwrite');
      const current = await request<SealedSession | undefined>(sessions.get(KEY));
      const same = current?.id === expected.id && current.version === expected.version;
      if (same) (sealed === null ? sessions.delete(KEY) : sessions.put(sealed, KEY));
      await done;
      if (same) known = next;
      return same;
    },
    async clear() {
      known = null;
      await single(db, 'session', 'readwrite', (sessions) => sessions.delete(KEY));
    },
  };
}
