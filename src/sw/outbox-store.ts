import type { IDBPDatabase } from 'idb';
import type { OutboxEntrySummary } from '../shared/protocol.js';
import type { ProxyDB } from './db.js';

/** A write kept for later: everything needed to send it again, never its Authorization or DPoP header. */
export interface OutboxEntry extends OutboxEntrySummary {
  /** FIFO position; assigned by the store. */
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

export interface OutboxLimits {
  maxEntries: number;
  maxBytes: number;
}

export interface OutboxStore {
  /** Appends the entry unless that would pass a limit; tells which. Bound check and write are one transaction. */
  add(entry: OutboxEntry, limits: OutboxLimits): Promise<'added' | 'full'>;
  /** The oldest entry, or null. */
  first(): Promise<OutboxEntry | null>;
  list(): Promise<OutboxEntry[]>;
  put(entry: OutboxEntry): Promise<void>;
  remove(seq: number): Promise<void>;
  /** Removes every entry for which `drop` says so (all when omitted); returns what was removed. */
  clear(drop?: (entry: OutboxEntry) => boolean): Promise<OutboxEntry[]>;
}

export function createIdbOutboxStore(db: () => Promise<IDBPDatabase<ProxyDB>>): OutboxStore {
  return {
    async add(entry, limits) {
      const tx = (await db()).transaction('outbox', 'readwrite');
      const existing = await tx.store.getAll();
      const bytes = existing.reduce((sum, e) => sum + e.bytes, 0);
      if (existing.length + 1 > limits.maxEntries || bytes + entry.bytes > limits.maxBytes) {
        await tx.done;
        return 'full';
      }
      entry.seq = await tx.store.add(entry);
      await tx.done;
      return 'added';
    },
    async first() {
      const cursor = await (await db()).transaction('outbox').store.openCursor();
      return cursor?.value ?? null;
    },
    async list() {
      return (await db()).getAll('outbox');
    },
    async put(entry) {
      await (await db()).put('outbox', entry);
    },
    async remove(seq) {
      await (await db()).delete('outbox', seq);
    },
    async clear(drop = () => true) {
      const tx = (await db()).transaction('outbox', 'readwrite');
      const removed = (await tx.store.getAll()).filter(drop);
      await Promise.all(removed.map((entry) => tx.store.delete(entry.seq!)));
      await tx.done;
      return removed;
    },
  };
}
