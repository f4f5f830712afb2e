import type { Database, SignInRecord } from '../../storage/database.js';

/** What the callback's `state` finds. */
export type Taken = { found: SignInRecord } | { missing: 'unknown' | 'expired' };

/** Sign-ins in flight: one record per `state`, used at most once, and only while young. */
export interface TransactionStore {
  /** Keeps a new sign-in, and drops the ones that expired (so abandoned sign-ins do not pile up). */
  put(record: SignInRecord): Promise<void>;
  /**
   * Takes the record of `state` and deletes it in the same transaction, so a callback replayed — or raced
   * by a second tab — finds nothing: an authorization code reaches the token endpoint at most once.
   */
  take(state: string): Promise<Taken>;
}

const PREFIX = 'sign-in:';

export function createTransactionStore(db: Database, now: () => number, lifetimeMs: number): TransactionStore {
  const expired = (record: SignInRecord) => now() - record.createdAt > lifetimeMs;
  return {
    async put(record) {
      const tx = (await db()).transaction('meta', 'readwrite');
      // every sign-in in `meta`: the keys from the prefix on
      const stale = ((await tx.store.getAll(IDBKeyRange.bound(PREFIX, `${PREFIX}\uffff`))) as SignInRecord[]).filter(expired);
      await Promise.all([...stale.map((old) => tx.store.delete(PREFIX + old.state)), tx.store.put(record, PREFIX + record.state), tx.done]);
    },
    async take(state) {
      const tx = (await db()).transaction('meta', 'readwrite');
      const record = (await tx.store.get(PREFIX + state)) as SignInRecord | undefined;
      await Promise.all([record && tx.store.delete(PREFIX + state), tx.done]);
      if (!record) return { missing: 'unknown' };
      return expired(record) ? { missing: 'expired' } : { found: record };
    },
  };
}
