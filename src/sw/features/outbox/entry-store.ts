import type { Database, OutboxRecord } from '../../storage/database.js';

export interface OutboxLimits {
  maxEntries: number;
  maxBytes: number;
}

/** The outbox's entries in IndexedDB, oldest first. */
export interface EntryStore {
  /** Appends the entry unless that would pass a limit; tells which. Bound check and write are one transaction. */
  add(entry: OutboxRecord, limits: OutboxLimits): Promise<'added' | 'full'>;
  /** The oldest entry, or null. */
  first(): Promise<OutboxRecord | null>;
  list(): Promise<OutboxRecord[]>;
  put(entry: OutboxRecord): Promise<void>;
  remove(seq: number): Promise<void>;
  /** Removes every entry for which `drop` says so (all when omitted); returns what was removed. */
  clear(drop?: (entry: OutboxRecord) => boolean): Promise<OutboxRecord[]>;
}

export function createEntryStore(db: Database): EntryStore {
  return {
    async add(entry, limits) {
      const tx = (await db()).transaction('outbox', 'readwrite');
      const existing = await tx.store.getAll();
      const bytes = existing.reduce((sum, e) => sum + e.bytes, 0);
      const full = existing.length + 1 > limits.maxEntries || bytes + entry.bytes > limits.maxBytes;
      if (!full) entry.seq = await tx.store.add(entry);
      await tx.done;
      return full ? 'full' : 'added';
    },
    async first() {
      const cursor = await (await db()).transaction('outbox').store.openCursor();
      return cursor?.value ?? null;
    },
    list: async () => (await db()).getAll('outbox'),
    async put(entry) {
      await (await db()).put('outbox', entry);
    },
    async remove(seq) {
      await (await db()).delete('outbox', seq);
    },
    async clear(drop = () => true) {
      const tx = (await db()).transaction('outbox', 'readwrite');
      const removed = (await tx.store.getAll()).filter(drop);
      await Promise.all([...removed.map((entry) => tx.store.delete(entry.seq!)), tx.done]);
      return removed;
    },
  };
}
