import type { KeyStore, Session, SessionStore } from '../session.js';
import type { Database, SealedSessionRecord } from './database.js';

const RECORD = 'current';

/**
 * The session in IndexedDB, AES-GCM encrypted with a non-extractable key kept in the same database. This
 * protects a copied disk or profile, not the origin: script running in the origin can use the key too.
 */
export function createSealedSessionStore(db: Database, keys: KeyStore): SessionStore {
  const sessionKey = keys('session-key', () => crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']));

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

  async function unseal(sealed: SealedSessionRecord | undefined): Promise<Session | null> {
    if (!sealed) return null;
    if (isKnown(sealed)) return known;
    try {
      const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.iv }, await sessionKey(), sealed.data);
      return (known = JSON.parse(new TextDecoder().decode(plain)) as Session);
    } catch {
      return null; // key lost or record tampered with: no usable session
    }
  }

  return {
    async read() {
      // The key is read alongside the record, not after it: one round trip less on a cold start. Asked
      // first, it is back first, so the decrypt starts as soon as the record is.
      void sessionKey().catch(() => undefined);
      // A read resolves on its request, not on the read-only commit: one turn less on a cold start.
      const record = db().then((open) => open.get('session', RECORD));
      return unseal(await record);
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
