import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { createDbConnection } from '../../src/sw/db.js';
import type { Session } from '../../src/sw/session.js';
import { createIdbSessionStore } from '../../src/sw/session-store.js';

const session = (version: number, accessToken = `at-${version}`): Session => ({
  id: 's1',
  version,
  accessToken,
  tokenType: 'Bearer',
  refreshToken: `rt-${version}`,
  expiresAt: 1,
  lifetimeMs: 1,
  refreshExpiresAt: null,
  refreshCount: version,
});

describe('the IndexedDB session store', () => {
  it('writes, reads back through a new connection, compares-and-swaps and clears', async () => {
    const name = `db-${Math.random()}`;
    const store = createIdbSessionStore(createDbConnection(name));
    expect(await store.read()).toBeNull();
    await store.write(session(0));
    const reopened = createIdbSessionStore(createDbConnection(name));
    expect(await reopened.read()).toEqual(session(0));
    expect(await reopened.replace({ id: 's1', version: 0 }, session(1))).toBe(true);
    expect(await store.replace({ id: 's1', version: 0 }, session(1, 'stale'))).toBe(false);
    expect((await store.read())?.accessToken).toBe('at-1');
    expect(await store.replace({ id: 'other', version: 1 }, null)).toBe(false);
    expect(await store.replace({ id: 's1', version: 1 }, null)).toBe(true);
    expect(await store.read()).toBeNull();
    await store.write(session(3));
    await store.clear();
    expect(await store.read()).toBeNull();
  });
});
