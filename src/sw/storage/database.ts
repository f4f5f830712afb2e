import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { OutboxEntrySummary } from '../../shared/protocol.js';

/*
 * The worker's one IndexedDB database: its schema, its version and the records it holds. Every store and
 * record type is declared here, next to the version, so a change to any of them is a visible schema change.
 * The 0.2 layout (version 1: session, outbox, meta) is read as it is.
 */

export const DATABASE_VERSION = 1;

/**
 * The session as stored: id and version in clear for the compare-and-swap, everything else (tokens
 * included) AES-GCM encrypted with a non-extractable key kept in `meta` (see sealed-session-store.ts).
 */
export interface SealedSessionRecord {
  id: string;
  version: number;
  iv: Uint8Array<ArrayBuffer>;
  data: ArrayBuffer;
}

/** A write kept by the offline outbox: everything needed to send it again, never its Authorization or DPoP header. */
export interface OutboxRecord extends OutboxEntrySummary {
  /** FIFO position; assigned by the store (auto-increment key). */
  seq?: number;
  /** The session it was made in; null when made while logged out (then any next session may send it). */
  sessionId: string | null;
  /** The user of that session, when known (see `keepForSameUser`). */
  subject?: string;
  headers: Array<[string, string]>;
  body: ArrayBuffer | null;
  credentials: RequestCredentials;
  /** Epoch ms before which a replay must not be tried (after 5xx/429). */
  notBefore: number;
}

export interface ProxySchema extends DBSchema {
  /** One record, key `'current'`. */
  session: { key: string; value: SealedSessionRecord };
  /** Keyed by `seq`: key order is FIFO order. */
  outbox: { key: number; value: OutboxRecord };
  /** `'session-key'`: the AES-GCM key; `'dpop-key'`: the DPoP key pair (private half non-extractable);
   * `'memory-session'`: the id of a memory-only session (no token). */
  meta: { key: string; value: CryptoKey | CryptoKeyPair | string };
}

/** The shared connection, opened on first use. */
export type Database = () => Promise<IDBPDatabase<ProxySchema>>;

/**
 * Opens the database lazily and keeps one connection. A failed open is not kept, so the next use tries
 * again. When a newer worker version wants to upgrade, ours closes so its upgrade does not hang; when the
 * browser closes it (site data cleared, disk error), the next use opens a fresh one.
 */
export function openDatabase(name: string): Database {
  let opening: Promise<IDBPDatabase<ProxySchema>> | null = null;
  const forget = () => (opening = null);
  const open = async () => {
    const db: IDBPDatabase<ProxySchema> = await openDB<ProxySchema>(name, DATABASE_VERSION, {
      upgrade(upgrading) {
        if (!upgrading.objectStoreNames.contains('session')) upgrading.createObjectStore('session');
        if (!upgrading.objectStoreNames.contains('outbox')) upgrading.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
        if (!upgrading.objectStoreNames.contains('meta')) upgrading.createObjectStore('meta');
      },
      blocking() {
        db.close();
        forget();
      },
      terminated: forget,
    });
    return db;
  };
  // async: a synchronous throw of indexedDB.open() (SecurityError) becomes a rejection, not cached either
  return () => (opening ??= open().catch((error: unknown) => {
    forget();
    throw error;
  }));
}
