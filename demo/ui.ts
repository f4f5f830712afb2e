// The demo's UI: the timeline, the status panel, the outbox panel and the server counters. Nothing here
// touches the library.
import type { OutboxEntrySummary, SessionEventOf, SessionStatus } from 'sw-token-proxy/client';
import type { TokenServerStats } from '../test/server/token-server.js';

/** API calls made by a tab (shared with every tab over the demo's BroadcastChannel). */
export interface ApiRow {
  kind: 'api';
  tab: string;
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
/** A session or outbox event from the worker (each tab hears it once) or an error in this page. */
export interface EventRow {
  kind: 'login' | 'refresh' | 'logout' | 'error' | 'queued' | 'replayed' | 'replay-failed';
  at: number;
  text: string;
  reason?: string;
  code?: string;
  refreshCount?: number;
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

/** Rows carry data-kind, data-tab, data-status, data-reason... so tests (and DevTools) can read them. */
export class Timeline {
  private static readonly MAX_ROWS = 300;

  constructor(
    private readonly list: HTMLElement,
    private readonly tab: string,
  ) {}

  add(row: Row): void {
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

    li.append(time, who, text);
    this.list.prepend(li);
    while (this.list.childElementCount > Timeline.MAX_ROWS) this.list.lastElementChild?.remove();
  }

  clear(): void {
    this.list.replaceChildren();
  }
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
  if (row.id !== undefined) output.dataset['id'] = row.id;
  else delete output.dataset['id'];
  output.className = row.status === 202 ? 'queued' : row.status >= 200 && row.status < 300 ? 'ok' : 'bad';
  output.textContent = `${row.method} ${row.path} → ${writeAnswer(row)}`;
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
    this.field('logged-in').textContent = status.loggedIn ? 'yes' : 'no';
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
  set('loginGrants', String(stats.loginGrants));
  set('refreshRequests', String(stats.refreshRequests));
  set('refreshGrants', String(stats.refreshGrants));
  set('reuseDetections', String(stats.reuseDetections), stats.reuseDetections > 0);
  set('revocations', String(stats.revocations));
  set('api', `${stats.api.authorized} / ${stats.api.unauthorized + stats.api.anonymous}`);
  // Show the server's current lifetime, unless someone is editing the field.
  if (document.activeElement !== ttl && ttl.dataset['edited'] !== 'true') ttl.value = String(options.accessTokenTtlSeconds);
}
