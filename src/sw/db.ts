import type { OutboxEntry } from './outbox-store.js';
import type { SealedSession } from './session-store.js';

/*
 * IndexedDB by hand, not through idb: the worker's size budget is 7 KB gzip and idb costs 1.3 KB of it
 * (its Proxy wrapping, shortcut methods and async iterators are bundled whole), while the stores below
 * need a dozen plain requests. What idb would give us and matters is kept: promises that settle inside
 * the transaction's lifetime, writes that resolve only once committed, and a connection that steps
 * aside for a newer worker's upgrade.
 */

const DB_NAME = 'sw-token-proxy';
const DB_VERSION = 1;

/** The object stores and what they hold. */
export interface ProxyStores {
  /** One record, key `'current'`: the session, encrypted (see session-store.ts). */
  session: SealedSession;
  /** Deferred writes, keyed by an auto-incremented `seq`: key order is FIFO order. */
  outbox: OutboxEntry;
  /** `'session-key'`: the non-extractable AES-GCM key; `'dpop-key'`: the DPoP key pair (private half
   * non-extractable); `'memory-session'`: marker of a memory-only session. */
  meta: CryptoKey | CryptoKeyPair | string;
}
export type StoreName = keyof ProxyStores;

/** The shared connection, opened on first use. */
export type Db = () => Promise<IDBDatabase>;

/** Settles with the request's outcome. Callbacks run as microtasks, while its transaction is still active. */
export function request<T>(pending: IDBRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    pending.onsuccess = () => resolve(pending.result as T);
    pending.onerror = () => reject(pending.error);
  });
}

/** Resolves when the transaction has committed; rejects when it failed or was aborted. */
function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error ?? new DOMException('transaction aborted', 'AbortError'));
  });
}

/** A transaction on one store, and its commit. A failed request fails the commit too, so a caller that
 * returns early on that failure leaves the commit unawaited: it is marked handled. */
export async function transaction(db: Db, name: StoreName, mode: IDBTransactionMode = 'readonly'): Promise<[IDBObjectStore, Promise<void>]> {
  const tx = (await db()).transaction(name, mode);
  const done = committed(tx);
  done.catch(() => undefined);
  return [tx.objectStore(name), done];
}

/**
 * One request in its own transaction. A write resolves once the transaction committed; a read as soon as
 * its request succeeded (waiting for a read-only commit would only add a turn to the cold start).
 */
export async function single<N extends StoreName, T = ProxyStores[N] | undefined>(
  db: Db,
  name: N,
  mode: IDBTransactionMode,
  make: (store: IDBObjectStore) => IDBRequest,
): Promise<T> {
  const [store, done] = await transaction(db, name, mode);
  const [result] = await Promise.all([request<T>(make(store)), mode === 'readonly' || done]);
  return result;
}

/**
 * Opens the database lazily and keeps one connection. When a newer worker version wants to upgrade, ours
 * closes so its upgrade does not hang; the next call opens a fresh connection.
 */
export function createDbConnection(name = DB_NAME): Db {
  let opening: Promise<IDBDatabase> | null = null;
  return () =>
    (opening ??= new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open(name, DB_VERSION);
      open.onupgradeneeded = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains('session')) db.createObjectStore('session');
        if (!db.objectStoreNames.contains('outbox')) db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
        if (!db.objectStoreNames.contains('meta')) db.createObjectStore('meta');
      };
      open.onsuccess = () => {
        const db = open.result;
        db.onversionchange = () => {
          db.close();
          opening = null;
        };
        db.onclose = () => (opening = null); // the browser closed it (storage cleared, disk error)
        resolve(db);
      };
      open.onerror = () => reject(open.error);
    }).catch((error: unknown) => {
      opening = null; // not cached: the next use tries again (this covers a synchronous throw of open() too)
      throw error;
    }));
}
