import type { SessionEvent } from '../../../src/shared/protocol.js';
import { createRefreshEngine, type EngineDeps, type RefreshEngine, type RefreshOutcome } from '../../../src/sw/refresh-engine.js';
import type { Session, SessionStore } from '../../../src/sw/session.js';
import { createGate } from './gate.js';

/** A session store in a variable, for the engine's unit tests. */
export function createMemorySessionStore(): SessionStore {
  let current: Session | null = null;
  return {
    read: async () => current,
    write: async (session) => {
      current = session;
    },
    replace: async (expected, next) => {
      if (current?.id !== expected.id || current.version !== expected.version) return false;
      current = next;
      return true;
    },
    clear: async () => {
      current = null;
    },
  };
}

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public time = 1_700_000_000_000) {}
  now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

/** One mutex shared by several engines: what `navigator.locks` is to several worker versions. */
export function createSharedLock(): EngineDeps['withLock'] {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}

let tokenCounter = 0;
export function okOutcome(clock: ManualClock, expiresIn = 300, withRefresh = true): RefreshOutcome {
  tokenCounter++;
  return {
    kind: 'ok',
    tokens: {
      accessToken: `at-${tokenCounter}`,
      tokenType: 'Bearer',
      ...(withRefresh ? { refreshToken: `rt-${tokenCounter}` } : {}),
      expiresAt: clock.now() + expiresIn * 1000,
      lifetimeMs: expiresIn * 1000,
      refreshExpiresAt: null,
    },
  };
}

export interface Harness {
  engine: RefreshEngine;
  clock: ManualClock;
  store: SessionStore;
  events: SessionEvent[];
  /** Refresh tokens presented to the fake token endpoint, in order. */
  presented: string[];
  sleeps: number[];
}

/**
 * An engine over a memory store and a scripted token endpoint. `respond` decides each refresh outcome;
 * it may return a promise to keep the refresh in flight.
 */
export function createHarness(
  respond: (refreshToken: string, h: Harness) => RefreshOutcome | Promise<RefreshOutcome>,
  overrides: Partial<EngineDeps> & { clock?: ManualClock; store?: SessionStore } = {},
): Harness {
  const clock = overrides.clock ?? new ManualClock();
  const store = overrides.store ?? createMemorySessionStore();
  const h = { clock, store, events: [], presented: [], sleeps: [] } as unknown as Harness;
  let ids = 0;
  h.engine = createRefreshEngine({
    store,
    refresh: async (refreshToken) => {
      h.presented.push(refreshToken);
      return respond(refreshToken, h);
    },
    now: clock.now,
    sleep: async (ms) => {
      h.sleeps.push(ms);
      clock.advance(ms);
    },
    withLock: createSharedLock(),
    emit: (event) => h.events.push(event),
    newId: () => `session-${++ids}`,
    skewMs: 60_000,
    attempts: 3,
    maxRetryDelayMs: 10_000,
    ...overrides,
  });
  return h;
}

export const loginResponse = (expiresIn: number | null = 300, extra: Record<string, unknown> = {}) => ({
  access_token: 'at-login',
  refresh_token: 'rt-login',
  token_type: 'Bearer',
  ...(expiresIn === null ? {} : { expires_in: expiresIn }),
  ...extra,
});

/** A harness whose every refresh waits at `gate` (held in flight until `gate.open()`), then succeeds. */
export function createGatedHarness(): { gate: ReturnType<typeof createGate>; h: Harness } {
  const gate = createGate();
  const h = createHarness(async (_, { clock }) => {
    await gate.pass();
    return okOutcome(clock);
  });
  return { gate, h };
}
