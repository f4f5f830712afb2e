/**
 * Every message, event, status and error code the worker and the page exchange, typed once.
 * Both halves import this file, so a rename is a compile error on both sides.
 * It is compiled with the `webworker` lib and with the `dom` lib: use only what both have.
 */

/** Marks our broadcasts, so foreign messages on the same channel name are ignored. */
export const BROADCAST_SOURCE = 'sw-token-proxy';

/** Which app a worker and its pages belong to: the explicit `name`, else the registration scope's path. */
export const appOf = (scope: string, name: string | undefined): string => name ?? new URL(scope).pathname;

/**
 * What an app's worker and pages share, named after the app: two apps on one origin (each under its own
 * scope) never share a session, a lock, events or an outbox. The root scope keeps the names of 0.2, so a
 * session stored by 0.2 is still found.
 */
export function appNames(app: string): { database: string; channel: string; refreshLock: string; outboxLock: string } {
  const name = app === '/' ? 'sw-token-proxy' : `sw-token-proxy:${app}`;
  return {
    database: name,
    /** Session events from the worker to every tab (and to other worker versions). */
    channel: name,
    refreshLock: `${name}:refresh`,
    /** Also the Background Sync tag. */
    outboxLock: `${name}:outbox`,
  };
}

/** A page posts this to its controller, with a MessagePort, to open a comlink connection. */
export const CONNECT_MESSAGE = 'sw-token-proxy:connect';
/** A page that is not controlled posts this to the active worker, which then claims it. */
export const CLAIM_MESSAGE = 'sw-token-proxy:claim';

export type PageToWorkerMessage =
  | { type: typeof CONNECT_MESSAGE }
  | { type: typeof CLAIM_MESSAGE };

/** The token endpoint's JSON (RFC 6749 §5.1) as the app hands it to `login()`. Unknown fields are ignored. */
export interface TokenResponse {
  access_token: string;
  /** `Bearer` (default when absent) or `DPoP`, any case. */
  token_type?: string;
  /** Seconds the token lives, counted from when the worker asked for it (for `login()`, got it); a number or a numeric string. */
  expires_in?: number | string;
  /** Absolute expiry in seconds since the epoch (some servers send this instead of `expires_in`). */
  expires_at?: number | string;
  refresh_token?: string;
  /** Seconds until the refresh token expires, counted as `expires_in` (Keycloak and others). */
  refresh_expires_in?: number | string;
  scope?: string;
  [field: string]: unknown;
}

/** Why a session ended. */
export type LogoutReason =
  /** `logout()` was called. */
  | 'user'
  /** The token endpoint rejected the refresh token (`invalid_grant` or a configured terminal error). */
  | 'refresh-rejected'
  /** The refresh token's known expiry passed; no network call was made. */
  | 'refresh-token-expired'
  /** The access token expired and there is no refresh token to renew it. */
  | 'session-expired'
  /** Memory-only mode: the worker was restarted and the session was lost with it. */
  | 'worker-restarted'
  /** The stored session disappeared: the database was deleted, or the site's data cleared. */
  | 'storage-cleared';

/** Stable error codes. Every error the library reports carries one of these. */
export type ErrorCode =
  /** `login()` got a payload that is not a token response; `field` names the culprit. */
  | 'invalid-token-response'
  /** The browser has no service workers (or the page is not a secure context). */
  | 'unsupported'
  /** The browser refused to register the worker script (404, syntax error, wrong scope, ...). */
  | 'registration-failed'
  /** The page could not be brought under the worker's control. */
  | 'not-controlled'
  /** The worker did not answer a call in time. */
  | 'timeout'
  /** The token endpoint refused our configuration (`invalid_client`, `invalid_request`, ...): not retried. */
  | 'refresh-misconfigured'
  /** The token endpoint rejected the refresh token: the session ended (`logged-out` follows). */
  | 'refresh-rejected'
  /** A refresh failed for a passing reason (5xx, 429, timeout, network): the session is kept. */
  | 'refresh-unavailable'
  /** The revocation endpoint failed; the session was still cleared locally. */
  | 'revocation-failed'
  /** The provider answered the sign-in with an error (`access_denied` when the user cancelled, ...). */
  | 'sign-in-rejected'
  /** A callback that belongs to no sign-in started here (replayed, forged, expired, another issuer's): nothing was exchanged, the session is unchanged. */
  | 'sign-in-invalid'
  /** The code exchange or the ID token check failed (network, `invalid_grant`, nonce mismatch, ...). */
  | 'sign-in-failed'
  /** The worker's configuration is invalid. */
  | 'invalid-config'
  /** A message to the worker had the wrong shape. */
  | 'bad-message'
  /**
   * IndexedDB could not be opened or written: storage disabled or full, a newer database version in the
   * way, site data being cleared. The session cannot be kept (`login()` fails; requests go without a token).
   */
  | 'storage-unavailable'
  /** The worker failed unexpectedly; the message says what. */
  | 'internal-error';

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  /** For `invalid-token-response`: the field that was wrong. */
  field?: string;
  /** Epoch ms when it happened. */
  at?: number;
}

/** What `status()` returns. Never a token. */
export interface SessionStatus {
  loggedIn: boolean;
  /** Epoch ms when the access token expires; absent when unknown. */
  expiresAt?: number;
  scope?: string;
  /** Refreshes carried out in this session. */
  refreshCount: number;
  /** Epoch ms of the last successful refresh. */
  lastRefreshAt?: number;
  /** Who is signed in: the `sub` claim of the ID token (or of a JWT access token), when known. Not a secret. */
  subject?: string;
  lastError?: ErrorInfo;
}

/** An outbox entry as pages may see it: no body, no token. */
export interface OutboxEntrySummary {
  id: string;
  method: string;
  url: string;
  /** Epoch ms when it was queued. */
  enqueuedAt: number;
  /** Replay attempts that ended in 5xx/429 so far. */
  attempts: number;
  bytes: number;
  idempotencyKey: string;
}

/** Why a queued write was given up. */
export type ReplayFailureReason =
  /** The server answered a 4xx (not fixed by a refresh): `status` and `body` say what. */
  | 'rejected'
  /** Older than the retention period (default 24 h). */
  | 'expired'
  /** The session it was made in ended (logout, rejected refresh token): never sent under another session. */
  | 'logged-out';

export interface ReplayReport {
  replayed: number;
  failed: number;
  /** Entries still waiting. */
  remaining: number;
  /** Why the replay stopped early: the network failed, the server asked to back off (5xx/429, or a
   * refresh that could not be made now), or nobody is logged in. Absent when the outbox was emptied. */
  waitingFor?: 'network' | 'backoff' | 'login';
}

/** Events broadcast to every tab. `at` is the worker's clock (epoch ms) when it was sent. */
export type SessionEvent =
  | { type: 'logged-in'; at: number; expiresAt?: number; scope?: string }
  | { type: 'logged-out'; at: number; reason: LogoutReason }
  | { type: 'refreshed'; at: number; expiresAt?: number; refreshCount: number }
  | { type: 'error'; at: number; error: ErrorInfo }
  | { type: 'queued'; at: number; entry: OutboxEntrySummary }
  | { type: 'replayed'; at: number; entry: OutboxEntrySummary; status: number }
  | { type: 'replay-failed'; at: number; entry: OutboxEntrySummary; reason: ReplayFailureReason; status?: number; body?: string };

export type SessionEventType = SessionEvent['type'];
export type SessionEventOf<T extends SessionEventType> = Extract<SessionEvent, { type: T }>;

/** Broadcast envelope: the marker keeps foreign messages on the same channel name out. */
export interface BroadcastEnvelope {
  source: typeof BROADCAST_SOURCE;
  event: SessionEvent;
}

export interface LogoutOptions {
  /** After the session is cleared in every tab, revoke its refresh token at the configured revocation endpoint (RFC 7009). Default: true when one is configured. */
  revoke?: boolean;
  /**
   * With `oidcSignIn()`: then sign out at the provider too — the page navigates to its end-session
   * endpoint (RP-initiated logout) with the ID token as hint, and comes back to `postLogoutRedirectUri`.
   * Default false.
   */
  endSession?: boolean;
}

export interface LogoutResult {
  /** True when the revocation endpoint confirmed the revocation; false when none is configured, or it failed. */
  revoked: boolean;
  /** Present when revocation was attempted and failed; the session was cleared locally anyway. */
  error?: ErrorInfo;
  /** With `endSession`: true when the page is on its way to the provider's logout. */
  endingSession?: boolean;
}

/** What `signIn()` takes. */
export interface SignInOptions {
  /** Where to land after the sign-in: a URL of this origin. Default: the page's own URL. */
  returnTo?: string;
  /** The OIDC `prompt` parameter (`login`, `consent`, `none`, ...). */
  prompt?: string;
  /** The OIDC `login_hint` parameter. */
  loginHint?: string;
  /** More authorization request parameters (`ui_locales`, `acr_values`, ...). They cannot replace the ones the flow needs. */
  params?: Record<string, string>;
}

/** A call's outcome. Errors travel as data so their code survives the structured clone. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

/** The worker's answer to `logout`: the result, and where the page goes next when it ends the session at the provider. */
export interface LogoutAnswer extends LogoutResult {
  navigate?: string;
}

/** The functions the worker exposes over comlink: nothing else is reachable from a page. */
export interface WorkerFacade {
  login(response: TokenResponse): Promise<Result<SessionStatus>>;
  logout(options: LogoutOptions): Promise<Result<LogoutAnswer>>;
  /** Starts a sign-in: the authorization URL the page navigates to. */
  signIn(options: SignInOptions): Promise<Result<string>>;
  /** This page loaded a URL the worker did not see: when it is the sign-in callback, completes it and says where to go; else null. */
  completeSignIn(url: string): Promise<Result<string | null>>;
  status(): Promise<Result<SessionStatus>>;
  /** The queued writes, oldest first. */
  outbox(): Promise<Result<OutboxEntrySummary[]>>;
  /** Replays queued writes now (the client calls it on the page's `online` event too). */
  replayOutbox(): Promise<Result<ReplayReport>>;
}
