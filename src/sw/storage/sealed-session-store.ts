import type { KeyStore, Session, SessionStore } from '../session.js';
import type { Database, SealedSessionRecord } from './database.js';

const RECORD = 'current';
/** The session key's record in `meta`. */
const KEY_RECORD = 'session-key';

/**
 * The session in IndexedDB, AES-GCM encrypted with a non-extractable key kept in the same database: no
 * token lies in the profile's files as plain text. Not a defence of a copied profile (the key is in it, kept
 * as the browser chooses) nor of the origin: script running in the origin can use the key too.
 */
export function createSealedSessionStore(db: Database, keys: KeyStore): SessionStore {
  const sessionKey = keys(KEY_RECORD, () => crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']));

  async function seal(session: Session): Promise<SealedSessionRecord> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const plain = new TextEncoder().encode(JSON.stringify(session));
    const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await sessionKey(), plain);
    return { id: session.id, version: session.version, iv, data };
  }

  /**
   * The session last written or read: an id and version in clear identify a record's content (every
   * write has a new id or the next version, under a compare-and-swap), so reading the same one again —
   * the re-read under the refresh lock, at the start of every refresh — needs no decrypt, and the
   * refresh request goes out one task sooner.
   */
  let known: Session | null = null;
  db.onCleared(() => (known = null));
  const isKnown = (sealed: Pick<SealedSessionRecord, 'id' | 'version'>) => known?.id === sealed.id && known.version === sealed.version;

  /** `key`: what `meta` holds under KEY_RECORD, read with the record (none, or no key: no usable session). */
  async function unseal(sealed: SealedSessionRecord | undefined, key: unknown): Promise<Session | null> {
    if (!sealed) return null;
    if (isKnown(sealed)) return known;
    try {
      const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.iv }, key as CryptoKey, sealed.data);
      return (known = JSON.parse(new TextDecoder().decode(plain)) as Session);
    } catch {
      return null; // key lost or record tampered with: no usable session
    }
  }

  return {
    async read() {
      // The record and its key in one read-only transaction: on a cold start the first request waits for
      // this read, and the first transaction of a fresh connection is the slow part (measured in Chromium
      // 156: 0.5–1.2 ms, against 1.0–1.6 ms for two). The key store reads in a transaction of its own, so it
      // is asked only after, to have the key at hand for the next write (which seals with this same key).
      const tx = (await db()).transaction(['session', 'meta']);
      // Resolved on the requests, not on the read-only commit: one turn less on a cold start.
      const [sealed, key] = await Promise.all([tx.objectStore('session').get(RECORD), tx.objectStore('meta').get(KEY_RECORD)]);
      void sessionKey().catch(() => undefined);
      return unseal(sealed, key);
    },
    async write(session) {
      const sealed = await seal(session);
      await (await db()).put('session', sealed, RECORD); // idb resolves a write once it is committed
      known = session;
    },
    async replace(expected, next) {
      const sealed = next === null ? null : await seal(next); // crypto must not run inside the transaction
      const tx = (await db()).transaction('session', 'readwrite');
      const current = await tx.store.get(RECORD);
      const same = current?.id === expected.id && current.version === expected.version;
      await Promise.all([same && (sealed === null ? tx.store.delete(RECORD) : tx.store.put(sealed, RECORD)), tx.done]);
      if (same) known = next;
      return same;
    },
    async clear() {
      known = null;
      await (await db()).delete('session', RECORD);
    },
  };
}
