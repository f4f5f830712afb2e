import type { IDBPDatabase } from 'idb';
import type { ProxyDB } from './db.js';
import type { SessionStore } from './session.js';

const KEY = 'current';

/** The session record in IndexedDB. Each operation is one transaction with no other await inside it. */
export function createIdbSessionStore(db: () => Promise<IDBPDatabase<ProxyDB>>): SessionStore {
  return {
    async read() {
      return (await (await db()).get('session', KEY)) ?? null;
    },
    async write(session) {
      await (await db()).put('session', session, KEY);
    },
    async replace(expected, next) {
      const tx = (await db()).transaction('session', 'readwrite');
      const current = await tx.store.get(KEY);
      const same = current?.id === expected.id && current.version === expected.version;
      if (same) await (next === null ? tx.store.delete(KEY) : tx.store.put(next, KEY));
      await tx.done;
      return same;
    },
    async clear() {
      await (await db()).delete('session', KEY);
    },
  };
}
