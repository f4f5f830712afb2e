import type { TokenSet } from '../shared/token-response.js';

/** The stored session: the current token pair plus what `status()` and the refresh engine need. */
export interface Session extends TokenSet {
  /** Random per login; outbox entries and compare-and-swap writes are tied to it. */
  id: string;
  /** Bumped by every rotation, so a context that re-reads after the lock sees someone else's refresh. */
  version: number;
  refreshCount: number;
  lastRefreshAt?: number;
}

/** Where the session lives: sealed in IndexedDB by default, in memory with `memoryStorage()`. */
export interface SessionStore {
  read(): Promise<Session | null>;
  write(session: Session): Promise<void>;
  /** Writes `next` (or deletes, for null) only if the stored session is still `expected` (same id and
   * version), atomically; tells whether it did. */
  replace(expected: Pick<Session, 'id' | 'version'>, next: Session | null): Promise<boolean>;
  clear(): Promise<void>;
}

/** A key made with `make` on first use and then kept (the session key, the DPoP key pair): `record` names it. */
export type KeyStore = <K extends CryptoKey | CryptoKeyPair>(record: string, make: () => Promise<K>) => () => Promise<K>;

/** The session store and the key store, which always live in the same place. */
export interface StorageBackend {
  sessions: SessionStore;
  keys: KeyStore;
}
