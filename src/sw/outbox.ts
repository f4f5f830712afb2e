import type { OutboxEntrySummary, ReplayFailureReason, ReplayReport, SessionEvent } from '../shared/protocol.js';
import type { OutboxEntry, OutboxLimits, OutboxStore } from './outbox-store.js';
import type { RefreshEngine } from './refresh-engine.js';
import type { Session } from './session.js';
import { parseRetryAfter } from './token-endpoint.js';

export interface OutboxDeps {
  store: OutboxStore;
  engine: Pick<RefreshEngine, 'sessionForRequest' | 'sessionAfterRejection'>;
  /** Sends a stored write with the given session's token; rejects on network errors. */
  send: (entry: OutboxEntry, session: Session) => Promise<Response>;
  isTokenRejected: (response: Response) => boolean;
  now: () => number;
  /** Runs `task` holding the origin-wide outbox lock (Web Locks in the worker). */
  withLock: <T>(task: () => Promise<T>) => Promise<T>;
  emit: (event: SessionEvent) => void;
  /** Bounds, retention, and whether a session's writes outlive it for the same user (see the config). */
  policy: OutboxLimits & { retentionMs: number; keepForSameUser: boolean };
}

/** What a new write needs to be queued. */
export type OutboxWrite = Pick<OutboxEntry, 'id' | 'url' | 'method' | 'headers' | 'body' | 'credentials' | 'idempotencyKey' | 'sessionId' | 'subject'>;

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5 * 60_000;
const MAX_FAILURE_BODY = 2000;

function summarise(entry: OutboxEntry): OutboxEntrySummary {
  const { id, method, url, enqueuedAt, attempts, bytes, idempotencyKey } = entry;
  return { id, method, url, enqueuedAt, attempts, bytes, idempotencyKey };
}

/**
 * Deferred writes. Replay is FIFO and one at a time; each entry gets a token from the refresh engine at
 * replay time; an entry is deleted only once its outcome is known (at-least-once — the idempotency key,
 * fixed before the first attempt, lets the server make it once). One replay at a time per worker (a
 * shared flight) and per origin (a lock), so concurrent triggers never send an entry twice.
 */
export class Outbox {
  private flight: Promise<ReplayReport> | null = null;
  /** False only when a replay found it empty and nothing was queued since: saves the hot path a read. */
  private mayHaveEntries = true;
  /** Counts enqueues, so a replay that found the store empty can tell whether a write arrived meanwhile. */
  private enqueues = 0;

  constructor(private readonly deps: OutboxDeps) {}

  get pending(): boolean {
    return this.mayHaveEntries;
  }

  /** Queues a write; returns its summary, or null when a bound would be passed (nothing queued is lost). */
  async enqueue(write: OutboxWrite): Promise<OutboxEntrySummary | null> {
    const bytes = (write.body?.byteLength ?? 0) + write.url.length + write.headers.reduce((n, [k, v]) => n + k.length + v.length, 0);
    const entry: OutboxEntry = { ...write, bytes, enqueuedAt: this.deps.now(), attempts: 0, notBefore: 0 };
    if ((await this.deps.store.add(entry, this.deps.policy)) === 'full') return null;
    this.enqueues++;
    this.mayHaveEntries = true;
    const summary = summarise(entry);
    this.deps.emit({ type: 'queued', at: this.deps.now(), entry: summary });
    return summary;
  }

  async list(): Promise<OutboxEntrySummary[]> {
    return (await this.deps.store.list()).map(summarise);
  }

  /** A session ended: drops its writes (each reported as `replay-failed`, reason `logged-out`) unless they are kept for the same user. */
  async sessionEnded(): Promise<void> {
    const keep = this.deps.policy.keepForSameUser;
    for (const entry of await this.deps.store.clear((e) => !keep || e.subject === undefined)) this.fail(entry, 'logged-out');
  }

  /** Whether `entry` may be sent under `session`: its own session, the same user's next one (when kept), or any for writes made logged out. */
  private belongsTo(entry: OutboxEntry, session: Session): boolean {
    if (entry.sessionId === null || entry.sessionId === session.id) return true;
    return this.deps.policy.keepForSameUser && entry.subject !== undefined && entry.subject === session.subject;
  }

  replay(): Promise<ReplayReport> {
    this.flight ??= this.deps
      .withLock(() => this.replayHoldingLock())
      .finally(() => {
        this.flight = null;
      });
    return this.flight;
  }

  private fail(entry: OutboxEntry, reason: ReplayFailureReason, status?: number, body?: string): void {
    const event: SessionEvent = { type: 'replay-failed', at: this.deps.now(), entry: summarise(entry), reason };
    if (status !== undefined) event.status = status;
    if (body !== undefined) event.body = body;
    this.deps.emit(event);
  }

  private async replayHoldingLock(): Promise<ReplayReport> {
    const report: ReplayReport = { replayed: 0, failed: 0, remaining: 0 };
    for (;;) {
      const enqueuesBefore = this.enqueues;
      const entry = await this.deps.store.first();
      if (entry === null) {
        if (enqueuesBefore === this.enqueues) this.mayHaveEntries = false;
        return report;
      }
      const outcome = await this.replayOne(entry);
      if (outcome === 'replayed' || outcome === 'failed') {
        report[outcome]++;
        continue;
      }
      report.waitingFor = outcome;
      break;
    }
    report.remaining = (await this.deps.store.list()).length;
    return report;
  }

  private async replayOne(entry: OutboxEntry): Promise<'replayed' | 'failed' | NonNullable<ReplayReport['waitingFor']>> {
    const { store, engine, now } = this.deps;
    const seq = entry.seq!;
    if (now() - entry.enqueuedAt > this.deps.policy.retentionMs) {
      await store.remove(seq);
      this.fail(entry, 'expired');
      return 'failed';
    }
    if (now() < entry.notBefore) return 'backoff';
    const session = await engine.sessionForRequest();
    if (session === null) return 'login'; // logged out: it waits for a login
    if (!this.belongsTo(entry, session)) {
      await store.remove(seq);
      this.fail(entry, 'logged-out');
      return 'failed';
    }

    let response: Response;
    try {
      response = await this.deps.send(entry, session);
      if (this.deps.isTokenRejected(response)) {
        const next = await engine.sessionAfterRejection(session.accessToken);
        // Logged out, or the refresh failed for now: keep the entry rather than count the 401 against it.
        if (next === null) return 'login';
        if (next.accessToken === session.accessToken) return 'backoff';
        response = await this.deps.send(entry, next);
      }
    } catch {
      return 'network'; // keep it and everything behind it for the next trigger
    }

    if (response.ok) {
      await store.remove(seq);
      this.deps.emit({ type: 'replayed', at: now(), entry: summarise(entry), status: response.status });
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
    this.fail(entry, 'rejected', response.status, body);
    return 'failed';
  }
}
