import type { OutboxEntrySummary } from '../shared/protocol.js';
import { request, single, transaction, type Db } from './db.js';

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

export function createIdbOutboxStore(db: Db): OutboxStore {
  const all = (outbox: IDBObjectStore) => request<OutboxEntry[]>(outbox.getAll());
  return {
    async add(entry, limits) {
      const [outbox, done] = await transaction(db, 'outbox', 'readwrite');
      const existing = await all(outbox);
      const bytes = existing.reduce((sum, e) => sum + e.bytes, 0);
      const full = existing.length + 1 > limits.maxEntries || bytes + entry.bytes > limits.maxBytes;
      if (!full) entry.seq = await request<number>(outbox.add(entry));
      await done;
      return full ? 'full' : 'added';
    },
    async first() {
      const cursor = await single<'outbox', IDBCursorWithValue | null>(db, 'outbox', 'readonly', (outbox) => outbox.openCursor());
      return (cursor?.value as OutboxEntry | undefined) ?? null;
    },
    async list() {
      const [outbox, done] = await transaction(db, 'outbox');
      const entries = await all(outbox);
      await done;
      return entries;
    },
    async put(entry) {
      await single(db, 'outbox', 'readwrite', (outbox) => outbox.put(entry));
    },
    async remove(seq) {
      await single(db, 'outbox', 'readwrite', (outbox) => outbox.delete(seq));
    },
    async clear(drop = () => true) {
      const [outbox, done] = await transaction(db, 'outbox', 'readwrite');
      const removed = (await all(outbox)).filter(drop);
      for (const entry of removed) outbox.delete(entry.seq!);
      await done;
      return removed;
    },
  };
}
