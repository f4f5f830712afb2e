/// <reference lib="webworker" />
import type { OutboxEntrySummary, ReplayReport, SessionEvent } from '../shared/protocol.js';
import { invalidConfig, positive, type Feature } from './config.js';
import type { Db } from './db.js';
import { createOutbox } from './outbox.js';
import { createIdbOutboxStore } from './outbox-store.js';
import type { RefreshEngine } from './refresh-engine.js';
import { jsonResponse } from './responses.js';
import type { Session } from './session.js';

declare const self: ServiceWorkerGlobalScope;
// Background Sync is Chromium-only and not in TypeScript's lib.
interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
}
type SyncRegistration = ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } };

/** Name of the Web Lock around a replay, and the Background Sync tag. */
const OUTBOX_LOCK = 'sw-token-proxy:outbox';

export interface OutboxOptions {
  /** Which API writes (never GET or HEAD: there is nothing to deliver later) are kept and replayed when the network fails. Default: every one. */
  defer?: (request: Request) => boolean;
  /** Most entries kept. Default 100. */
  maxEntries?: number;
  /** Most bytes kept (bodies, URLs, headers). Default 5 MiB. */
  maxBytes?: number;
  /** Entries older than this are dropped (`replay-failed`, reason `expired`). Default 86 400 s (24 h). */
  retentionSeconds?: number;
  /** Request header carrying the idempotency key, set before the first attempt unless the page set it. Default `Idempotency-Key`. */
  idempotencyHeader?: string;
  /** Header of the 202 response naming the entry id. Default `X-Outbox-Entry`. */
  entryHeader?: string;
  /**
   * When a session ends, keep its queued writes for the same user's next session instead of dropping
   * them. "Same user" is the `sub` claim of the ID token (or of a JWT access token); writes of a session
   * whose user is unknown are dropped all the same. Default false.
   */
  keepForSameUser?: boolean;
}

/** What the worker hands the outbox when it starts. */
export interface OutboxContext {
  db: Db;
  engine: RefreshEngine;
  /** Sends an API request with the current token, refreshing and replaying once on a rejected token. */
  send: (request: Request, body: ArrayBuffer) => Promise<Response>;
  /** Sends `build(headers)` with `session`'s token (and a DPoP proof for a DPoP-bound token). */
  sendAuthorized: (build: (headers: Headers) => Request, headers: HeadersInit, session: Session) => Promise<Response>;
  isTokenRejected: (response: Response) => boolean;
  now: () => number;
  newId: () => string;
  /** False when the browser knows it is offline: writes are then queued without trying the network. */
  online: () => boolean;
  emit: (event: SessionEvent) => void;
  lock: (name: string) => <T>(task: () => Promise<T>) => Promise<T>;
}

/** The outbox as the worker's wiring uses it. */
export interface OutboxRuntime {
  /** False only when a replay found nothing waiting and nothing was queued since. */
  readonly pending: boolean;
  /**
   * Any event woke the worker: the first one of this worker instance starts a replay — after `after` (the
   * event's own response), so the replay does not compete with the request that woke the worker.
   */
  wake(event: ExtendableEvent, after?: Promise<unknown>): void;
  /** Handles an API request the outbox defers (sent now, or kept: 202); undefined for any other. */
  intercept(request: Request, waitUntil: (work: Promise<unknown>) => void): Promise<Response> | undefined;
  replay(): Promise<ReplayReport>;
  list(): Promise<OutboxEntrySummary[]>;
  /** A session ended: its writes are dropped (or kept for the same user). */
  sessionEnded(): Promise<void>;
}

/** The value of the `outbox` config option: made by `offlineOutbox()`. */
export type OutboxFeature = Feature<'outbox', OutboxContext, OutboxRuntime>;

const isWrite = (request: Request) => request.method !== 'GET' && request.method !== 'HEAD';

/**
 * The offline outbox for `installTokenProxy({ outbox: offlineOutbox() })`: an API write that fails for
 * want of network is kept in IndexedDB and answered `202 { queued: true, id }`; it is replayed in order,
 * with a fresh token, once the network is back (on `online`, a successful API call, a login, the
 * worker's start, Background Sync). A separate export so that a worker without it does not ship it.
 * Throws `TokenProxyError('invalid-config')` for bad options.
 */
export function offlineOutbox(options: OutboxOptions = {}): OutboxFeature {
  if (typeof options !== 'object' || options === null) invalidConfig('outbox options must be an object');
  if (options.defer !== undefined && typeof options.defer !== 'function') invalidConfig('outbox.defer must be a function');
  const defer = options.defer ?? (() => true);
  const policy = {
    maxEntries: positive(options.maxEntries, 'outbox.maxEntries', 100, 1),
    maxBytes: positive(options.maxBytes, 'outbox.maxBytes', 5 * 1024 * 1024, 1),
    retentionMs: positive(options.retentionSeconds, 'outbox.retentionSeconds', 86_400, 1) * 1000,
    keepForSameUser: options.keepForSameUser === true,
  };
  const idempotencyHeader = options.idempotencyHeader ?? 'Idempotency-Key';
  const entryHeader = options.entryHeader ?? 'X-Outbox-Entry';

  const start = (context: OutboxContext): OutboxRuntime => {
    const outbox = createOutbox({
      store: createIdbOutboxStore(context.db),
      engine: context.engine,
      send: (entry, session) =>
        context.sendAuthorized(
          (headers) => new Request(entry.url, { method: entry.method, headers, body: entry.body, credentials: entry.credentials }),
          entry.headers,
          session,
        ),
      isTokenRejected: context.isTokenRejected,
      now: context.now,
      withLock: context.lock(OUTBOX_LOCK),
      emit: context.emit,
      policy,
    });

    async function write(request: Request, waitUntil: (work: Promise<unknown>) => void): Promise<Response> {
      const body = await request.arrayBuffer();
      const headers = new Headers(request.headers);
      // Fixed before the first attempt, so a write that reached the server but lost its answer is recognisable.
      const idempotencyKey = headers.get(idempotencyHeader) ?? context.newId();
      headers.set(idempotencyHeader, idempotencyKey);

      const prepared = new Request(request, { headers, body });

      if (outbox.pending) await outbox.replay(); // older writes first: order is kept
      if (context.online() && !outbox.pending) {
        try {
          return await context.send(prepared, body);
        } catch (error) {
          if (!(error instanceof TypeError)) throw error; // only network failures are deferred
        }
      }

      const id = context.newId();
      headers.delete('Authorization');
      headers.delete('DPoP');
      const session = await context.engine.load();
      const summary = await outbox.enqueue({
        id,
        url: request.url,
        method: request.method,
        headers: [...headers],
        body: body.byteLength > 0 ? body : null,
        credentials: request.credentials,
        idempotencyKey,
        sessionId: session?.id ?? null,
        ...(session?.subject === undefined ? {} : { subject: session.subject }),
      });
      if (summary === null) return jsonResponse(507, { error: 'outbox_full', error_description: 'the offline outbox is full; the write was not kept' });
      // Background Sync (Chromium) replays even with no tab open; elsewhere the other triggers do.
      const sync = (self.registration as SyncRegistration).sync;
      if (sync) waitUntil(sync.register(OUTBOX_LOCK).catch(() => undefined));
      return jsonResponse(202, { queued: true, id }, { [entryHeader]: id });
    }

    self.addEventListener('sync', (syncEvent) => {
      const event = syncEvent as SyncEvent;
      if (event.tag !== OUTBOX_LOCK) return;
      // Rejecting asks the browser to try again later, with its own backoff.
      event.waitUntil(outbox.replay().then((report) => {
        if (report.remaining > 0) throw new Error(`${report.remaining} queued write(s) still waiting`);
      }));
    });

    let woken = false;
    return Object.assign(outbox, {
      wake(event: ExtendableEvent, after: Promise<unknown> = Promise.resolve()) {
        if (woken) return;
        woken = true;
        event.waitUntil(after.catch(() => undefined).then(() => outbox.replay()));
      },
      intercept: (request: Request, waitUntil: (work: Promise<unknown>) => void) => (isWrite(request) && defer(request) ? write(request, waitUntil) : undefined),
    });
  };
  return { feature: 'outbox', start };
}
