import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { OutboxEntry } from './outbox-store.js';
import type { SealedSession } from './session-store.js';

const DB_NAME = 'sw-token-proxy';
const DB_VERSION = 1;

export interface ProxyDB extends DBSchema {
  /** One record, key `'current'`: the session, encrypted (see session-store.ts). */
  session: { key: string; value: SealedSession };
  /** Deferred writes, keyed by an auto-incremented sequence number: key order is FIFO order. */
  outbox: { key: number; value: OutboxEntry };
  /** `'session-key'`: the non-extractable AES-GCM key; `'dpop-key'`: the DPoP key pair (private half
   * non-extractable); `'memory-session'`: marker of a memory-only session. */
  meta: { key: string; value: CryptoKey | CryptoKeyPair | string };
}

/**
 * Opens the database lazily and keeps one connection. When a newer worker version wants to upgrade,
 * `blocking` closes ours so its upgrade does not hang; the next call opens a fresh connection.
 */
export function createDbConnection(name = DB_NAME): () => Promise<IDBPDatabase<ProxyDB>> {
  let opening: Promise<IDBPDatabase<ProxyDB>> | null = null;
  return () => {
    opening ??= openDB<ProxyDB>(name, DB_VERSION, {
      upgrade(db) {
        if (!db.objectStoreNames.contains('session')) db.createObjectStore('session');
        if (!db.objectStoreNames.contains('outbox')) db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
        if (!db.objectStoreNames.contains('meta')) db.createObjectStore('meta');
      },
      blocking() {
        void opening?.then((db) => db.close());
        opening = null;
      },
      terminated() {
        opening = null;
      },
    }).catch((error: unknown) => {
      opening = null;
      throw error;
    });
    return opening;
  };
}
