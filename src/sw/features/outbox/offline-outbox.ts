/// <reference lib="webworker" />
import { messageOf } from '../../../shared/errors.js';
import { invalidConfig, positive, type OutboxFeature } from '../../feature.js';
import { defineFeature, type OutboxContext, type OutboxRuntime } from '../../feature-contracts.js';
import { jsonResponse } from '../../http.js';
import { createEntryStore } from './entry-store.js';
import { createReplayQueue } from './replay-queue.js';

declare const self: ServiceWorkerGlobalScope;
// Background Sync is Chromium-only and not in TypeScript's lib.
interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
}
type SyncRegistration = ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } };

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

const isWrite = (request: Request) => request.method !== 'GET' && request.method !== 'HEAD';

/**
 * The offline outbox for `installTokenProxy({ outbox: offlineOutbox() })`: an API write that fails for
 * want of network is kept in IndexedDB and answered `202 { queued: true, id }`; it is replayed in order,
 * with a fresh token, once the network is back (on `online`, a successful API call, a login, the
 * worker's start, Background Sync). A separate export so that a worker without it does not ship it.
 * Throws `TokenProxyError('invalid-config')` for bad options.
 */
export function offlineOutbox(options: OutboxOptions = {}): OutboxFeature {
  if (typeof options !== 'object' || options === null) invalidConfig('outbox', 'options must be an object');
  if (options.defer !== undefined && typeof options.defer !== 'function') invalidConfig('outbox.defer', 'must be a function');
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
    const queue = createReplayQueue({
      store: createEntryStore(context.db),
      engine: context.engine,
      send: (entry, session) =>
        context.sendAuthorized(
          () => new Request(entry.url, { method: entry.method, headers: entry.headers, body: entry.body, credentials: entry.credentials }),
          session,
        ),
      isTokenRejected: context.isTokenRejected,
      now: context.now,
      withLock: context.withLock,
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

      if (queue.pending) await queue.replay(); // older writes first: order is kept
      if (context.online() && !queue.pending) {
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
      const entry = {
        id,
        url: request.url,
        method: request.method,
        headers: [...headers],
        body: body.byteLength > 0 ? body : null,
        credentials: request.credentials,
        idempotencyKey,
        sessionId: session?.id ?? null,
        ...(session?.subject === undefined ? {} : { subject: session.subject }),
      };
      const summary = await queue.enqueue(entry).catch((error: unknown) => {
        // Storage full or failing: the write was not kept, and the page must not believe it was.
        const at = context.now();
        context.emit({ type: 'error', at, error: { code: 'storage-unavailable', message: `the offline outbox could not keep a write: ${messageOf(error)}`, at } });
        return undefined;
      });
      if (!summary) {
        const why = summary === null ? 'the offline outbox is full' : 'storage could not keep it';
        return jsonResponse(507, { error: 'outbox_full', error_description: `${why}; the write was not kept` });
      }
      // Background Sync (Chromium) replays even with no tab open; elsewhere the other triggers do.
      const sync = (self.registration as SyncRegistration).sync;
      if (sync) waitUntil(sync.register(context.syncTag).catch(() => undefined));
      return jsonResponse(202, { queued: true, id }, { [entryHeader]: id });
    }

    self.addEventListener('sync', (syncEvent) => {
      const event = syncEvent as SyncEvent;
      if (event.tag !== context.syncTag) return;
      // Rejecting asks the browser to try again later, with its own backoff.
      event.waitUntil(queue.replay().then((report) => {
        if (report.remaining > 0) throw new Error(`${report.remaining} queued write(s) still waiting`);
      }));
    });

    // A session's queued writes are never sent under another one.
    context.engine.onEnded(() => queue.sessionEnded());

    let woken = false;
    return {
      get pending() {
        return queue.pending;
      },
      wake(event, after = Promise.resolve()) {
        if (woken) return;
        woken = true;
        event.waitUntil(after.catch(() => undefined).then(() => queue.replay()));
      },
      intercept: (request, waitUntil) => (isWrite(request) && defer(request) ? write(request, waitUntil) : undefined),
      replay: () => queue.replay(),
      list: () => queue.list(),
    };
  };
  return defineFeature('outbox', start);
}
