import type { ErrorInfo, LogoutReason, SessionEvent, SessionStatus } from '../shared/protocol.js';
import { messageOf, TokenProxyError } from '../shared/errors.js';
import { parseTokenResponse } from '../shared/token-response.js';
import type { TokenSet } from '../shared/token-response.js';
import type { Session, SessionStore } from './session.js';

/** What one refresh request came to, by what the engine must do next (see refresh-request.ts). */
export type RefreshOutcome =
  | { kind: 'ok'; tokens: TokenSet }
  /** The refresh token is dead (`invalid_grant` or a configured terminal error): end the session. */
  | { kind: 'rejected'; error: string; description?: string }
  /** The server refuses our request itself (`invalid_client`, ...): retrying cannot help. */
  | { kind: 'misconfigured'; error: string; description?: string }
  /** 5xx, 429, 408, timeout, network error: keep the refresh token and try again later. */
  | { kind: 'transient'; reason: string; retryAfterMs?: number };

/** Everything the engine touches outside itself, injected so Node tests drive it with fake time and a fake server. */
export interface EngineDeps {
  store: SessionStore;
  /** One refresh request (with its own timeout) classified; see `requestRefresh`. */
  refresh: (refreshToken: string) => Promise<RefreshOutcome>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Runs `task` holding the origin-wide refresh lock (Web Locks in the worker). */
  withLock: <T>(task: () => Promise<T>) => Promise<T>;
  /** False when the browser knows it has no network: a refresh then waits, without attempts or backoff. */
  online?: () => boolean;
  emit: (event: SessionEvent) => void;
  newId: () => string;
  skewMs: number;
  attempts: number;
  maxRetryDelayMs: number;
  /** Whether DPoP-bound tokens can be used (the worker has `dpop: dpopProofs()`). */
  dpop?: boolean;
}

const FIRST_RETRY_DELAY_MS = 500;
/** The safety net against a refresh loop: no refresh sooner than this after the last one (at most a quarter of the lifetime). */
const REFRESH_FLOOR_MS = 5_000;

/** Where a session stands: usable as it is, usable while one refresh runs behind it, or to be refreshed first. */
type Freshness = 'fresh' | 'due' | 'expired';

const describeOAuthError = ({ error, description }: { error: string; description?: string }) => (description ? `${error} (${description})` : error);

/** The session's owner, as the worker's wiring and the outbox use it. */
export interface RefreshEngine {
  /**
   * The hot path's synchronous peek: the cached session when it can be sent as it is, null when known
   * logged out, undefined when the caller must go through `sessionForRequest()`. Inside the skew window the
   * still-valid token is returned and one refresh starts behind it, handed to `keepAlive` (`waitUntil`).
   */
  ready(keepAlive?: (work: Promise<unknown>) => void): Session | null | undefined;
  load(): Promise<Session | null>;
  /**
   * The session to send a request with; null when logged out. Only an expired token waits for its refresh:
   * inside the skew window the valid one is returned at once, with one refresh behind it (see `ready`).
   */
  sessionForRequest(keepAlive?: (work: Promise<unknown>) => void): Promise<Session | null>;
  /**
   * The API rejected `rejectedAccessToken`. If the session already moved on, the current one is returned
   * without a refresh; otherwise one (shared) refresh runs. Returns null when the session ended.
   */
  sessionAfterRejection(rejectedAccessToken: string): Promise<Session | null>;
  /**
   * Starts a session from a token response (`serverTime`: the server's clock when it answered, when known).
   * Throws `TokenProxyError('invalid-token-response')`, leaving the old one.
   */
  login(response: unknown, serverTime?: number): Promise<SessionStatus>;
  /** Ends the session at once (no lock: an in-flight refresh then fails its compare-and-swap and is dropped). */
  logout(reason: LogoutReason): Promise<Session | null>;
  /** Another context changed the stored session: drop the cache, read it again on next use. */
  invalidate(): void;
  /** `hook` is awaited whenever a session ends, before anyone hears of it (the outbox drops that session's writes). */
  onEnded(hook: () => Promise<void>): void;
  /** The store lost its records (database deleted, site data cleared): a session we held has ended. */
  storageCleared(): Promise<void>;
  /** Something the pages should know failed: kept as `status().lastError` and told to every tab. */
  report(code: ErrorInfo['code'], message: string): void;
  status(): Promise<SessionStatus>;
}

/**
 * Owns the session: loads it, decides when it needs refreshing, and runs exactly one refresh at a time —
 * one in-memory flight per worker, and a lock plus a re-read across worker versions. A rotated pair is
 * stored (compare-and-swap) before anyone waiting on the flight goes on.
 * (A closure rather than a class: the worker's size budget, and minifiers do not shorten property names.)
 */
export function createRefreshEngine(deps: EngineDeps): RefreshEngine {
  const { store, now, emit } = deps;
  /** undefined: not loaded from the store yet (cold start, or another context changed it). */
  let cache: Session | null | undefined;
  let loading: Promise<Session | null> | null = null;
  let flight: Promise<Session | null> | null = null;
  /** After passing failures ran out of attempts: no new refresh before this time. */
  let blockedUntil = 0;
  /** Set when the token endpoint refused our configuration; refreshes stop until the next login. */
  let misconfigured = false;
  let lastError: ErrorInfo | undefined;
  const endHooks: Array<() => Promise<void>> = [];

  /** The session ended: the hooks run (a failing one does not keep the tabs from hearing it), then every tab hears why. */
  async function ended(reason: LogoutReason): Promise<void> {
    for (const hook of endHooks) await hook().catch(storageFailed);
    emit({ type: 'logged-out', at: now(), reason });
  }

  /** Storage failed us: said once (to `status()` and every tab) until it works again. */
  function storageFailed(error: unknown): void {
    if (lastError?.code !== 'storage-unavailable') report('storage-unavailable', `storage failed: ${messageOf(error)}`);
  }
  /** `work`'s value, or `fallback` when storage failed (and said so). */
  const orElse = <T>(work: Promise<T>, fallback: T): Promise<T> =>
    work.catch((error: unknown) => {
      storageFailed(error);
      return fallback;
    });

  /** The effective skew: the configured one, but never more than half the token's lifetime. */
  const skewFor = (session: Session) => (session.lifetimeMs === null ? deps.skewMs : Math.min(deps.skewMs, session.lifetimeMs / 2));

  /**
   * Whether a refresh is due (inside the skew of expiry) or must come first (expired). Unknown expiry:
   * refreshed on first use, since a session handed over without one may be long dead; if the server's
   * refreshed token has no expiry either (or one this device's clock cannot place), the API's 401 is what
   * tells us to refresh.
   */
  function freshness(session: Session, at = now()): Freshness {
    // A token the server just issued is not refreshed again because this device's clock says so.
    if (session.lastRefreshAt !== undefined && at - session.lastRefreshAt < Math.min(REFRESH_FLOOR_MS, (session.lifetimeMs ?? Infinity) / 4)) return 'fresh';
    if (session.expiresAt === null) return session.lastRefreshAt === undefined && !session.clockSuspect ? 'expired' : 'fresh';
    if (at >= session.expiresAt) return 'expired';
    return at >= session.expiresAt - skewFor(session) ? 'due' : 'fresh';
  }

  /**
   * One refresh behind requests that go on with the valid token; none while refreshes are blocked. Only the
   * request that starts it keeps it alive: in a storm the others would each hold their event open until it ends.
   */
  function refreshBehind(session: Session, keepAlive: ((work: Promise<unknown>) => void) | undefined): void {
    if (flight || misconfigured || now() < blockedUntil) return;
    const behind = refresh(session.accessToken, false).catch(() => null); // started even with no keepAlive
    keepAlive?.(behind);
  }

  /** `session` when it can be sent as it is (inside the skew window, with one refresh behind it); undefined when expired. */
  function usable(session: Session, keepAlive: ((work: Promise<unknown>) => void) | undefined): Session | undefined {
    const state = freshness(session);
    if (state === 'expired') return undefined;
    if (state === 'due') refreshBehind(session, keepAlive);
    return session;
  }

  function load(): Promise<Session | null> {
    if (cache !== undefined) return Promise.resolve(cache);
    loading ??= store.read().then(
      (session) => {
        loading = null;
        if (lastError?.code === 'storage-unavailable') lastError = undefined; // storage works again
        if (cache === undefined) cache = session;
        return cache;
      },
      (error: unknown) => {
        // Not kept: the next use tries again. Meanwhile nobody is logged in, so requests go without a token.
        loading = null;
        storageFailed(error);
        return null;
      },
    );
    return loading;
  }

  function refresh(seenAccessToken: string, force: boolean): Promise<Session | null> {
    flight ??= deps
      .withLock(() => refreshHoldingLock(seenAccessToken, force))
      .finally(() => {
        flight = null;
      });
    return flight;
  }

  async function refreshHoldingLock(seenAccessToken: string, force: boolean): Promise<Session | null> {
    // Another worker version (or an earlier flight) may have rotated while we waited for the lock. When
    // storage fails, what this worker holds is all there is.
    const stored = await orElse(store.read(), cache ?? null);
    cache = stored;
    if (stored === null) return null;
    const moved = stored.accessToken !== seenAccessToken;
    if (freshness(stored) === 'fresh' && (moved || !force)) return stored;

    const started = now();
    if (!stored.refreshToken) {
      const expired = force || (stored.expiresAt !== null && started >= stored.expiresAt);
      return expired ? end('session-expired', stored) : stored;
    }
    if (stored.refreshExpiresAt !== null && started >= stored.refreshExpiresAt) return end('refresh-token-expired', stored);
    if (misconfigured || started < blockedUntil || deps.online?.() === false) return stored;

    for (let attempt = 1; ; attempt++) {
      const outcome = await deps.refresh(stored.refreshToken);
      switch (outcome.kind) {
        case 'ok':
          return commit(stored, outcome);
        case 'rejected':
          report('refresh-rejected', `refresh token rejected: ${describeOAuthError(outcome)}`, false);
          return end('refresh-rejected', stored);
        case 'misconfigured':
          misconfigured = true;
          report('refresh-misconfigured', `refresh refused: ${describeOAuthError(outcome)}`);
          return stored;
        case 'transient': {
          // Offline: no backoff and no block, so the first request after the network returns refreshes.
          if (deps.online?.() === false) return stored;
          const delay = outcome.retryAfterMs ?? Math.min(FIRST_RETRY_DELAY_MS * 2 ** (attempt - 1), deps.maxRetryDelayMs);
          if (attempt >= deps.attempts || delay > deps.maxRetryDelayMs) {
            blockedUntil = now() + delay;
            report('refresh-unavailable', `refresh failed ${attempt}×: ${outcome.reason}`);
            return stored;
          }
          await deps.sleep(delay);
        }
      }
    }
  }

  async function commit(previous: Session, { tokens }: Extract<RefreshOutcome, { kind: 'ok' }>): Promise<Session | null> {
    const next: Session = {
      ...previous,
      ...tokens,
      version: previous.version + 1,
      refreshCount: previous.refreshCount + 1,
      lastRefreshAt: now(),
    };
    // What the response leaves out (a TokenSet has no key for it) stays as it was: the ID token, the scope,
    // the user, and the refresh token, which then stays valid (RFC 6749 §6) with its expiry. (An old
    // clockSuspect mark stays too, harmless: once lastRefreshAt is set, freshness() answers the same without it.)
    if (tokens.refreshToken === undefined) next.refreshExpiresAt = previous.refreshExpiresAt;
    // Saved before anyone waiting on this flight goes on; lost only if the session ended meanwhile. If
    // storage fails, this worker still holds the new pair: the old refresh token is dead at the server.
    // (null: storage failed, the pair is held in memory only)
    const saved = await orElse<boolean | null>(store.replace(previous, next), null);
    if (saved === false) return (cache = await store.read().catch(() => null));
    cache = next;
    blockedUntil = 0;
    if (saved) lastError = undefined;
    const event: SessionEvent = { type: 'refreshed', at: now(), refreshCount: next.refreshCount };
    if (next.expiresAt !== null) event.expiresAt = next.expiresAt;
    emit(event);
    return next;
  }

  async function end(reason: LogoutReason, expected: Session): Promise<null> {
    if (await orElse(store.replace(expected, null), true)) {
      cache = null;
      await ended(reason);
    } else {
      cache = undefined;
    }
    return null;
  }

  function report(code: ErrorInfo['code'], message: string, broadcast = true): void {
    const at = now();
    lastError = { code, message, at };
    if (broadcast) emit({ type: 'error', at, error: lastError });
  }

  async function status(): Promise<SessionStatus> {
    // (load() never rejects: a storage failure reads as logged out, with the failure in lastError)
    const session = await load();
    const result: SessionStatus = { loggedIn: session !== null, refreshCount: session?.refreshCount ?? 0 };
    // What status() tells of the session (never a token), when known.
    for (const field of ['expiresAt', 'scope', 'lastRefreshAt', 'subject'] as const) if (session?.[field] != null) (result as unknown as Record<string, unknown>)[field] = session[field];
    if (lastError) result.lastError = lastError;
    return result;
  }

  return {
    ready(keepAlive) {
      const session = cache;
      return session ? usable(session, keepAlive) : session;
    },
    load,
    async sessionForRequest(keepAlive) {
      const session = await load();
      return session && (usable(session, keepAlive) ?? refresh(session.accessToken, false));
    },
    async sessionAfterRejection(rejectedAccessToken) {
      const session = await load();
      if (session === null || session.accessToken !== rejectedAccessToken) return session;
      return refresh(rejectedAccessToken, true);
    },
    async login(response, serverTime) {
      const tokens = parseTokenResponse(response, now(), serverTime);
      if (tokens.tokenType === 'DPoP' && !deps.dpop) {
        throw new TokenProxyError('invalid-token-response', 'token_type: DPoP needs dpopProofs()', { field: 'token_type' });
      }
      const session: Session = { ...tokens, id: deps.newId(), version: 0, refreshCount: 0 };
      try {
        await store.write(session);
      } catch (error) {
        storageFailed(error);
        throw new TokenProxyError('storage-unavailable', `session not stored: ${messageOf(error)}`, { cause: error });
      }
      cache = session;
      misconfigured = false;
      blockedUntil = 0;
      lastError = undefined;
      const event: SessionEvent = { type: 'logged-in', at: now() };
      if (session.expiresAt !== null) event.expiresAt = session.expiresAt;
      if (session.scope !== undefined) event.scope = session.scope;
      emit(event);
      return status();
    },
    async logout(reason) {
      const previous = await load();
      await store.clear().catch(storageFailed);
      cache = null;
      if (previous === null) return null; // already logged out: nothing ended, nothing to tell the tabs
      await ended(reason);
      return previous;
    },
    invalidate() {
      cache = undefined;
    },
    onEnded(hook) {
      endHooks.push(hook);
    },
    report,
    async storageCleared() {
      const held = cache;
      cache = undefined; // read again: the store starts empty
      if (held) await ended('storage-cleared');
    },
    status,
  };
}
