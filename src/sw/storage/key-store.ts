import type { KeyStore } from '../session.js';
import type { Database } from './database.js';

const isKey = (value: unknown): value is CryptoKey | CryptoKeyPair => typeof value === 'object' && value !== null;

/**
 * Keys made once per app and kept in `meta` (a CryptoKey is stored as it is, still non-extractable). Two
 * workers racing keep the first one stored. `make` runs outside the transaction: WebCrypto is asynchronous
 * and a transaction would commit while it ran. A failed load is not kept: the next use tries again.
 */
export function persistedKeys(db: Database): KeyStore {
  return <K extends CryptoKey | CryptoKeyPair>(record: string, make: () => Promise<K>) => {
    const load = async (): Promise<K> => {
      const stored = await (await db()).get('meta', record);
      if (isKey(stored)) return stored as K;
      const made = await make();
      const tx = (await db()).transaction('meta', 'readwrite');
      const raced = await tx.store.get(record);
      await Promise.all([isKey(raced) || tx.store.put(made, record), tx.done]);
      return isKey(raced) ? (raced as K) : made;
    };
    let key: Promise<K> | null = null;
    db.onCleared(() => (key = null)); // the stored key went with the database: make and keep a new one
    return () =>
      (key ??= load().catch((error: unknown) => {
        key = null;
        throw error;
      }));
  };
}
