import type { ErrorInfo, LogoutReason, SessionEvent, SessionStatus } from '../shared/protocol.js';
import { TokenProxyError } from '../shared/errors.js';
import { parseTokenResponse } from '../shared/token-response.js';
import type { Session, SessionStore } from './session.js';
import type { RefreshOutcome } from './token-endpoint.js';

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
  /** Awaited whenever a session ends, before the caller goes on (the outbox drops that session's writes). */
  onEnded?: () => Promise<void>;
  newId: () => string;
  skewMs: number;
  attempts: number;
  maxRetryDelayMs: number;
  /** Whether DPoP-bound tokens can be used (the worker has `dpop: true`). */
  dpop?: boolean;
}

const FIRST_RETRY_DELAY_MS = 500;

const oauthError = ({ error, description }: { error: string; description?: string }) => (description ? `${error} (${description})` : error);

/**
 * Owns the session: loads it, decides when it needs refreshing, and runs exactly one refresh at a time —
 * one in-memory flight per worker, and a lock plus a re-read across worker versions. A rotated pair is
 * stored (compare-and-swap) before anyone waiting on the flight goes on.
 */
export class RefreshEngine {
  /** undefined: not loaded from the store yet (cold start, or another context changed it). */
  private cache: Session | null | undefined = undefined;
  private loading: Promise<Session | null> | null = null;
  private flight: Promise<Session | null> | null = null;
  /** After passing failures ran out of attempts: no new refresh before this time. */
  private blockedUntil = 0;
  /** Set when the token endpoint refused our configuration; refreshes stop until the next login. */
  private misconfigured = false;
  private lastError: ErrorInfo | undefined;

  constructor(private readonly deps: EngineDeps) {}

  /** The effective skew: the configured one, but never more than half the token's lifetime. */
  skewFor(session: Session): number {
    return session.lifetimeMs === null ? this.deps.skewMs : Math.min(this.deps.skewMs, session.lifetimeMs / 2);
  }

  /**
   * Unknown expiry: refreshed on first use, since a session handed over without one may be long dead. If
   * the server's refreshed token has no expiry either, the API's 401 is what tells us to refresh again.
   */
  needsRefresh(session: Session, now = this.deps.now()): boolean {
    if (session.expiresAt === null) return session.lastRefreshAt === undefined;
    return now >= session.expiresAt - this.skewFor(session);
  }

  /**
   * The hot path's synchronous peek: the cached session when it can be used as it is, null when known
   * logged out, undefined when the caller must go through `sessionForRequest()`.
   */
  ready(): Session | null | undefined {
    const session = this.cache;
    if (session === undefined || session === null) return session;
    return this.needsRefresh(session) ? undefined : session;
  }

  async load(): Promise<Session | null> {
    if (this.cache !== undefined) return this.cache;
    this.loading ??= this.readStored().then(
      (session) => {
        this.loading = null;
        if (this.cache === undefined) this.cache = session;
        return this.cache;
      },
      (error: unknown) => {
        this.loading = null;
        throw error;
      },
    );
    return this.loading;
  }

  private async readStored(): Promise<Session | null> {
    const session = await this.deps.store.read();
    if (session === null && (await this.deps.store.wasLost?.())) {
      // Memory-only mode: the session died with the previous worker instance. Say so, once, to every tab.
      await this.deps.onEnded?.();
      this.deps.emit({ type: 'logged-out', at: this.deps.now(), reason: 'worker-restarted' });
    }
    return session;
  }

  /** The session to send a request with, refreshed first when it is about to expire; null when logged out. */
  async sessionForRequest(): Promise<Session | null> {
    const session = await this.load();
    if (session === null || !this.needsRefresh(session)) return session;
    return this.refresh(session.accessToken, false);
  }

  /**
   * The API rejected `rejectedAccessToken`. If the session already moved on, the current one is returned
   * without a refresh; otherwise one (shared) refresh runs. Returns null when the session ended.
   */
  async sessionAfterRejection(rejectedAccessToken: string): Promise<Session | null> {
    const session = await this.load();
    if (session === null || session.accessToken !== rejectedAccessToken) return session;
    return this.refresh(rejectedAccessToken, true);
  }

  private refresh(seenAccessToken: string, force: boolean): Promise<Session | null> {
    this.flight ??= this.deps
      .withLock(() => this.refreshHoldingLock(seenAccessToken, force))
      .finally(() => {
        this.flight = null;
      });
    return this.flight;
  }

  private async refreshHoldingLock(seenAccessToken: string, force: boolean): Promise<Session | null> {
    // Another worker version (or an earlier flight) may have rotated while we waited for the lock.
    const stored = await this.deps.store.read();
    this.cache = stored;
    if (stored === null) return null;
    const moved = stored.accessToken !== seenAccessToken;
    if (!this.needsRefresh(stored) && (moved || !force)) return stored;

    const now = this.deps.now();
    if (!stored.refreshToken) {
      const expired = force || (stored.expiresAt !== null && now >= stored.expiresAt);
      return expired ? this.end('session-expired', stored) : stored;
    }
    if (stored.refreshExpiresAt !== null && now >= stored.refreshExpiresAt) return this.end('refresh-token-expired', stored);
    if (this.misconfigured || now < this.blockedUntil || this.deps.online?.() === false) return stored;

    for (let attempt = 1; ; attempt++) {
      const outcome = await this.deps.refresh(stored.refreshToken);
      switch (outcome.kind) {
        case 'ok':
          return this.commit(stored, outcome);
        case 'rejected':
          this.report('refresh-rejected', `refresh token rejected: ${oauthError(outcome)}`, false);
          return this.end('refresh-rejected', stored);
        case 'misconfigured':
          this.misconfigured = true;
          this.report('refresh-misconfigured', `token endpoint refused the refresh request: ${oauthError(outcome)}`);
          return stored;
        case 'transient': {
          // Offline: no backoff and no block, so the first request after the network returns refreshes.
          if (this.deps.online?.() === false) return stored;
          const delay = outcome.retryAfterMs ?? Math.min(FIRST_RETRY_DELAY_MS * 2 ** (attempt - 1), this.deps.maxRetryDelayMs);
          if (attempt >= this.deps.attempts || delay > this.deps.maxRetryDelayMs) {
            this.blockedUntil = this.deps.now() + delay;
            this.report('refresh-unavailable', `refresh failed ${attempt} time(s), last: ${outcome.reason}`);
            return stored;
          }
          await this.deps.sleep(delay);
        }
      }
    }
  }

  private async commit(previous: Session, outcome: Extract<RefreshOutcome, { kind: 'ok' }>): Promise<Session | null> {
    const { tokens } = outcome;
    const next: Session = {
      ...previous,
      ...tokens,
      version: previous.version + 1,
      refreshCount: previous.refreshCount + 1,
      lastRefreshAt: this.deps.now(),
    };
    // No new refresh token in the response: the old one stays valid (RFC 6749 §6), with its expiry.
    if (tokens.refreshToken === undefined && previous.refreshToken !== undefined) {
      next.refreshToken = previous.refreshToken;
      next.refreshExpiresAt = previous.refreshExpiresAt;
    }
    if (tokens.scope === undefined && previous.scope !== undefined) next.scope = previous.scope;
    // Saved before anyone waiting on this flight goes on; lost only if the session ended meanwhile.
    if (!(await this.deps.store.replace(previous, next))) {
      this.cache = await this.deps.store.read();
      return this.cache;
    }
    this.cache = next;
    this.blockedUntil = 0;
    this.lastError = undefined;
    const event: SessionEvent = { type: 'refreshed', at: this.deps.now(), refreshCount: next.refreshCount };
    if (next.expiresAt !== null) event.expiresAt = next.expiresAt;
    this.deps.emit(event);
    return next;
  }

  private async end(reason: LogoutReason, expected: Session): Promise<null> {
    if (await this.deps.store.replace(expected, null)) {
      this.cache = null;
      await this.deps.onEnded?.();
      this.deps.emit({ type: 'logged-out', at: this.deps.now(), reason });
    } else {
      this.cache = undefined;
    }
    return null;
  }

  private report(code: ErrorInfo['code'], message: string, broadcast = true): void {
    const at = this.deps.now();
    this.lastError = { code, message, at };
    if (broadcast) this.deps.emit({ type: 'error', at, error: this.lastError });
  }

  /** Starts a session from a token response. Throws `TokenProxyError('invalid-token-response')`, leaving the old one. */
  async login(response: unknown): Promise<SessionStatus> {
    const tokens = parseTokenResponse(response, this.deps.now());
    if (tokens.tokenType === 'DPoP' && !this.deps.dpop) {
      throw new TokenProxyError('invalid-token-response', 'token_type: a DPoP token needs `dpop: true` in the worker config', 'token_type');
    }
    const session: Session = { ...tokens, id: this.deps.newId(), version: 0, refreshCount: 0 };
    await this.deps.store.write(session);
    this.cache = session;
    this.misconfigured = false;
    this.blockedUntil = 0;
    this.lastError = undefined;
    const event: SessionEvent = { type: 'logged-in', at: this.deps.now() };
    if (session.expiresAt !== null) event.expiresAt = session.expiresAt;
    if (session.scope !== undefined) event.scope = session.scope;
    this.deps.emit(event);
    return this.status();
  }


  /** Ends the session at once (no lock: an in-flight refresh then fails its compare-and-swap and is dropped). */
  async logout(reason: LogoutReason): Promise<Session | null> {
    const previous = await this.load();
    await this.deps.store.clear();
    this.cache = null;
    if (previous === null) return null; // already logged out: nothing ended, nothing to tell the tabs
    await this.deps.onEnded?.();
    this.deps.emit({ type: 'logged-out', at: this.deps.now(), reason });
    return previous;
  }

  /** Another context changed the stored session: drop the cache, read it again on next use. */
  invalidate(): void {
    this.cache = undefined;
  }

  async status(): Promise<SessionStatus> {
    const session = await this.load();
    const status: SessionStatus = { loggedIn: session !== null, refreshCount: session?.refreshCount ?? 0 };
    if (session?.expiresAt != null) status.expiresAt = session.expiresAt;
    if (session?.scope !== undefined) status.scope = session.scope;
    if (session?.lastRefreshAt !== undefined) status.lastRefreshAt = session.lastRefreshAt;
    if (this.lastError) status.lastError = this.lastError;
    return status;
  }
}
