import { single, type Db } from './db.js';
import type { Feature } from './config.js';
import type { Session, SessionStorage, SessionStore } from './session.js';

const MEMORY_MARKER = 'memory-session';

/** What the worker hands the storage when it starts. */
export interface StorageContext {
  db: Db;
}

/** The value of the `storage` config option: made by `memoryStorage()`. */
export type StorageFeature = Feature<'storage', StorageContext, SessionStorage>;

/**
 * Memory-only sessions for `installTokenProxy({ storage: memoryStorage() })`: nothing of the session
 * (nor the DPoP key) is ever written to storage, at the price of a session that ends whenever the
 * browser stops the worker — every tab then hears `logged-out` with reason `worker-restarted`. A
 * separate export so that a worker without it does not ship it.
 */
export function memoryStorage(): StorageFeature {
  return {
    feature: 'storage',
    start: ({ db }) => ({
      store: createMemorySessionStoreWithMarker(db),
      keys: (_record, make) => {
        let made: ReturnType<typeof make> | null = null;
        return () => (made ??= make());
      },
    }),
  };
}

/**
 * Memory-only mode: the session lives in this worker instance alone and dies with it. Only a marker
 * (the session id, no token) is written, so that the next worker instance can tell every tab the
 * session was lost rather than silently acting logged out.
 */
export function createMemorySessionStoreWithMarker(db: Db): SessionStore {
  let current: Session | null = null;
  const mark = async (id: string | null) => {
    await single(db, 'meta', 'readwrite', (meta) => (id === null ? meta.delete(MEMORY_MARKER) : meta.put(id, MEMORY_MARKER)));
  };
  return {
    read: async () => current,
    async write(session) {
      current = session;
      await mark(session.id);
    },
    async replace(expected, next) {
      if (current?.id !== expected.id || current.version !== expected.version) return false;
      current = next;
      if (next === null) await mark(null);
      return true;
    },
    async clear() {
      current = null;
      await mark(null);
    },
    async wasLost() {
      if (current !== null) return false;
      const marker = await single(db, 'meta', 'readonly', (meta) => meta.get(MEMORY_MARKER));
      if (marker === undefined) return false;
      await mark(null);
      return true;
    },
  };
}
