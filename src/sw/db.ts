import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Session } from './session.js';

export const DB_NAME = 'sw-token-proxy';
const DB_VERSION = 1;

export interface ProxyDB extends DBSchema {
  /** One record, key `'current'`: the session this origin is logged in with. */
  session: { key: string; value: Session };
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
