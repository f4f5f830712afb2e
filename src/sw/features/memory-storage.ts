import type { StorageFeature } from '../feature.js';
import { defineFeature } from '../feature-contracts.js';
import type { KeyStore, Session, SessionStore } from '../session.js';
import type { Database } from '../storage/database.js';

const MEMORY_MARKER = 'memory-session';

/**
 * Memory-only sessions for `installTokenProxy({ storage: memoryStorage() })`: nothing of the session
 * (nor the DPoP key) is ever written to storage, at the price of a session that ends whenever the
 * browser stops the worker — every tab then hears `logged-out` with reason `worker-restarted`. A
 * separate export so that a worker without it does not ship it.
 */
export function memoryStorage(): StorageFeature {
  const keys: KeyStore = (_record, make) => {
    let made: ReturnType<typeof make> | null = null;
    return () => (made ??= make());
  };
  return defineFeature('storage', ({ db }) => ({ sessions: createMarkedMemorySessionStore(db), keys }));
}

/**
 * Memory-only mode: the session lives in this worker instance alone and dies with it. Only a marker
 * (the session id, no token) is written, so that the next worker instance can tell every tab the
 * session was lost rather than silently acting logged out.
 */
function createMarkedMemorySessionStore(db: Database): SessionStore {
  let current: Session | null = null;
  const mark = async (id: string | null) => {
    const open = await db();
    await (id === null ? open.delete('meta', MEMORY_MARKER) : open.put('meta', id, MEMORY_MARKER));
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
      const marker = await (await db()).get('meta', MEMORY_MARKER);
      if (marker === undefined) return false;
      await mark(null);
      return true;
    },
  };
}
