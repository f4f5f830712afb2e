// The demo page. The library is used in the first half; the rest is the demo's own UI and its
// cross-tab timeline (ui.ts draws it).
import { registerTokenProxy, type LogoutResult, type SessionStatus, type TokenResponse } from 'sw-token-proxy/client';
import {
  $,
  button,
  describe,
  followSubject,
  newTabId,
  OutboxPanel,
  outboxRow,
  renderStats,
  showNetwork,
  showReplayOutcome,
  showWriteAnswer,
  StatusPanel,
  Timeline,
  trips,
  type ApiRow,
  type DemoMessage,
  type ServerStats,
  type WriteRow,
} from './ui.js';

const tab = newTabId();
const timeline = new Timeline($('#timeline'), tab);
const statusPanel = new StatusPanel($('#status'));
const outboxPanel = new OutboxPanel($('#outbox'));
showNetwork($('#network'));

// ---- the library ---------------------------------------------------------------------------------

// Registers /sw.js and resolves once the worker controls this page (it may reload the page once to get there).
const proxy = await registerTokenProxy('/sw.js').catch((error: unknown) => {
  $('#worker-state').textContent = `no token proxy: ${describe(error)}`; // e.g. 'unsupported' outside a secure context
  throw error;
});

/**
 * Sign-in run by the worker (oidcSignIn() in sw.ts): this page goes to the provider's login page. The
 * browser comes back to /callback, which the worker answers: it checks the answer, exchanges the code,
 * stores the session, tells every tab `logged-in`, and redirects to `returnTo` — this page, loaded again.
 * The page never sees the code, the PKCE verifier or a token.
 */
async function signIn(user: string): Promise<void> {
  await proxy.signIn({ returnTo: location.href, loginHint: user }); // login_hint pre-fills the provider's form
}

/**
 * The app's own login request (a password grant here), the other way in: the page makes the token
 * request and hands the answer to the worker. Apps whose own code runs the authorization-code flow do this.
 */
async function logIn(user: string): Promise<void> {
  const response = await fetch('/oauth/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: user, password: `${user}-password` }),
  });
  const tokens = (await response.json()) as TokenResponse;
  if (!response.ok) throw new Error(`login failed: ${String(tokens['error'])}`);
  // Hand the response to the worker and let go of it: from here on only the worker holds the tokens.
  await proxy.login(tokens);
}

/**
 * Logs out in every tab; the refresh token is revoked. With `atProvider`, the worker then sends this page
 * through the provider's logout (RP-initiated logout, the ID token as hint), which comes back to the app.
 */
async function logOut(atProvider: boolean): Promise<LogoutResult> {
  return proxy.logout(atProvider ? { endSession: true } : {});
}

/** Every tab hears each session event once, whichever tab (or the worker itself) caused it. */
proxy.on('logged-in', (event) => {
  // The event does not say who; status() does (the ID token's sub), so the row waits for it.
  void updateStatus().then((status) => {
    const who = status?.subject === undefined ? '' : ` as ${status.subject}`;
    timeline.add({ kind: 'login', at: event.at, ...expiry(event.expiresAt), text: `logged in${who} — access token until ${timeOf(event.expiresAt)}` });
  });
});
proxy.on('refreshed', (event) => {
  timeline.add({ kind: 'refresh', at: event.at, refreshCount: event.refreshCount, ...expiry(event.expiresAt), text: `refresh #${event.refreshCount} — one refresh, announced to every tab · new token until ${timeOf(event.expiresAt)}` });
  statusPanel.expiresAt = event.expiresAt;
  void updateStatus();
});
proxy.on('logged-out', (event) => {
  timeline.add({ kind: 'logout', at: event.at, reason: event.reason, text: `logged out — reason: ${event.reason}` });
  void updateStatus();
});
proxy.on('error', (event) => {
  timeline.add({ kind: 'error', at: event.at, code: event.error.code, text: `${event.error.code}: ${event.error.message}` });
  void updateStatus();
});
/** The offline outbox: every tab hears each write the worker kept, and how its replay ended (or why it was dropped). */
for (const type of ['queued', 'replayed', 'replay-failed'] as const) {
  proxy.on(type, (event) => {
    timeline.add(outboxRow(event));
    if (event.type !== 'queued') showReplayOutcome($('#note-result'), event);
    void updateOutbox();
  });
}

/** status() never returns a token: signed in or not (and as whom), expiry, refresh count, last error. */
let statusSeq = 0;
async function updateStatus(): Promise<SessionStatus | undefined> {
  const seq = ++statusSeq;
  void updateStats();
  try {
    const status = await proxy.status();
    if (seq === statusSeq) {
      // An older answer that arrives late is dropped.
      statusPanel.render(status);
      timeline.sawStatus(status);
      followSubject($<HTMLSelectElement>('#user'), status.subject);
    }
    return status;
  } catch (error) {
    // TokenProxyError: 'timeout' (the worker did not answer) or 'not-controlled' (this page lost it)
    timeline.add({ kind: 'error', at: Date.now(), code: 'page', text: `status(): ${describe(error)}` });
    return undefined;
  }
}

/** API calls are plain fetches: the worker adds `Authorization` on the way out. */
async function callApi(count: number): Promise<void> {
  const start = Date.now(); // shared with the row: the timeline infers from it which calls a refresh served
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: count }, () =>
      fetch('/api/data').then(
        async (response) => ({ status: response.status, user: response.ok ? ((await response.json()) as { user?: string }).user : undefined }),
        () => ({ status: 0, user: undefined }), // offline, or the worker could not reach the server
      ),
    ),
  );
  const row: ApiRow = {
    kind: 'api',
    tab,
    start,
    at: Date.now(),
    count,
    statuses: results.map((r) => r.status),
    ms: Math.round(performance.now() - started),
  };
  const user = results.find((r) => r.user !== undefined)?.user;
  if (user !== undefined) row.user = user;
  share(row);
  await updateStatus();
}

/**
 * Writes are plain fetches too. When the network fails (or the browser knows it is offline) the worker
 * keeps the write and answers 202 {queued: true, id}; it delivers it later, in order, with a fresh token.
 */
async function saveNote(path: string): Promise<void> {
  const started = performance.now();
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ text: $<HTMLInputElement>('#note').value }),
  }).catch(() => null); // a network error reached the page: the worker could not keep the write
  const answer = (await response?.json().catch(() => null)) as { id?: string; user?: string } | null;
  const row: WriteRow = { kind: 'write', tab, at: Date.now(), method: 'POST', path, status: response?.status ?? 0, ms: Math.round(performance.now() - started) };
  if (response?.status === 202 && answer?.id) row.id = answer.id; // also in the X-Outbox-Entry header
  if (response?.ok && answer?.user) row.user = answer.user;
  share(row);
  showWriteAnswer($('#note-result'), row);
}

/** The writes still waiting, oldest first (no bodies, no tokens). */
let outboxSeq = 0;
async function updateOutbox(): Promise<void> {
  const seq = ++outboxSeq;
  try {
    const entries = await proxy.outbox();
    if (seq === outboxSeq) outboxPanel.render(entries);
  } catch (error) {
    timeline.add({ kind: 'error', at: Date.now(), code: 'page', text: `outbox(): ${describe(error)}` });
  }
}

// ---- the demo around it --------------------------------------------------------------------------

/** The demo's own channel (the library's is 'sw-token-proxy' and belongs to it): API calls and actions of every tab. */
const demoChannel = new BroadcastChannel('sw-token-proxy-demo');
demoChannel.onmessage = ({ data }: MessageEvent<DemoMessage>) => {
  timeline.add(data);
  void updateStats();
};
/** Shows a row here and in every other tab (a channel does not hear its own posts). */
function share(message: DemoMessage): void {
  timeline.add(message);
  demoChannel.postMessage(message);
}
function action(text: string): void {
  share({ kind: 'action', tab, at: Date.now(), text });
}

/** The optional field as TypeScript's exactOptionalPropertyTypes wants it. */
const expiry = (expiresAt: number | undefined) => (expiresAt === undefined ? {} : { expiresAt });

function timeOf(epochMs: number | undefined): string {
  return epochMs === undefined ? 'unknown' : new Date(epochMs).toLocaleTimeString([], { hour12: false });
}

async function control(path: string, body: object = {}): Promise<unknown> {
  const response = await fetch(`/__control/${path}`, {
    method: path === 'stats' ? 'GET' : 'POST',
    headers: { 'Content-Type': 'application/json' },
    ...(path === 'stats' ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`/__control/${path} answered ${response.status}`);
  return response.json();
}

let statsSeq = 0;
async function updateStats(): Promise<void> {
  const seq = ++statsSeq;
  try {
    const stats = (await control('stats')) as ServerStats;
    if (seq === statsSeq) renderStats($('#server'), stats, $<HTMLInputElement>('#ttl'));
  } catch {
    // the dev server is gone; the next tick tries again
  }
}

/** Runs a button's work; a failure becomes an error row in this tab. */
function on(selector: string, run: () => Promise<unknown>): void {
  button(selector).addEventListener('click', () => {
    run().catch((error: unknown) => timeline.add({ kind: 'error', at: Date.now(), code: 'page', text: describe(error) }));
  });
}

const revokedText = (result: LogoutResult) => `refresh token revoked at the server: ${result.revoked ? 'yes' : `no${result.error ? ` (${result.error.code})` : ''}`}`;

on('#start-sign-in', async () => {
  const user = $<HTMLSelectElement>('#user').value;
  action(`signs in as ${user} at the provider — this tab goes to its login page and comes back`);
  trips.leave({ to: 'sign-in', user });
  await signIn(user).catch((error: unknown) => {
    trips.back(); // it did not leave
    throw error;
  });
});
on('#login', async () => {
  const user = $<HTMLSelectElement>('#user').value;
  action(`logs in as ${user} with a password (the app's own token request)`);
  await logIn(user);
});
on('#logout', async () => {
  const result = await logOut(false);
  action(`logged out — ${revokedText(result)}`);
});
on('#end-session', async () => {
  trips.leave({ to: 'sign-out' });
  const result = await logOut(true);
  if (!result.endingSession) trips.back(); // nobody was signed in, or the provider has no end-session endpoint
  action(`logged out — ${revokedText(result)}${result.endingSession ? ' — this tab goes through the provider\'s logout and comes back' : ''}`);
});
on('#call', () => callApi(1));
on('#call20', () => callApi(20));
on('#save-note', () => saveNote('/api/notes'));
on('#save-409', () => saveNote('/api/status/409'));
on('#replay', async () => {
  const report = await proxy.replayOutbox();
  action(`replayed the outbox now: ${report.replayed} delivered, ${report.failed} given up, ${report.remaining} still waiting`);
  await updateOutbox();
});
on('#revoke-access', async () => {
  await control('revoke-access');
  action('revoked every access token at the server — the next API call gets a 401, the worker refreshes and replays it');
});
on('#fail-slow', async () => {
  await control('fail', { target: 'refresh', kind: 'slow', delayMs: 1000 });
  action('armed: next refresh → answered after 1 s (calls that need the new token wait for it; calls with a still-valid one do not)');
});
on('#fail-503', async () => {
  await control('fail', { target: 'refresh', kind: '503' });
  action('armed: next refresh → 503 (the worker retries; the call still succeeds)');
});
on('#fail-503x3', async () => {
  await control('fail', { target: 'refresh', kind: '503', count: 3 });
  action('armed: next 3 refreshes → 503 (all attempts fail: an error, the session is kept)');
});
on('#fail-invalid-grant', async () => {
  await control('fail', { target: 'refresh', kind: 'invalid_grant' });
  action('armed: next refresh → invalid_grant (the session ends in every tab)');
});
on('#apply-ttl', async () => {
  const seconds = Number($<HTMLInputElement>('#ttl').value);
  if (!Number.isFinite(seconds) || seconds < 2) throw new Error('the access token lifetime must be at least 2 s');
  await control('lifetimes', { accessTokenTtlSeconds: seconds });
  delete $('#ttl').dataset['edited'];
  action(`set the access token lifetime to ${seconds} s (for tokens issued from now on)`);
});
$('#ttl').addEventListener('input', (event) => ((event.target as HTMLElement).dataset['edited'] = 'true'));
button('#clear').addEventListener('click', () => timeline.clear());

let poll: ReturnType<typeof setInterval> | undefined;
$<HTMLInputElement>('#poll').addEventListener('change', (event) => {
  clearInterval(poll);
  if ((event.target as HTMLInputElement).checked) poll = setInterval(() => void callApi(1), 2000);
});

$('#worker-state').textContent = 'the service worker controls this tab';
for (const id of ['#start-sign-in', '#login', '#logout', '#end-session', '#call', '#call20', '#save-note', '#save-409', '#replay']) button(id).disabled = false;
const [status] = await Promise.all([updateStatus(), updateOutbox()]);
// Back from the provider: this is a new page (the timeline was kept in sessionStorage); say how the trip went.
const trip = trips.back();
if (trip?.to === 'sign-in') {
  const error = status?.lastError;
  action(status?.loggedIn ? `back from the provider: signed in as ${status.subject ?? '(unknown)'}` : `back from the provider, not signed in${error ? `: ${error.code}: ${error.message}` : ''}`);
} else if (trip?.to === 'sign-out') {
  action(`back from the provider's logout: ${status?.loggedIn ? 'still signed in here' : 'signed out, here and at the provider'}`);
}
setInterval(() => void updateStats(), 3000);
document.body.dataset['ready'] = 'true';
