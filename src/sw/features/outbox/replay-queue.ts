import type { OutboxEntrySummary, ReplayFailureReason, ReplayReport, SessionEvent } from '../../../shared/protocol.js';
import { parseRetryAfter } from '../../http.js';
import type { RefreshEngine } from '../../refresh-engine.js';
import type { Session } from '../../session.js';
import type { OutboxRecord } from '../../storage/database.js';
import type { EntryStore, OutboxLimits } from './entry-store.js';

export interface ReplayQueueDeps {
  store: EntryStore;
  engine: Pick<RefreshEngine, 'sessionForRequest' | 'sessionAfterRejection'>;
  /** Sends a stored write with the given session's token; rejects on network errors. */
  send: (entry: OutboxRecord, session: Session) => Promise<Response>;
  isTokenRejected: (response: Response) => boolean;
  now: () => number;
  /** Runs `task` holding the origin-wide outbox lock (Web Locks in the worker). */
  withLock: <T>(task: () => Promise<T>) => Promise<T>;
  emit: (event: SessionEvent) => void;
  /** Bounds, retention, and whether a session's writes outlive it for the same user (see the config). */
  policy: OutboxLimits & { retentionMs: number; keepForSameUser: boolean };
}

/** What a new write needs to be queued. */
export type OutboxWrite = Pick<OutboxRecord, 'id' | 'url' | 'method' | 'headers' | 'body' | 'credentials' | 'idempotencyKey' | 'sessionId' | 'subject'>;

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5 * 60_000;
const MAX_FAILURE_BODY = 2000;

function summarise(entry: OutboxRecord): OutboxEntrySummary {
  const { id, method, url, enqueuedAt, attempts, bytes, idempotencyKey } = entry;
  return { id, method, url, enqueuedAt, attempts, bytes, idempotencyKey };
}

/** The outbox's pure core, as the feature's wiring (offline-outbox.ts) uses it. */
export interface ReplayQueue {
  /** False only when a replay found it empty and nothing was queued since: saves the hot path a read. */
  readonly pending: boolean;
  /** Queues a write; returns its summary, or null when a bound would be passed (nothing queued is lost). */
  enqueue(write: OutboxWrite): Promise<OutboxEntrySummary | null>;
  list(): Promise<OutboxEntrySummary[]>;
  /** A session ended: drops its writes (each reported as `replay-failed`, reason `logged-out`) unless they are kept for the same user. */
  sessionEnded(): Promise<void>;
  replay(): Promise<ReplayReport>;
}

/**
 * Deferred writes. Replay is FIFO and one at a time; each entry gets a token from the refresh engine at
 * replay time; an entry is deleted only once its outcome is known (at-least-once — the idempotency key,
 * fixed before the first attempt, lets the server make it once). One replay at a time per worker (a
 * shared flight) and per app (a lock), so concurrent triggers never send an entry twice.
 * (A closure rather than a class: the worker's size budget, and minifiers do not shorten property names.)
 */
export function createReplayQueue(deps: ReplayQueueDeps): ReplayQueue {
  const { store, engine, now, emit, policy } = deps;
  let flight: Promise<ReplayReport> | null = null;
  let mayHaveEntries = true;
  /** Counts enqueues, so a replay that found the store empty can tell whether a write arrived meanwhile. */
  let enqueues = 0;

  function fail(entry: OutboxRecord, reason: ReplayFailureReason, status?: number, body?: string): void {
    const event: SessionEvent = { type: 'replay-failed', at: now(), entry: summarise(entry), reason };
    if (status !== undefined) event.status = status;
    if (body !== undefined) event.body = body;
    emit(event);
  }

  /** Whether `entry` may be sent under `session`: its own session, the same user's next one (when kept), or any for writes made logged out. */
  function belongsTo(entry: OutboxRecord, session: Session): boolean {
    if (entry.sessionId === null || entry.sessionId === session.id) return true;
    return policy.keepForSameUser && entry.subject !== undefined && entry.subject === session.subject;
  }

  async function replayHoldingLock(): Promise<ReplayReport> {
    const report: ReplayReport = { replayed: 0, failed: 0, remaining: 0 };
    for (;;) {
      const enqueuesBefore = enqueues;
      const entry = await store.first();
      if (entry === null) {
        if (enqueuesBefore === enqueues) mayHaveEntries = false;
        return report;
      }
      const outcome = await replayOne(entry);
      if (outcome === 'replayed' || outcome === 'failed') {
        report[outcome]++;
        continue;
      }
      report.waitingFor = outcome;
      break;
    }
    report.remaining = (await store.list()).length;
    return report;
  }

  async function replayOne(entry: OutboxRecord): Promise<'replayed' | 'failed' | NonNullable<ReplayReport['waitingFor']>> {
    const seq = entry.seq!;
    if (now() - entry.enqueuedAt > policy.retentionMs) {
      await store.remove(seq);
      fail(entry, 'expired');
      return 'failed';
    }
    if (now() < entry.notBefore) return 'backoff';
    const session = await engine.sessionForRequest();
    if (session === null) return 'login'; // logged out: it waits for a login
    if (!belongsTo(entry, session)) {
      await store.remove(seq);
      fail(entry, 'logged-out');
      return 'failed';
    }

    let response: Response;
    try {
      response = await deps.send(entry, session);
      if (deps.isTokenRejected(response)) {
        const next = await engine.sessionAfterRejection(session.accessToken);
        // Logged out, or the refresh failed for now: keep the entry rather than count the 401 against it.
        if (next === null) return 'login';
        if (next.accessToken === session.accessToken) return 'backoff';
        response = await deps.send(entry, next);
      }
    } catch {
      return 'network'; // keep it and everything behind it for the next trigger
    }

    if (response.ok) {
      await store.remove(seq);
      emit({ type: 'replayed', at: now(), entry: summarise(entry), status: response.status });
      return 'replayed';
    }
    if (response.status >= 500 || response.status === 429 || response.status === 408) {
      entry.attempts++;
      const backoff = Math.min(FIRST_BACKOFF_MS * 2 ** (entry.attempts - 1), MAX_BACKOFF_MS);
      entry.notBefore = now() + (parseRetryAfter(response.headers.get('Retry-After'), now()) ?? backoff);
      await store.put(entry);
      return 'backoff';
    }
    const body = (await response.text().catch(() => '')).slice(0, MAX_FAILURE_BODY);
    await store.remove(seq);
    fail(entry, 'rejected', response.status, body);
    return 'failed';
  }

  return {
    get pending() {
      return mayHaveEntries;
    },
    async enqueue(write) {
      const bytes = (write.body?.byteLength ?? 0) + write.url.length + write.headers.reduce((n, [k, v]) => n + k.length + v.length, 0);
      const entry: OutboxRecord = { ...write, bytes, enqueuedAt: now(), attempts: 0, notBefore: 0 };
      if ((await store.add(entry, policy)) === 'full') return null;
      enqueues++;
      mayHaveEntries = true;
      const summary = summarise(entry);
      emit({ type: 'queued', at: now(), entry: summary });
      return summary;
    },
    list: async () => (await store.list()).map(summarise),
    async sessionEnded() {
      for (const entry of await store.clear((e) => !policy.keepForSameUser || e.subject === undefined)) fail(entry, 'logged-out');
    },
    replay() {
      flight ??= deps.withLock(replayHoldingLock).finally(() => {
        flight = null;
      });
      return flight;
    },
  };
}
