import type { StorageFeature } from '../feature.js';
import { defineFeature } from '../feature-contracts.js';
import type { SessionEvent } from '../../shared/protocol.js';
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
  return defineFeature('storage', ({ db, emit, now }) => ({ sessions: createMarkedMemorySessionStore(db, emit, now), keys }));
}

/**
 * Memory-only mode: the session lives in this worker instance alone and dies with it. Only a marker
 * (the session id, no token) is written, so that the next worker instance can tell every tab — once, at
 * its first read — that the session was lost, rather than silently acting logged out. (Writes the outbox
 * kept for it are dropped at their replay: they belong to no live session.)
 */
function createMarkedMemorySessionStore(db: Database, emit: (event: SessionEvent) => void, now: () => number): SessionStore {
  let current: Session | null = null;
  let checked = false;
  const mark = async (id: string | null) => {
    const open = await db();
    await (id === null ? open.delete('meta', MEMORY_MARKER) : open.put('meta', id, MEMORY_MARKER));
  };
  return {
    async read() {
      if (current === null && !checked) {
        checked = true;
        if ((await (await db()).get('meta', MEMORY_MARKER)) !== undefined) {
          await mark(null);
          emit({ type: 'logged-out', at: now(), reason: 'worker-restarted' });
        }
      }
      return current;
    },
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
  };
}
