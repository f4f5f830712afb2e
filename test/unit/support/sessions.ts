import type { Session } from '../../../src/sw/session.js';

/** A stored session as the engine keeps it; a logged-in Bearer session without expiry unless told otherwise. */
export function makeSession(overrides: Partial<Session> = {}): Session {
  return {
    id: 's1',
    version: 0,
    accessToken: 'at-1',
    tokenType: 'Bearer',
    expiresAt: null,
    lifetimeMs: null,
    refreshExpiresAt: null,
    refreshCount: 0,
    ...overrides,
  };
}
