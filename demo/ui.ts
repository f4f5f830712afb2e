// The demo's UI: the timeline, the status panel, the outbox panel and the server counters. Nothing here
// touches the library.
import type { OutboxEntrySummary, SessionEventOf, SessionStatus } from 'sw-token-proxy/client';
import type { TokenServerStats } from '../test/server/token-server.js';

/** API calls made by a tab (shared with every tab over the demo's BroadcastChannel). */
export interface ApiRow {
  kind: 'api';
  tab: string;
  /** Epoch ms when the calls were started (`at`: when the last one was answered). The refresh marks are inferred from both. */
  start: number;
  at: number;
  count: number;
  statuses: number[];
  ms: number;
  user?: string;
}
/** Something a person did in a tab: log in, arm a fault... (shared too). */
export interface ActionRow {
  kind: 'action';
  tab: string;
  at: number;
  text: string;
}
/** A write (POST) made by a tab and the answer it got: 200, 202 when the worker queued it, 409... (shared too). */
export interface WriteRow {
  kind: 'write';
  tab: string;
  at: number;
  method: string;
  path: string;
  /** 0: a network error reached the page. */
  status: number;
  ms: number;
  /** The outbox entry, when the answer was 202 (queued). */
  id?: string;
  user?: string;
}
export type DemoMessage = ApiRow | ActionRow | WriteRow;
/** An access token as this page knows it: when it expires and, when known, when it was issued. */
export interface TokenTimes {
  expiresAt?: number;
  issuedAt?: number;
}
/** A session or outbox event from the worker (each tab hears it once) or an error in this page. */
export interface EventRow {
  kind: 'login' | 'refresh' | 'logout' | 'error' | 'queued' | 'replayed' | 'replay-failed';
  at: number;
  text: string;
  reason?: string;
  code?: string;
  refreshCount?: number;
  /** Login and refresh: the new access token's expiry. */
  expiresAt?: number;
  /** Refresh: the token it replaced (filled in by the timeline), to tell which calls it was due for. */
  replaced?: TokenTimes;
  /** Outbox events: the entry's id, and the status its replay got. */
  id?: string;
  status?: number;
}
export type Row = DemoMessage | EventRow;

export function $<T extends HTMLElement = HTMLElement>(selector: string): T {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`demo page: ${selector} is missing`);
  return element;
}
export const button = (selector: string) => $<HTMLButtonElement>(selector);

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

/**
 * A short id per tab ("A3F"), kept across reloads of the same tab. Tabs opened one after another never
 * share one: it is a counter kept in localStorage, scrambled (× an odd number, mod 16³) to look distinct.
 */
export function newTabId(): string {
  let id = sessionStorage.getItem('sw-token-proxy-demo:tab');
  if (!id) {
    const opened = Number(localStorage.getItem('sw-token-proxy-demo:tabs-opened') ?? Math.floor(Math.random() * 4096)) + 1;
    localStorage.setItem('sw-token-proxy-demo:tabs-opened', String(opened));
    id = ((opened * 2521) % 4096).toString(16).toUpperCase().padStart(3, '0');
    sessionStorage.setItem('sw-token-proxy-demo:tab', id);
  }
  const badge = $('#tab-id');
  badge.textContent = `this is tab ${id}`;
  badge.style.setProperty('--tab-color', tabColor(id));
  document.title = `tab ${id} · sw-token-proxy demo`;
  document.body.dataset['tab'] = id;
  return id;
}

function tabColor(id: string): string {
  return `hsl(${(parseInt(id, 16) * 47) % 360} 55% 42%)`;
}

const clock = (at: number) => {
  const d = new Date(at);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
};
const secondsAgo = (at: number) => Math.max(0, Math.round((Date.now() - at) / 1000));
/** The worker reports absolute URLs; the demo's are all on this origin. */
const pathOf = (url: string) => {
  const parsed = new URL(url, location.href);
  return parsed.origin === location.origin ? parsed.pathname + parsed.search : url;
};
const shortId = (id: string) => id.slice(0, 8);

function statusSummary(statuses: number[]): string {
  const counts = new Map<number, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s === 0 ? 'network error' : s}${statuses.length > 1 ? ` ×${n}` : ''}`)
    .join(' · ');
}

/** The worker's `refreshSkewSeconds` (demo/sw.ts): a token is due that long before expiry, at most half its lifetime. */
const REFRESH_SKEW_MS = 5_000;
/** A call reaches the worker a moment after the page starts it: a call started this much before "due" may have found it due. */
const SLACK_MS = 25;

type Entry<R extends Row = Row> = { row: R; li: HTMLLIElement };
type RefreshMark = 'triggered' | 'waited' | 'old-token';

/**
 * The live timeline. Rows carry data-kind, data-tab, data-status, data-reason... so tests (and DevTools)
 * can read them. It is kept in sessionStorage, so this tab's timeline survives its trip to the provider's
 * login page (and a reload).
 *
 * Refresh marks: the worker tells only when a refresh finished (the `refreshed` event) — not which call
 * asked for it. So they are inferred here, from the start and end of every tab's API calls (shared rows)
 * and the token the refresh replaced: a call was around refresh #n if it was still waiting when the refresh
 * finished, or was sent after the old token became due and before the refresh finished. The earliest of
 * them triggered it. A later call waited for it when it was still waiting at the end and had found the
 * token expired (or rejected: it was sent before "due"); inside the skew window calls are sent with the
 * still-valid token while the refresh runs behind them: "old token". Rows can arrive after the refresh
 * (a call is shared once it is answered), so the marks are worked out again as rows come in.
 */
export class Timeline {
  private static readonly MAX_ROWS = 300;
  private static readonly STORAGE_KEY = 'sw-token-proxy-demo:timeline';
  /** Oldest first, as they were added. */
  private entries: Entry[] = [];
  /** The current access token, from login and refresh rows and status(). */
  private token: TokenTimes | undefined;

  constructor(
    private readonly list: HTMLElement,
    private readonly tab: string,
  ) {
    let saved: Row[] = [];
    try {
      saved = JSON.parse(sessionStorage.getItem(Timeline.STORAGE_KEY) ?? '[]') as Row[];
    } catch {
      // a row this version cannot read: start empty
    }
    for (const row of saved) this.render(row);
  }

  add(row: Row): void {
    this.render(row);
    this.save();
  }

  clear(): void {
    this.list.replaceChildren();
    this.entries = [];
    this.save();
  }

  /** What status() says of the access token (after a reload, the only source until the next event). */
  sawStatus(status: SessionStatus): void {
    if (!status.loggedIn || status.expiresAt === undefined) this.token = undefined;
    else if (this.token?.expiresAt !== status.expiresAt) {
      this.token = { expiresAt: status.expiresAt };
      if (status.lastRefreshAt !== undefined) this.token.issuedAt = status.lastRefreshAt;
    }
  }

  private save(): void {
    try {
      sessionStorage.setItem(Timeline.STORAGE_KEY, JSON.stringify(this.entries.map((entry) => entry.row)));
    } catch {
      // storage full or disabled: the timeline lives as long as the page
    }
  }

  private render(row: Row): void {
    const li = document.createElement('li');
    li.className = `row kind-${row.kind}`;
    li.dataset['kind'] = row.kind;
    li.dataset['at'] = String(row.at);

    const time = document.createElement('time');
    time.textContent = clock(row.at);
    const who = document.createElement('span');
    who.className = 'tab';
    const text = document.createElement('span');
    text.className = 'text';

    if (row.kind === 'api' || row.kind === 'action' || row.kind === 'write') {
      li.dataset['tab'] = row.tab;
      if (row.tab === this.tab) li.classList.add('mine');
      who.textContent = `tab ${row.tab}`;
      who.style.setProperty('--tab-color', tabColor(row.tab));
    } else {
      who.textContent = row.kind === 'error' && row.code === 'page' ? 'this page' : 'worker';
      who.classList.add('worker');
    }

    if (row.kind === 'api') {
      const statuses = [...new Set(row.statuses)].sort((a, b) => a - b);
      li.dataset['status'] = statuses.join(',');
      li.dataset['count'] = String(row.count);
      li.dataset['start'] = String(row.start);
      if (statuses.some((s) => s !== 200)) li.classList.add('not-ok');
      text.textContent = `GET /api/data${row.count > 1 ? ` ×${row.count}` : ''} → ${statusSummary(row.statuses)}${row.user ? ` (as ${row.user})` : ''} · ${row.ms} ms`;
    } else if (row.kind === 'write') {
      li.dataset['status'] = String(row.status);
      if (row.id !== undefined) li.dataset['id'] = row.id;
      if (row.status >= 300 || row.status === 0) li.classList.add('not-ok');
      text.textContent = `${row.method} ${row.path} → ${writeAnswer(row)} · ${row.ms} ms`;
    } else {
      text.textContent = row.text;
    }
    if (row.kind !== 'api' && row.kind !== 'action' && row.kind !== 'write') {
      if (row.reason !== undefined) li.dataset['reason'] = row.reason;
      if (row.code !== undefined) li.dataset['code'] = row.code;
      if (row.refreshCount !== undefined) li.dataset['refreshCount'] = String(row.refreshCount);
      if (row.id !== undefined) li.dataset['id'] = row.id;
      if (row.status !== undefined) li.dataset['status'] = String(row.status);
    }
    if (row.kind === 'api' || row.kind === 'refresh') {
      const mark = document.createElement('span');
      mark.className = 'mark';
      text.append(mark);
    }

    li.append(time, who, text);
    this.list.prepend(li);
    this.entries.push({ row, li });
    while (this.entries.length > Timeline.MAX_ROWS) this.entries.shift()!.li.remove();

    // The token timeline, and the refresh marks it allows.
    if (row.kind === 'login') this.token = { ...(row.expiresAt === undefined ? {} : { expiresAt: row.expiresAt }), issuedAt: row.at };
    if (row.kind === 'logout') this.token = undefined;
    if (row.kind === 'refresh') {
      row.replaced ??= { ...this.token }; // kept with the row: marks worked out again after a reload are the same
      this.token = { ...(row.expiresAt === undefined ? {} : { expiresAt: row.expiresAt }), issuedAt: row.at };
      this.markCalls({ row, li });
    }
    if (row.kind === 'api') {
      // A call shared late may belong to a refresh already shown (only refreshes after it started can).
      for (const entry of this.entries) if (entry.row.kind === 'refresh' && entry.row.at >= row.start) this.markCalls(entry as Entry<EventRow>);
    }
  }

  /** Marks the API calls (of every tab) around refresh #n, and says on its row who triggered it. */
  private markCalls({ row: refresh, li: refreshLi }: Entry<EventRow>): void {
    const n = refresh.refreshCount ?? 0;
    const done = refresh.at;
    const { expiresAt, issuedAt } = refresh.replaced ?? {};
    const lifetime = expiresAt !== undefined && issuedAt !== undefined ? expiresAt - issuedAt : Infinity;
    const dueAt = expiresAt === undefined ? undefined : expiresAt - Math.min(REFRESH_SKEW_MS, lifetime / 2);
    const calls = this.entries
      .filter((entry): entry is Entry<ApiRow> => entry.row.kind === 'api')
      .filter(({ row }) => row.start <= done && (row.at >= done || (dueAt !== undefined && row.start >= dueAt - SLACK_MS)))
      .sort((a, b) => a.row.start - b.row.start);

    for (const entry of this.entries) if (entry.row.kind === 'api' && entry.li.dataset['refresh'] === String(n)) setMark(entry.li, undefined, n, '');
    const counts = { waited: 0, 'old-token': 0 };
    for (const [i, { row, li }] of calls.entries()) {
      // Found the token expired, or was sent before it was due (its 401 asked for the refresh), and was still waiting at the end.
      const expiredOrRejected = expiresAt === undefined || row.start >= expiresAt || (dueAt !== undefined && row.start < dueAt - SLACK_MS);
      const waited = row.at >= done && expiredOrRejected;
      if (i === 0) {
        setMark(li, 'triggered', n, waited ? `triggered refresh #${n}, and waited for it` : `triggered refresh #${n}, went out with the old token`);
      } else {
        const mark = waited ? 'waited' : 'old-token';
        counts[mark]++;
        setMark(li, mark, n, waited ? `waited for refresh #${n}` : `went out with the old token while refresh #${n} ran`);
      }
    }
    const first = calls[0]?.row;
    const others = [counts.waited && `${counts.waited} waited for it`, counts['old-token'] && `${counts['old-token']} went out with the old token`].filter(Boolean);
    refreshLi.querySelector('.mark')!.textContent = first
      ? `triggered by a call in tab ${first.tab}${others.length ? `; of the calls around it, ${others.join(', ')}` : ''}`
      : 'no API call in this timeline was around it (an outbox replay, or a tab opened later, may have asked)';
    if (first) refreshLi.dataset['triggeredBy'] = first.tab;
    else delete refreshLi.dataset['triggeredBy'];
    refreshLi.dataset['waited'] = String(counts.waited);
    refreshLi.dataset['oldToken'] = String(counts['old-token']);
  }
}

function setMark(li: HTMLElement, mark: RefreshMark | undefined, n: number, text: string): void {
  if (mark === undefined) {
    delete li.dataset['refreshMark'];
    delete li.dataset['refresh'];
  } else {
    li.dataset['refreshMark'] = mark;
    li.dataset['refresh'] = String(n);
  }
  const span = li.querySelector<HTMLElement>('.mark')!;
  span.textContent = text;
  span.dataset['mark'] = mark ?? '';
}

function writeAnswer(row: WriteRow): string {
  switch (row.status) {
    case 0:
      return 'network error (not kept)';
    case 202:
      return `202 queued offline (entry ${shortId(row.id ?? '?')}) — delivered when back online`;
    case 507:
      return '507 the outbox is full: not kept';
    default:
      return row.status >= 200 && row.status < 300 ? `${row.status} saved${row.user ? ` (as ${row.user})` : ''}` : `${row.status} refused by the server`;
  }
}

/** Shows the last answer to "Save a note" in this tab. */
export function showWriteAnswer(output: HTMLElement, row: WriteRow): void {
  output.dataset['status'] = String(row.status);
  delete output.dataset['outcome'];
  if (row.id !== undefined) output.dataset['id'] = row.id;
  else delete output.dataset['id'];
  output.className = row.status === 202 ? 'queued' : row.status >= 200 && row.status < 300 ? 'ok' : 'bad';
  output.textContent = `${row.method} ${row.path} → ${writeAnswer(row)}`;
}

/**
 * A queued note's line, once the worker says what became of it (every tab hears the event; only the tab
 * whose line shows that entry changes it). data-status stays the 202 the page was given.
 */
export function showReplayOutcome(output: HTMLElement, event: SessionEventOf<'replayed' | 'replay-failed'>): void {
  if (output.dataset['id'] === undefined || output.dataset['id'] !== event.entry.id) return;
  const what = `${event.entry.method} ${pathOf(event.entry.url)} → queued offline (entry ${shortId(event.entry.id)}), then`;
  if (event.type === 'replayed') {
    output.dataset['outcome'] = 'delivered';
    output.className = 'ok';
    output.textContent = `${what} delivered (${event.status})`;
    return;
  }
  output.className = 'bad';
  if (event.reason === 'rejected') {
    output.dataset['outcome'] = 'gave-up';
    output.textContent = `${what} gave up (${event.status ?? '?'}${event.body ? ` ${event.body.slice(0, 60)}` : ''})`;
  } else {
    output.dataset['outcome'] = 'dropped';
    output.textContent = `${what} dropped: ${event.reason === 'logged-out' ? 'the session ended' : 'it was older than the retention period'}`;
  }
}

export type OutboxEvent = SessionEventOf<'queued' | 'replayed' | 'replay-failed'>;

/** A timeline row for an outbox event. */
export function outboxRow(event: OutboxEvent): EventRow {
  const { entry } = event;
  const what = `${entry.method} ${pathOf(entry.url)} (entry ${shortId(entry.id)})`;
  const row: EventRow = { kind: event.type, at: event.at, id: entry.id, text: '' };
  if (event.type === 'queued') {
    row.text = `queued ${what} — kept in IndexedDB until the network is back`;
  } else if (event.type === 'replayed') {
    row.status = event.status;
    row.text = `delivered ${what} → ${event.status}, with a token valid at replay time · waited ${secondsAgo(entry.enqueuedAt)} s${entry.attempts ? ` and ${entry.attempts} retries` : ''}`;
  } else {
    row.reason = event.reason;
    if (event.status !== undefined) row.status = event.status;
    const why =
      event.reason === 'rejected'
        ? `the server answered ${event.status ?? '?'}${event.body ? `: ${event.body.slice(0, 80)}` : ''}`
        : event.reason === 'expired'
          ? 'it was older than the retention period'
          : 'the session it was made in ended (it is never sent under another)';
    row.text = `gave up ${what} — ${why}`;
  }
  return row;
}

/** Lists the worker's outbox (proxy.outbox()): method, URL, age and attempts of each queued write. */
export class OutboxPanel {
  private entries: OutboxEntrySummary[] = [];

  constructor(private readonly panel: HTMLElement) {
    setInterval(() => this.tick(), 1000);
  }

  render(entries: OutboxEntrySummary[]): void {
    this.entries = entries;
    this.panel.dataset['count'] = String(entries.length);
    const count = this.panel.querySelector('[data-field="count"]');
    if (count) count.textContent = entries.length === 0 ? 'empty' : `${entries.length} waiting`;
    const list = this.list();
    list.replaceChildren(
      ...entries.map((entry) => {
        const li = document.createElement('li');
        li.dataset['id'] = entry.id;
        li.dataset['attempts'] = String(entry.attempts);
        li.title = `entry ${entry.id} · ${entry.bytes} bytes · Idempotency-Key ${entry.idempotencyKey}`;
        const cell = (name: string, text: string) => {
          const span = document.createElement('span');
          span.className = name;
          span.textContent = text;
          return span;
        };
        li.append(cell('method', entry.method), cell('url', pathOf(entry.url)), cell('age', ''), cell('attempts', ''));
        return li;
      }),
    );
    this.tick();
  }

  private tick(): void {
    for (const [i, li] of [...this.list().children].entries()) {
      const entry = this.entries[i];
      if (!entry) continue;
      li.querySelector('.age')!.textContent = `${secondsAgo(entry.enqueuedAt)} s ago`;
      li.querySelector('.attempts')!.textContent = entry.attempts === 1 ? '1 attempt' : `${entry.attempts} attempts`;
    }
  }

  private list(): HTMLElement {
    const list = this.panel.querySelector<HTMLElement>('ol');
    if (!list) throw new Error('outbox panel: the list is missing');
    return list;
  }
}

/** The header's network badge: what the browser believes (navigator.onLine, DevTools' "Offline" included). */
export function showNetwork(badge: HTMLElement): void {
  const update = () => {
    badge.textContent = navigator.onLine ? 'online' : 'offline';
    badge.dataset['online'] = String(navigator.onLine);
  };
  addEventListener('online', update);
  addEventListener('offline', update);
  update();
}

/** Shows status(); counts the expiry down once a second between updates. */
export class StatusPanel {
  private status: SessionStatus | undefined;

  constructor(private readonly panel: HTMLElement) {
    setInterval(() => this.tick(), 1000);
  }

  /** Set from a 'refreshed' event, before the next status() answer arrives. */
  set expiresAt(at: number | undefined) {
    if (this.status?.loggedIn && at !== undefined) {
      this.status = { ...this.status, expiresAt: at };
      this.tick();
    }
  }

  render(status: SessionStatus): void {
    this.status = status;
    this.panel.dataset['loggedIn'] = String(status.loggedIn);
    this.panel.dataset['refreshCount'] = String(status.refreshCount);
    if (status.subject !== undefined) this.panel.dataset['subject'] = status.subject;
    else delete this.panel.dataset['subject'];
    // subject: the ID token's sub. A session from a token response without an ID token has none.
    this.field('logged-in').textContent = !status.loggedIn
      ? 'signed out'
      : status.subject !== undefined
        ? `Signed in as ${status.subject}`
        : 'signed in (who is not known: no ID token)';
    this.field('logged-in').className = status.loggedIn ? 'yes' : 'no';
    this.field('refresh-count').textContent = status.loggedIn ? String(status.refreshCount) : '—';
    const error = status.lastError;
    this.field('last-error').textContent = error ? `${error.code}: ${error.message}${error.at ? ` (${clock(error.at)})` : ''}` : 'none';
    this.tick();
  }

  private tick(): void {
    const status = this.status;
    if (!status) return;
    const expires = this.field('expires');
    if (status.loggedIn && status.expiresAt !== undefined) {
      this.panel.dataset['expiresAt'] = String(status.expiresAt);
      const left = Math.round((status.expiresAt - Date.now()) / 1000);
      expires.textContent = left > 0 ? `expires in ${left} s` : `expired ${-left} s ago — the next API call refreshes it`;
      expires.className = left > 5 ? '' : 'due';
    } else {
      delete this.panel.dataset['expiresAt'];
      expires.textContent = status.loggedIn ? 'expiry not known' : '—';
      expires.className = '';
    }
    const last = status.loggedIn ? status.lastRefreshAt : undefined;
    this.field('last-refresh').textContent = last === undefined ? (status.loggedIn ? 'none yet' : '—') : `${clock(last)} (${secondsAgo(last)} s ago)`;
  }

  private field(name: string): HTMLElement {
    const element = this.panel.querySelector<HTMLElement>(`[data-field="${name}"]`);
    if (!element) throw new Error(`status panel: field ${name} is missing`);
    return element;
  }
}

/** What the embedded token server's `GET /__control/stats` answers. */
export interface ServerStats {
  stats: TokenServerStats;
  options: { accessTokenTtlSeconds: number; refreshTokenTtlSeconds: number };
}

export function renderStats(panel: HTMLElement, { stats, options }: ServerStats, ttl: HTMLInputElement): void {
  const set = (name: string, value: string, bad = false) => {
    const dd = panel.querySelector<HTMLElement>(`[data-stat="${name}"]`);
    if (!dd) return;
    dd.textContent = value;
    dd.classList.toggle('bad', bad);
  };
  set('logins', `${stats.codeGrants} / ${stats.loginGrants}`);
  set('refreshRequests', String(stats.refreshRequests));
  set('refreshGrants', String(stats.refreshGrants));
  set('reuseDetections', String(stats.reuseDetections), stats.reuseDetections > 0);
  set('revocations', `${stats.revocations} / ${stats.endSessions}`);
  set('api', `${stats.api.authorized} / ${stats.api.unauthorized + stats.api.anonymous}`);
  // Show the server's current lifetime, unless someone is editing the field.
  if (document.activeElement !== ttl && ttl.dataset['edited'] !== 'true') ttl.value = String(options.accessTokenTtlSeconds);
}

/** The user picker follows the session: whoever status() says is signed in (a user it does not list is added). */
export function followSubject(select: HTMLSelectElement, subject: string | undefined): void {
  if (subject === undefined || select.value === subject) return;
  if (![...select.options].some((option) => option.value === subject)) select.add(new Option(subject, subject));
  select.value = subject;
}

/**
 * This tab leaves for the provider (sign-in, or its logout) and comes back as a new page: a note in
 * sessionStorage says what it went for, so the page can say how it came back.
 */
export type Trip = { to: 'sign-in' | 'sign-out'; user?: string };
const TRIP_KEY = 'sw-token-proxy-demo:trip';
export const trips = {
  leave(trip: Trip): void {
    sessionStorage.setItem(TRIP_KEY, JSON.stringify(trip));
  },
  /** The trip this page is the end of, once. */
  back(): Trip | undefined {
    const trip = sessionStorage.getItem(TRIP_KEY);
    sessionStorage.removeItem(TRIP_KEY);
    return trip === null ? undefined : (JSON.parse(trip) as Trip);
  },
};
