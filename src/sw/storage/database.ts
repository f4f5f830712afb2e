import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { OutboxEntrySummary } from '../../shared/protocol.js';

/*
 * The worker's one IndexedDB database: its schema, its version and the records it holds. Every store and
 * record type is declared here, next to the version, so a change to any of them is a visible schema change.
 * Version 1, as 0.2 made it: session, outbox, meta.
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

/** A sign-in started by `signIn()` and not yet completed, in `meta` under `sign-in:<state>`: single use, short-lived (see features/sign-in). */
export interface SignInRecord {
  /** The OAuth `state`: the key, and what the callback must bring back. */
  state: string;
  nonce: string;
  /** The PKCE code verifier: never leaves the worker. */
  codeVerifier: string;
  /** Where the page lands once signed in (this origin). */
  returnTo: string;
  /** Epoch ms when it was made. */
  createdAt: number;
}

/** A provider's discovery document (RFC 8414 / OIDC Discovery), as oauth4webapi checked it, and when it was fetched: in `meta` under `discovery:<issuer>`. */
export interface DiscoveryRecord {
  issuer: string;
  metadata: Record<string, unknown>;
  fetchedAt: number;
}

export interface ProxySchema extends DBSchema {
  /** One record, key `'current'`. */
  session: { key: string; value: SealedSessionRecord };
  /** Keyed by `seq`: key order is FIFO order. */
  outbox: { key: number; value: OutboxRecord };
  /** `'session-key'`: the AES-GCM key; `'dpop-key'`: the DPoP key pair (private half non-extractable);
   * `'memory-session'`: the id of a memory-only session (no token); `'sign-in:…'`, `'discovery:…'`: see above. */
  meta: { key: string; value: CryptoKey | CryptoKeyPair | string | SignInRecord | DiscoveryRecord };
}

/** The shared connection, opened on first use. */
export interface Database {
  (): Promise<IDBPDatabase<ProxySchema>>;
  /** `listener` runs when the database was deleted under us or the browser closed it (site data cleared):
   * whatever was read from it may be gone. */
  onCleared(listener: () => void): void;
}

/**
 * Opens the database lazily and keeps one connection. A failed open is not kept, so the next use tries
 * again. When a newer worker version wants to upgrade, ours closes so its upgrade does not hang; when the
 * database is deleted, or the browser closes it (site data cleared, disk error), ours closes too, the
 * listeners hear it, and the next use opens a fresh one.
 */
export function openDatabase(name: string): Database {
  let opening: Promise<IDBPDatabase<ProxySchema>> | null = null;
  const clearedListeners: Array<() => void> = [];
  const forget = () => (opening = null);
  const cleared = () => {
    forget();
    for (const listener of clearedListeners) listener();
  };
  const open = async () => {
    const db: IDBPDatabase<ProxySchema> = await openDB<ProxySchema>(name, DATABASE_VERSION, {
      upgrade(upgrading) {
        // Version 1 is the only one so far: an upgrade starts from an empty database.
        upgrading.createObjectStore('session');
        upgrading.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
        upgrading.createObjectStore('meta');
      },
      blocking(_current, next) {
        db.close();
        // A newer version only wants to upgrade (it keeps the records); no next version means a deletion.
        if (next === null) cleared();
        else forget();
      },
      terminated: cleared,
    });
    return db;
  };
  // async: a synchronous throw of indexedDB.open() (SecurityError) becomes a rejection, not cached either
  const database = () =>
    (opening ??= open().catch((error: unknown) => {
      forget();
      throw error;
    }));
  return Object.assign(database, { onCleared: (listener: () => void) => void clearedListeners.push(listener) });
}
