import { releaseProxy, wrap, type Remote } from 'comlink';
import { Workbox } from 'workbox-window';
import { messageOf, TokenProxyError } from '../shared/errors.js';
import {
  appNames,
  appOf,
  BROADCAST_SOURCE,
  CLAIM_MESSAGE,
  CONNECT_MESSAGE,
  type BroadcastEnvelope,
  type LogoutAnswer,
  type LogoutOptions,
  type LogoutResult,
  type OutboxEntrySummary,
  type PageToWorkerMessage,
  type ReplayReport,
  type Result,
  type SignInOptions,
  type SessionEventOf,
  type SessionEventType,
  type SessionStatus,
  type TokenResponse,
  type WorkerFacade,
} from '../shared/protocol.js';

// The public surface, by name: the wire types (facade, envelopes, messages) stay internal.
export { TokenProxyError, type TokenProxyErrorOptions } from '../shared/errors.js';
export type {
  ErrorCode,
  ErrorInfo,
  LogoutOptions,
  LogoutReason,
  LogoutResult,
  OutboxEntrySummary,
  ReplayFailureReason,
  ReplayReport,
  SessionEvent,
  SessionEventOf,
  SessionEventType,
  SessionStatus,
  SignInOptions,
  TokenResponse,
} from '../shared/protocol.js';

export interface RegisterOptions {
  /** Registration scope. Default: the script's directory. */
  scope?: string;
  /** The worker's `name`, when its config sets one. Default: the registration scope's path, as in the worker. */
  name?: string;
  /** `'classic'` (default; every browser) or `'module'`. */
  type?: WorkerType;
  /** A call to the worker fails with `TokenProxyError('timeout')` after this long. Default 5000 ms. */
  callTimeoutMs?: number;
  /** How long to wait for the worker to take control of this page. Default 5000 ms. */
  controlTimeoutMs?: number;
  /** When the worker cannot claim this page, reload it once (never more) before giving up. Default true. */
  reloadIfUncontrolled?: boolean;
}

export interface TokenProxy {
  /** Hands a token endpoint response to the worker. Rejects with `invalid-token-response` (naming the field) and leaves the current session as it was. */
  login(response: TokenResponse): Promise<SessionStatus>;
  /**
   * With `oidcSignIn()` in the worker: starts a sign-in and navigates this page to the provider. The worker
   * completes it when the browser comes back to the redirect URI, and every tab hears `logged-in`; the page
   * then lands on `returnTo`. Rejects with `bad-message` (naming `field`) for bad options.
   */
  signIn(options?: SignInOptions): Promise<void>;
  /** Ends the session in every tab, then revokes the refresh token when a revocation endpoint is known; with
   * `endSession`, then navigates to the provider's logout. */
  logout(options?: LogoutOptions): Promise<LogoutResult>;
  /** Session state. Never a token. */
  status(): Promise<SessionStatus>;
  /** Writes kept by the offline outbox, oldest first (no bodies, no tokens). */
  outbox(): Promise<OutboxEntrySummary[]>;
  /** Replays the outbox now. Also done on the page's `online` event. */
  replayOutbox(): Promise<ReplayReport>;
  /** Listens to session events from every tab; returns the unsubscribe function. */
  on<T extends SessionEventType>(type: T, listener: (event: SessionEventOf<T>) => void): () => void;
  /** Stops listening to events. */
  close(): void;
}

const RELOAD_FLAG = 'sw-token-proxy:reloaded';
// id_token for its `sub` claim (which user the session is for), and as the hint of an RP-initiated logout.
const TOKEN_FIELDS = ['access_token', 'token_type', 'expires_in', 'expires_at', 'refresh_token', 'refresh_expires_in', 'scope', 'id_token'] as const;

function timeout<T>(ms: number, message: string): { promise: Promise<T>; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout>;
  const promise = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new TokenProxyError('timeout', message)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  const { code, message, field } = result.error;
  throw new TokenProxyError(code, message, field === undefined ? {} : { field });
}

async function ensureControlled(container: ServiceWorkerContainer, options: RegisterOptions): Promise<void> {
  if (!container.controller) {
    const gained = new Promise((resolve) => container.addEventListener('controllerchange', resolve, { once: true }));
    // The worker claims pages when it activates; a page loaded with Shift+Reload must ask it to.
    const asked = container.ready.then((registration) =>
      registration.active?.postMessage({ type: CLAIM_MESSAGE } satisfies PageToWorkerMessage),
    );
    const limit = timeout<void>(options.controlTimeoutMs ?? 5000, 'the service worker did not take control of this page');
    await Promise.race([Promise.all([gained, asked]), limit.promise]).catch(() => undefined);
    limit.cancel();
  }
  if (container.controller) {
    sessionStorage.removeItem(RELOAD_FLAG);
    return;
  }
  if (options.reloadIfUncontrolled !== false && !sessionStorage.getItem(RELOAD_FLAG)) {
    sessionStorage.setItem(RELOAD_FLAG, '1');
    location.reload();
    return new Promise(() => {}); // the page is going away
  }
  sessionStorage.removeItem(RELOAD_FLAG);
  throw new TokenProxyError('not-controlled', 'the service worker does not control this page: API calls would go out without a token');
}

/**
 * Registers the worker (workbox-window) and resolves once it controls this page. Rejects with
 * `TokenProxyError`: `unsupported` without service workers, `not-controlled` when control cannot be had.
 */
export async function registerTokenProxy(scriptUrl: string, options: RegisterOptions = {}): Promise<TokenProxy> {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) {
    throw new TokenProxyError('unsupported', 'service workers are not available (is this a secure context?)');
  }
  const container = navigator.serviceWorker;
  const workbox = new Workbox(scriptUrl, { scope: options.scope, type: options.type ?? 'classic' });
  let registration: ServiceWorkerRegistration | undefined;
  try {
    registration = await workbox.register({ immediate: true });
  } catch (error) {
    throw new TokenProxyError('registration-failed', `could not register ${scriptUrl}: ${messageOf(error)}`, { cause: error });
  }
  await ensureControlled(container, options);

  const callTimeoutMs = options.callTimeoutMs ?? 5000;
  /** A fresh channel per call: a port made before the worker was stopped or replaced would hang. */
  async function call<R>(use: (facade: Remote<WorkerFacade>) => Promise<Result<R>>): Promise<R> {
    const controller = container.controller;
    if (!controller) throw new TokenProxyError('not-controlled', 'this page lost its service worker');
    const { port1, port2 } = new MessageChannel();
    controller.postMessage({ type: CONNECT_MESSAGE } satisfies PageToWorkerMessage, [port2]);
    const facade = wrap<WorkerFacade>(port1);
    const limit = timeout<Result<R>>(callTimeoutMs, `the service worker did not answer within ${callTimeoutMs} ms`);
    try {
      const result = await Promise.race([use(facade), limit.promise]);
      void facade[releaseProxy]();
      return unwrap(result);
    } catch (error) {
      port1.close();
      // e.g. a DataCloneError for an argument that cannot cross to the worker
      throw error instanceof TokenProxyError ? error : new TokenProxyError('bad-message', messageOf(error), { cause: error });
    } finally {
      limit.cancel();
    }
  }

  const scope = registration?.scope ?? new URL(options.scope ?? '.', new URL(scriptUrl, location.href)).href;
  // The sign-in callback, loaded without the worker seeing it (a hard reload): the worker completes it.
  const query = new URLSearchParams(location.search);
  if (query.has('state') && (query.has('code') || query.has('error'))) {
    const landing = await call<string | null>((facade) => facade.completeSignIn(location.href));
    if (landing !== null) {
      location.replace(landing); // replace: no history entry keeps the code
      return new Promise(() => {}); // the page is going away
    }
  }

  const channel = new BroadcastChannel(appNames(appOf(scope, options.name)).channel);
  const listeners = new Map<SessionEventType, Set<(event: never) => void>>();
  channel.onmessage = ({ data }: MessageEvent<BroadcastEnvelope | undefined>) => {
    if (data?.source !== BROADCAST_SOURCE || typeof data.event?.type !== 'string') return;
    listeners.get(data.event.type)?.forEach((listener) => listener(data.event as never));
  };

  // The page often learns first that the network is back; the worker may have no event to learn it from,
  // and may even get its network back a moment after the page does: a replay that stopped on a network
  // error is tried again a few times. (Also used after login, below.)
  let retry: ReturnType<typeof setTimeout> | undefined;
  const replayOutboxSoon = (delayMs = 500) => {
    clearTimeout(retry);
    void call<ReplayReport>((facade) => facade.replayOutbox()).then(
      (report) => {
        if (report.waitingFor === 'network' && delayMs <= 4000) retry = setTimeout(() => replayOutboxSoon(delayMs * 2), delayMs);
      },
      () => undefined,
    );
  };
  const onOnline = () => replayOutboxSoon();
  addEventListener('online', onOnline);

  return {
    async login(response) {
      // The worker checks the payload (one implementation of the rules, and it must not trust pages anyway).
      // Only the token fields cross over: junk beside them is never cloned into the worker.
      let payload: unknown = response;
      if (typeof response === 'object' && response !== null && !Array.isArray(response)) {
        const picked: Record<string, unknown> = {};
        for (const field of TOKEN_FIELDS) {
          const value = response[field];
          // Every token field is a string or a number; anything else may not even survive the structured clone.
          if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
            throw new TokenProxyError('invalid-token-response', `${field}: must be a string or a number`, { field });
          }
          if (value !== undefined) picked[field] = value;
        }
        payload = picked;
      }
      const status = await call<SessionStatus>((facade) => facade.login(payload as TokenResponse));
      // Writes queued while logged out (or kept for this user) wait for a login: deliver them now, in a
      // call of its own so the worker stays alive for it.
      replayOutboxSoon();
      return status;
    },
    async signIn(signInOptions = {}) {
      const url = await call<string>((facade) => facade.signIn({ ...signInOptions, returnTo: signInOptions.returnTo ?? location.href }));
      location.assign(url);
    },
    async logout(logoutOptions = {}) {
      const { navigate, ...result } = await call<LogoutAnswer>((facade) => facade.logout(logoutOptions));
      if (navigate !== undefined) location.assign(navigate);
      return result;
    },
    status: () => call<SessionStatus>((facade) => facade.status()),
    outbox: () => call<OutboxEntrySummary[]>((facade) => facade.outbox()),
    replayOutbox: () => call<ReplayReport>((facade) => facade.replayOutbox()),
    on(type, listener) {
      let set = listeners.get(type);
      if (!set) listeners.set(type, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
    close() {
      channel.close();
      clearTimeout(retry);
      removeEventListener('online', onOnline);
    },
  };
}
