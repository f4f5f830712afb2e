/**
 * `npm run bench`: what the proxy costs on every API request, and whether its refresh holds at scale.
 * Headless Chromium against the strict test token server on loopback. The machine is small and noisy, so
 * every figure is a ratio against a baseline measured in the same run, interleaved (A/B/C, B/C/A, ...),
 * the median over rounds; absolute times are printed for information only.
 *
 * Setups, each on its own origin (its own TokenServer, so registrations never mix):
 *   (a) none         the test page with no service worker; it sets `Authorization` itself
 *   (b) passthrough  a bare worker, `respondWith(fetch(request))`; the page sets `Authorization` itself
 *   (c) proxy        sw-token-proxy logged in with a fresh token; the page sends no token, the worker adds it
 * All three call GET /api/data with a live token, so the server does the same work for each (token lookup,
 * 200, same body): the only difference is what sits between the page and the network.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { TokenServer, type TokenServerOptions } from '../test/server/token-server.js';
import { BenchContext, launch, login, openTab, PROXY_CONFIG, until, type BenchPage, type Setup } from './browser.js';
import { BENCH_BUILD_DIR, buildBench } from './build.js';
import { kb, median, ms, percentile, ratio, rotation } from './stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, '..');
const RESULTS_DIR = join(here, 'results');
const API = '/api/data';

interface Params {
  /** Rounds of figure 1 (each: every setup once, in rotated order). */
  rounds: number;
  /** Rounds of figure 2: a burst's wall time is noisier than a median of 500 latencies, so more of them. */
  throughputRounds: number;
  latencyRequests: number;
  warmupRequests: number;
  throughputRequests: number;
  coldRounds: number;
  stormTabs: number;
  stormCallsPerTab: number;
  stormRounds: number;
  stormTtlSeconds: number;
  logoutRounds: number;
  idleSeconds: number;
}

const FULL: Params = {
  rounds: 5,
  throughputRounds: 7,
  latencyRequests: 500,
  warmupRequests: 50,
  throughputRequests: 500,
  coldRounds: 7,
  stormTabs: 10,
  stormCallsPerTab: 100,
  stormRounds: 5,
  stormTtlSeconds: 2,
  logoutRounds: 7,
  idleSeconds: 60,
};

/** A smoke run (the e2e suite runs it once so the bench never rots): same figures, fewer requests and rounds. */
const QUICK: Params = {
  rounds: 3,
  throughputRounds: 3,
  latencyRequests: 100,
  warmupRequests: 20,
  throughputRequests: 100,
  coldRounds: 3,
  stormTabs: 4,
  stormCallsPerTab: 25,
  stormRounds: 2,
  stormTtlSeconds: 2,
  logoutRounds: 3,
  idleSeconds: 3,
};

const LATENCY_BLOCK = 50;
const IDLE_TABS = 3;
const LOGOUT_TABS = 6; // one logs out, five listen
/** Head start for arming every storm tab before they all fire at the same instant. */
const ARM_MS = 400;
/** Long enough never to expire during a run. */
const LONG_TTL_SECONDS = 3600;

export interface Row {
  id: string;
  figure: string;
  measured: string;
  baseline: string;
  ratio: string;
  goal: string;
  ok: 'yes' | 'NO' | '—';
}

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

// ---- page-side functions (serialised by Playwright: self-contained, no imported bindings) -------------

interface Timed {
  ms: number;
  status: number;
}

/** `n` GETs one after the other; every duration, and a failure if any answer is not 200. */
function sequential(page: BenchPage, n: number, headers: Record<string, string>): Promise<number[]> {
  return page.evaluate(
    async ([count, path, h]) => {
      const durations: number[] = [];
      for (let i = 0; i < count; i++) {
        const t = performance.now();
        const response = await fetch(path, { headers: h });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
        durations.push(performance.now() - t);
      }
      return durations;
    },
    [n, API, headers] as const,
  );
}

/** `n` GETs at once; wall time until the last body is read, and how many answered 200. */
function concurrent(page: BenchPage, n: number, headers: Record<string, string>): Promise<{ ms: number; ok: number }> {
  return page.evaluate(
    async ([count, path, h]) => {
      const t = performance.now();
      const statuses = await Promise.all(
        Array.from({ length: count }, () =>
          fetch(path, { headers: h }).then(
            async (r) => (await r.arrayBuffer(), r.status),
            () => 0,
          ),
        ),
      );
      return { ms: performance.now() - t, ok: statuses.filter((s) => s === 200).length };
    },
    [n, API, headers] as const,
  );
}

function single(page: BenchPage, headers: Record<string, string>): Promise<Timed> {
  return page.evaluate(
    async ([path, h]) => {
      const t = performance.now();
      const response = await fetch(path, { headers: h });
      await response.arrayBuffer();
      return { ms: performance.now() - t, status: response.status };
    },
    [API, headers] as const,
  );
}

/** Arms a tab: at `startAt` (epoch ms, by condition on the page's clock) it fires `n` GETs at once. */
function armedStorm(page: BenchPage, n: number, startAt: number): Promise<{ t0: number; t1: number; statuses: number[] }> {
  return page.evaluate(
    async ([count, path, start]) => {
      while (Date.now() < start) await new Promise((resolve) => setTimeout(resolve, Math.max(1, start - Date.now())));
      const t0 = Date.now();
      const statuses = await Promise.all(
        Array.from({ length: count }, () =>
          fetch(path).then(
            async (r) => (await r.arrayBuffer(), r.status),
            () => 0,
          ),
        ),
      );
      return { t0, t1: Date.now(), statuses };
    },
    [n, API, startAt] as const,
  );
}

/** One refresh grant straight from a page with no worker: the "refresh round trip" of figure 3. */
function refreshRoundTrip(page: BenchPage, refreshToken: string): Promise<Timed> {
  return page.evaluate(async (token) => {
    const t = performance.now();
    const response = await fetch('/oauth/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
    });
    await response.arrayBuffer();
    return { ms: performance.now() - t, status: response.status };
  }, refreshToken);
}

// ---- the run -------------------------------------------------------------------------------------------

async function startServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const server = new TokenServer({ staticDir: BENCH_BUILD_DIR, accessTokenTtlSeconds: LONG_TTL_SECONDS, ...options });
  await server.listen();
  return server;
}

/** A live access token for the pages that send their own (setups a and b). */
function bearer(server: TokenServer): Record<string, string> {
  return { Authorization: `Bearer ${String(server.issueLogin()['access_token'])}` };
}

interface Setups {
  pages: Record<Setup, BenchPage>;
  headers: Record<Setup, Record<string, string>>;
}

const SETUPS: readonly Setup[] = ['none', 'passthrough', 'proxy'];

export async function main(argv: readonly string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const p = quick ? QUICK : FULL;
  const started = Date.now();
  const command = process.env['npm_lifecycle_event'] === 'bench' ? `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}` : `node bench/index.mjs${argv.length ? ` ${argv.join(' ')}` : ''}`;
  const rows: Row[] = [];
  const raw: Record<string, unknown> = {};
  /** The bench itself went wrong (not a missed goal): exit non-zero. */
  const failures: string[] = [];
  const servers: TokenServer[] = [];
  const browsers: Browser[] = [];
  const serve = async (options: TokenServerOptions = {}) => {
    const server = await startServer(options);
    servers.push(server);
    return server;
  };

  try {
    log(`building the bench page and workers into ${relative(ROOT, BENCH_BUILD_DIR)}`);
    await buildBench();
    log('bundle sizes (scripts/size.mjs --json)');
    const sizes = await bundleSizes();
    raw['sizes'] = sizes;

    // Idle cost runs in a browser of its own, alongside the other figures: the measured thing is the
    // number of requests its server sees during the window, which the work elsewhere cannot change, and
    // a second, idle Chromium takes (nearly) no CPU from the main one.
    const idle = await startIdle(p, serve, browsers);

    const browser = await launch();
    browsers.push(browser);
    const chromiumVersion = browser.version();
    const context = await BenchContext.create(browser);

    const serverOf: Record<Setup, TokenServer> = { none: await serve(), passthrough: await serve(), proxy: await serve() };
    const setups: Setups = {
      pages: {
        none: await openTab(context, serverOf.none, 'none'),
        passthrough: await openTab(context, serverOf.passthrough, 'passthrough'),
        proxy: await openTab(context, serverOf.proxy, 'proxy'),
      },
      headers: { none: bearer(serverOf.none), passthrough: bearer(serverOf.passthrough), proxy: {} },
    };
    await login(setups.pages.proxy);
    await idle.opened; // the idle browser's own setup and login are over before anything is measured

    rows.push(...(await latency(p, setups, raw)));
    rows.push(...(await throughput(p, setups, raw, failures)));
    rows.push(await coldStart(p, setups, raw, failures));
    rows.push(...(await storm(p, context, serve, setups.pages.none, serverOf.none, raw, failures)));
    rows.push(await idle.finish(raw, failures));
    rows.push(await logoutPropagation(p, context, serve, raw, failures));
    rows.push(...sizeRows(sizes));

    const seconds = (Date.now() - started) / 1000;
    const machine = {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      chromium: chromiumVersion,
    };
    const date = new Date().toISOString();
    const header = `sw-token-proxy bench${quick ? ' (--quick)' : ''} · ${date} · ${machine.cpu} × ${machine.cores} cores · ${machine.os} · node ${machine.node} · Chromium ${machine.chromium} · ${command} · ${seconds.toFixed(0)} s`;
    console.log(header);
    rows.sort((x, y) => x.id.localeCompare(y.id));
    console.log(table(rows));
    if (failures.length > 0) console.log(`\nBENCH FAILED (not a missed goal: the measurement itself went wrong):\n- ${failures.join('\n- ')}`);
    else console.log(`\nratios: median over interleaved rounds (same run); absolute times for information only. ${rows.filter((r) => r.ok === 'NO').length} goal(s) missed.`);

    await mkdir(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, quick ? 'latest-quick.json' : 'latest.json');
    await writeFile(file, JSON.stringify({ date, machine, command, quick, params: p, wallSeconds: seconds, rows, failures, raw }, null, 2) + '\n');
    log(`wrote ${relative(ROOT, file)}`);
    return failures.length > 0 ? 1 : 0;
  } finally {
    for (const browser of browsers) await browser.close().catch(() => undefined);
    for (const server of servers) await server.close().catch(() => undefined);
  }
}

// ---- 1. sequential latency --------------------------------------------------------------------------

async function latency(p: Params, { pages, headers }: Setups, raw: Record<string, unknown>): Promise<Row[]> {
  for (const setup of SETUPS) await sequential(pages[setup], p.warmupRequests, headers[setup]); // JIT, connections, worker up
  const perRound: Array<Record<Setup, { p50: number; p95: number }>> = [];
  for (let round = 0; round < p.rounds; round++) {
    // Interleaved finely too: blocks of LATENCY_BLOCK requests, A/B/C, so a burst of noise on this shared
    // machine lands on every setup alike; the round's percentiles are over all its blocks.
    const durations: Record<Setup, number[]> = { none: [], passthrough: [], proxy: [] };
    for (let done = 0, block = 0; done < p.latencyRequests; done += LATENCY_BLOCK, block++) {
      const n = Math.min(LATENCY_BLOCK, p.latencyRequests - done);
      for (const setup of rotation(SETUPS, round + block)) durations[setup].push(...(await sequential(pages[setup], n, headers[setup])));
    }
    const result = {} as Record<Setup, { p50: number; p95: number }>;
    for (const setup of SETUPS) result[setup] = { p50: percentile(durations[setup], 50), p95: percentile(durations[setup], 95) };
    perRound.push(result);
    log(`1 latency round ${round + 1}/${p.rounds}: p50 a ${ms(result.none.p50)} b ${ms(result.passthrough.p50)} c ${ms(result.proxy.p50)}`);
  }
  raw['latency'] = perRound;
  const stat = (setup: Setup, q: 'p50' | 'p95') => median(perRound.map((r) => r[setup][q]));
  const rel = (q: 'p50' | 'p95', base: Setup) => median(perRound.map((r) => r.proxy[q] / r[base][q]));
  const row = (id: string, q: 'p50' | 'p95', base: Setup, goal?: number): Row => {
    const value = rel(q, base);
    const letter = base === 'none' ? 'a' : 'b';
    return {
      id,
      figure: `latency ${q}, ${p.latencyRequests} sequential GETs: c/${letter}`,
      measured: `c ${ms(stat('proxy', q))}`,
      baseline: `${letter} ${ms(stat(base, q))}`,
      ratio: ratio(value),
      goal: goal === undefined ? '—' : `≤ ${goal.toFixed(2)}`,
      ok: goal === undefined ? '—' : value <= goal ? 'yes' : 'NO',
    };
  };
  return [row('1a', 'p50', 'passthrough', 1.05), row('1b', 'p95', 'passthrough'), row('1c', 'p50', 'none'), row('1d', 'p95', 'none')];
}

// ---- 2. throughput ----------------------------------------------------------------------------------

async function throughput(p: Params, { pages, headers }: Setups, raw: Record<string, unknown>, failures: string[]): Promise<Row[]> {
  for (const setup of SETUPS) await concurrent(pages[setup], p.warmupRequests, headers[setup]); // warm-up
  const perRound: Array<Record<Setup, number>> = [];
  for (let round = 0; round < p.throughputRounds; round++) {
    const result = {} as Record<Setup, number>;
    for (const setup of rotation(SETUPS, round)) {
      const { ms: wall, ok } = await concurrent(pages[setup], p.throughputRequests, headers[setup]);
      if (ok !== p.throughputRequests) failures.push(`throughput (${setup}): ${p.throughputRequests - ok} of ${p.throughputRequests} GETs did not answer 200`);
      result[setup] = wall;
    }
    perRound.push(result);
    log(`2 throughput round ${round + 1}/${p.throughputRounds}: wall a ${ms(result.none, 0)} b ${ms(result.passthrough, 0)} c ${ms(result.proxy, 0)}`);
  }
  raw['throughput'] = perRound;
  const n = p.throughputRequests;
  const rps = (wall: number) => `${Math.round((n / wall) * 1000)} req/s`;
  const row = (id: string, base: Setup, goal?: number): Row => {
    // throughput ratio c/base = base's wall time / c's wall time
    const value = median(perRound.map((r) => r[base] / r.proxy));
    const wallC = median(perRound.map((r) => r.proxy));
    const wallBase = median(perRound.map((r) => r[base]));
    const letter = base === 'none' ? 'a' : 'b';
    return {
      id,
      figure: `throughput, ${n} concurrent GETs: c/${letter}`,
      measured: `c ${ms(wallC, 0)} (${rps(wallC)})`,
      baseline: `${letter} ${ms(wallBase, 0)} (${rps(wallBase)})`,
      ratio: ratio(value),
      goal: goal === undefined ? '—' : `≥ ${goal.toFixed(2)}`,
      ok: goal === undefined ? '—' : value >= goal ? 'yes' : 'NO',
    };
  };
  return [row('2a', 'passthrough', 0.95), row('2b', 'none')];
}

// ---- 4. cold start ----------------------------------------------------------------------------------

async function coldStart(p: Params, { pages, headers }: Setups, raw: Record<string, unknown>, failures: string[]): Promise<Row> {
  const workers: Setup[] = ['passthrough', 'proxy'];
  const perRound: Array<Record<'passthrough' | 'proxy', number>> = [];
  for (let round = 0; round < p.coldRounds; round++) {
    const result = {} as Record<'passthrough' | 'proxy', number>;
    for (const setup of rotation(workers, round) as Array<'passthrough' | 'proxy'>) {
      await pages[setup].stopWorkers();
      const first = await single(pages[setup], headers[setup]);
      if (first.status !== 200) failures.push(`cold start (${setup}): first call answered ${first.status}`);
      result[setup] = first.ms;
    }
    perRound.push(result);
    log(`4 cold start round ${round + 1}/${p.coldRounds}: b ${ms(result.passthrough, 1)} c ${ms(result.proxy, 1)}`);
  }
  raw['coldStart'] = perRound;
  const value = median(perRound.map((r) => r.proxy / r.passthrough));
  return {
    id: '4',
    figure: 'cold start: first API call after stopAllWorkers, c/b',
    measured: `c ${ms(median(perRound.map((r) => r.proxy)), 1)}`,
    baseline: `b ${ms(median(perRound.map((r) => r.passthrough)), 1)}`,
    ratio: ratio(value),
    goal: '≤ 1.30',
    ok: value <= 1.3 ? 'yes' : 'NO',
  };
}

// ---- 3. storm at expiry -----------------------------------------------------------------------------

async function storm(
  p: Params,
  context: BenchContext,
  serve: (options?: TokenServerOptions) => Promise<TokenServer>,
  plainPage: BenchPage,
  plainServer: TokenServer,
  raw: Record<string, unknown>,
  failures: string[],
): Promise<Row[]> {
  const server = await serve();
  // Skew 0: the token is due exactly at its expiry, so "the moment of expiry" is the moment the storm fires.
  const config = { ...PROXY_CONFIG, refreshSkewSeconds: 0 };
  const tabs: BenchPage[] = [];
  for (let i = 0; i < p.stormTabs; i++) tabs.push(await openTab(context, server, 'proxy', config));
  const total = p.stormTabs * p.stormCallsPerTab;

  type Kind = 'fresh' | 'expiry';
  interface StormResult {
    makespan: number;
    ok: number;
    grants: number;
    reuse: number;
    startSpread: number;
    /** Server-side arrivals, ms after the first tab fired: the refresh grant, the first and last API call. */
    refreshArrived: number | null;
    firstApiArrived: number;
    lastApiArrived: number;
  }
  const perRound: Array<Record<Kind, StormResult> & { rtt: number }> = [];
  for (let round = 0; round < p.stormRounds; round++) {
    const result = {} as Record<Kind, StormResult>;
    for (const kind of rotation<Kind>(['fresh', 'expiry'], round)) {
      // At expiry: the login's token lives stormTtlSeconds, the refreshed one long (a storm on a loaded
      // 2-core machine can outlast a short lifetime, and a second expiry mid-storm is not this figure).
      server.setLifetimes(kind === 'fresh' ? LONG_TTL_SECONDS : p.stormTtlSeconds);
      await login(tabs[0]!);
      server.setLifetimes(LONG_TTL_SECONDS);
      const { expiresAt } = await tabs[0]!.evaluate(() => window.tp.proxy.status(), undefined);
      if (expiresAt === undefined) throw new Error('storm: the session has no expiresAt');
      const before = { grants: server.stats.refreshGrants, reuse: server.stats.reuseDetections, requests: server.requests.length };
      // Every tab waits (by condition, on its own clock) for the same instant: now + ARM_MS for a fresh
      // token; the token's expiry for the storm at expiry.
      const startAt = kind === 'fresh' ? Date.now() + ARM_MS : Math.max(expiresAt, Date.now() + ARM_MS);
      const tabResults = await Promise.all(tabs.map((tab) => armedStorm(tab, p.stormCallsPerTab, startAt)));
      const t0 = Math.min(...tabResults.map((r) => r.t0));
      const statuses = tabResults.flatMap((r) => r.statuses);
      const arrived = server.requests.slice(before.requests);
      const apiAt = arrived.filter((r) => r.path.startsWith('/api/')).map((r) => r.at - t0);
      const refreshAt = arrived.find((r) => r.path === '/oauth/token' && r.body?.includes('grant_type=refresh_token'))?.at;
      result[kind] = {
        makespan: Math.max(...tabResults.map((r) => r.t1)) - t0,
        ok: statuses.filter((s) => s === 200).length,
        grants: server.stats.refreshGrants - before.grants,
        reuse: server.stats.reuseDetections - before.reuse,
        startSpread: Math.max(...tabResults.map((r) => r.t0)) - t0,
        refreshArrived: refreshAt === undefined ? null : refreshAt - t0,
        firstApiArrived: Math.min(...apiAt),
        lastApiArrived: Math.max(...apiAt),
      };
      if (result[kind].ok !== total) {
        const other = statuses.filter((s) => s !== 200);
        failures.push(`storm (${kind}, round ${round + 1}): ${total - result[kind].ok} of ${total} calls failed (statuses ${[...new Set(other)].join(', ')})`);
      }
      if (kind === 'expiry' && result[kind].grants === 0) failures.push(`storm (expiry, round ${round + 1}): no refresh grant: the token had not expired?`);
    }
    // One refresh round trip, page → token server → page, with no worker in the way (3 samples).
    const rtts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { ms: t, status } = await refreshRoundTrip(plainPage, String(plainServer.issueLogin()['refresh_token']));
      if (status !== 200) failures.push(`refresh round trip answered ${status}`);
      rtts.push(t);
    }
    perRound.push({ ...result, rtt: median(rtts) });
    const f = result.fresh;
    const e = result.expiry;
    log(
      `3 storm round ${round + 1}/${p.stormRounds}: fresh ${ms(f.makespan, 0)} (${f.ok}/${total}, ${f.grants} grants, first API at server +${f.firstApiArrived} ms), ` +
        `expiry ${ms(e.makespan, 0)} (${e.ok}/${total}, ${e.grants} grants, ${e.reuse} reuse, refresh at server +${e.refreshArrived} ms, first API +${e.firstApiArrived} ms)`,
    );
  }
  raw['storm'] = perRound;
  for (const tab of tabs) await tab.close();

  const grants = perRound.map((r) => r.expiry.grants);
  const reuse = perRound.reduce((n, r) => n + r.expiry.reuse + r.fresh.reuse, 0);
  const freshGrants = perRound.reduce((n, r) => n + r.fresh.grants, 0);
  const okExpiry = perRound.map((r) => r.expiry.ok);
  const okFresh = perRound.map((r) => r.fresh.ok);
  const makespanRatio = median(perRound.map((r) => r.expiry.makespan / r.fresh.makespan));
  const fresh = median(perRound.map((r) => r.fresh.makespan));
  const expiry = median(perRound.map((r) => r.expiry.makespan));
  const rtt = median(perRound.map((r) => r.rtt));
  // expiry ≤ fresh × 1.10 + one refresh round trip, as a ratio to the fresh storm
  const limit = 1.1 + rtt / fresh;
  const shape = `${p.stormTabs} tabs × ${p.stormCallsPerTab}`;
  return [
    {
      id: '3a',
      figure: `storm at expiry (${shape}): refresh grants per storm`,
      measured: `${grants.join(', ')}${reuse > 0 ? ` (${reuse} reuse!)` : ''}`,
      baseline: `fresh: ${freshGrants}`,
      ratio: '—',
      goal: 'exactly 1',
      ok: grants.every((g) => g === 1) && reuse === 0 ? 'yes' : 'NO',
    },
    {
      id: '3b',
      figure: `storm at expiry (${shape}): calls answered 200`,
      measured: okExpiry.every((n) => n === total) ? `${total}/${total} ×${okExpiry.length}` : okExpiry.map((n) => `${n}/${total}`).join(', '),
      baseline: okFresh.every((n) => n === total) ? `fresh ${total}/${total} ×${okFresh.length}` : `fresh ${okFresh.map((n) => `${n}/${total}`).join(', ')}`,
      ratio: ratio(okExpiry.reduce((a, b) => a + b, 0) / (total * okExpiry.length)),
      goal: `${total}/${total}`,
      ok: okExpiry.every((n) => n === total) ? 'yes' : 'NO',
    },
    {
      id: '3c',
      figure: `storm makespan (${shape}): at expiry / fresh token`,
      measured: `expiry ${ms(expiry, 0)}`,
      baseline: `fresh ${ms(fresh, 0)}`,
      ratio: ratio(makespanRatio),
      goal: `≤ 1.10 + RTT/fresh = ${limit.toFixed(3)} (RTT ${ms(rtt, 1)})`,
      ok: makespanRatio <= limit ? 'yes' : 'NO',
    },
  ];
}

// ---- 5. idle cost -----------------------------------------------------------------------------------

async function startIdle(
  p: Params,
  serve: (options?: TokenServerOptions) => Promise<TokenServer>,
  browsers: Browser[],
): Promise<{ opened: Promise<void>; finish(raw: Record<string, unknown>, failures: string[]): Promise<Row> }> {
  const browser = await launch();
  browsers.push(browser);
  const context = await BenchContext.create(browser);
  // The token's lifetime is half the window: a library that refreshed ahead of time, on expiry, polled or
  // kept a timer would show up as requests (its refresh point and its expiry both lie inside the window).
  const proxyServer = await serve({ accessTokenTtlSeconds: Math.max(1, Math.floor(p.idleSeconds / 2)) });
  const passServer = await serve();
  const proxyTabs: BenchPage[] = [];
  for (let i = 0; i < IDLE_TABS; i++) proxyTabs.push(await openTab(context, proxyServer, 'proxy'));
  for (let i = 0; i < IDLE_TABS; i++) await openTab(context, passServer, 'passthrough');
  // Settle first, by condition: Chromium soft-updates a registration (re-fetches its worker script) a
  // moment after navigations into its scope; that is the browser, not the library. Each server has then
  // seen the script twice (install, update check). Then one tab logs in and the window opens as soon as
  // the login is answered. All this runs in the background.
  const scriptFetches = (server: TokenServer, script: string) => server.requests.filter((r) => r.path.startsWith(script)).length;
  const windowMs = p.idleSeconds * 1000;
  let windowOpened!: () => void;
  const opening = new Promise<void>((resolve) => (windowOpened = resolve));
  const measured = (async () => {
    const settled = await until(() => scriptFetches(proxyServer, '/sw.js') >= 2 && scriptFetches(passServer, '/passthrough-sw.js') >= 2, 'the update checks', 15_000, 50).then(
      () => true,
      () => false,
    );
    await login(proxyTabs[0]!);
    windowOpened();
    const from = { proxy: proxyServer.requests.length, pass: passServer.requests.length };
    const started = Date.now();
    // The window's length is the measured thing: here waiting on the clock is the point.
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    return {
      settled,
      windowMs: Date.now() - started,
      proxy: proxyServer.requests.slice(from.proxy),
      pass: passServer.requests.slice(from.pass),
    };
  })();
  measured.catch(() => undefined); // awaited in finish(); this only keeps an early failure from being "unhandled"
  log(`5 idle: ${IDLE_TABS} logged-in proxy tabs and ${IDLE_TABS} pass-through tabs idle for ${p.idleSeconds} s (in a second browser, alongside the other figures)`);
  return {
    // Opened, or failed (finish() reports it): either way the idle browser is quiet from here on.
    opened: Promise.race([opening, measured.then(() => undefined, () => undefined)]),
    async finish(raw, failures) {
      const { settled, windowMs: elapsed, proxy: seen, pass: seenPass } = await measured;
      raw['idle'] = { settled, windowMs: elapsed, proxyRequests: seen, passthroughRequests: seenPass };
      if (!settled) log('5 idle: Chromium never made its post-navigation update check; window opened anyway');
      const stillLoggedIn = await proxyTabs[1]!.evaluate(() => window.tp.proxy.status(), undefined).then((s) => s.loggedIn, () => false);
      if (!stillLoggedIn) failures.push('idle: the session was lost during the idle window');
      await browser.close();
      const what = seen.length === 0 ? '' : ` (${[...new Set(seen.map((r) => `${r.method} ${r.path.split('?')[0]}`))].join(', ')})`;
      return {
        id: '5',
        figure: `idle cost: requests in ${p.idleSeconds} s, ${IDLE_TABS} idle logged-in tabs`,
        measured: `${seen.length}${what}`,
        baseline: `b: ${seenPass.length}`,
        ratio: '—',
        goal: '0',
        ok: seen.length === 0 ? 'yes' : 'NO',
      };
    },
  };
}

// ---- 6. logout propagation --------------------------------------------------------------------------

async function logoutPropagation(
  p: Params,
  context: BenchContext,
  serve: (options?: TokenServerOptions) => Promise<TokenServer>,
  raw: Record<string, unknown>,
  failures: string[],
): Promise<Row> {
  const server = await serve();
  const tabs: BenchPage[] = [];
  for (let i = 0; i < LOGOUT_TABS; i++) tabs.push(await openTab(context, server, 'proxy'));
  const [sender, ...listeners] = tabs as [BenchPage, ...BenchPage[]];
  // Baseline: the floor of any cross-tab notice, a bare BroadcastChannel post from one tab to the five.
  for (const tab of listeners) {
    await tab.evaluate(() => {
      const w = window as unknown as { benchPingAt: number | null };
      w.benchPingAt = null;
      new BroadcastChannel('bench-ping').onmessage = () => (w.benchPingAt = Date.now());
    }, undefined);
  }
  /** When the tab heard it (its own Date.now() on receipt), or null after 5 s. */
  const heard = (tab: BenchPage, what: 'ping' | 'logged-out') =>
    tab.evaluate(async (w) => {
      const deadline = Date.now() + 5000;
      const at = () =>
        w === 'ping'
          ? (window as unknown as { benchPingAt: number | null }).benchPingAt
          : (window.tp.events.find((e) => e.type === 'logged-out')?.receivedAt ?? null);
      for (;;) {
        const value = at();
        if (value !== null || Date.now() > deadline) return value;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }, what);
  const perRound: Array<{ logout: number; broadcast: number; perTab: number[] }> = [];
  for (let round = 0; round < p.logoutRounds; round++) {
    await login(sender);
    await Promise.all(tabs.map((tab) => tab.evaluate(() => void (window.tp.events.length = 0), undefined)));
    await Promise.all(listeners.map((tab) => tab.evaluate(() => void ((window as unknown as { benchPingAt: number | null }).benchPingAt = null), undefined)));

    const collect = async (what: 'ping' | 'logged-out', t0: number) => {
      const at: number[] = [];
      for (const tab of listeners) {
        const t = await heard(tab, what);
        if (t === null) failures.push(`logout round ${round + 1}: a tab never heard ${what}`);
        else at.push(t - t0);
      }
      return at;
    };
    const measure = {
      broadcast: async () => {
        const t0 = await sender.evaluate(() => {
          const channel = new BroadcastChannel('bench-ping');
          const t = Date.now();
          channel.postMessage('ping');
          channel.close();
          return t;
        }, undefined);
        return Math.max(...(await collect('ping', t0)));
      },
      logout: async () => {
        const t0 = await sender.evaluate(async () => {
          const t = Date.now();
          await window.tp.proxy.logout();
          return t;
        }, undefined);
        const perTab = await collect('logged-out', t0);
        return { delay: Math.max(...perTab), perTab };
      },
    };
    let broadcast = NaN;
    let logout = { delay: NaN, perTab: [] as number[] };
    // Interleaved, alternating which goes first.
    if (round % 2 === 0) {
      broadcast = await measure.broadcast();
      logout = await measure.logout();
    } else {
      logout = await measure.logout();
      broadcast = await measure.broadcast();
    }
    perRound.push({ logout: logout.delay, broadcast, perTab: logout.perTab });
    log(`6 logout round ${round + 1}/${p.logoutRounds}: last of 5 tabs after ${ms(logout.delay, 0)} (broadcast floor ${ms(broadcast, 0)})`);
  }
  raw['logout'] = perRound;
  for (const tab of tabs) await tab.close();
  const value = median(perRound.map((r) => r.logout));
  const floor = median(perRound.map((r) => r.broadcast));
  return {
    id: '6',
    figure: `logout propagation: logout() in 1 tab → logged-out in ${listeners.length} others (last)`,
    measured: ms(value, 0),
    baseline: `BroadcastChannel ${ms(floor, 0)}`,
    // Date.now() has 1 ms steps: a ratio to a 0–1 ms floor says nothing, so only past 1 ms.
    ratio: floor >= 1 ? ratio(value / floor) : '—',
    goal: '< 100 ms',
    ok: value < 100 ? 'yes' : 'NO',
  };
}

// ---- 7. bundle sizes --------------------------------------------------------------------------------

/** What scripts/size.mjs measures: each bundle with its goal in bytes (null: reported, no goal). */
type Sizes = Record<string, { minified: number; gzipped: number; goal: number | null }>;

async function bundleSizes(): Promise<Sizes> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'size.mjs'), '--json'], { cwd: ROOT });
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Sizes;
}

function sizeRows(sizes: Sizes): Row[] {
  const ids: Record<string, string> = {
    worker: '7a',
    client: '7b',
    'worker + offlineOutbox': '7c',
    'worker + captureLogins': '7d',
    'worker + dpopProofs': '7e',
    'worker + memoryStorage': '7f',
    'worker + oidcSignIn': '7g',
    'worker + every feature': '7h',
  };
  const rows = Object.entries(sizes).map(([name, { minified, gzipped, goal }]): Row => ({
    id: ids[name] ?? '7',
    figure: `bundle size, ${name} (deps included)${goal === null ? '' : ': gzip / budget'}`,
    measured: `${kb(gzipped)} gz (${kb(minified)} min)`,
    baseline: goal === null ? '—' : `budget ${kb(goal)}`,
    ratio: goal === null ? '—' : ratio(gzipped / goal),
    goal: goal === null ? '—' : `≤ ${kb(goal)} gz`,
    ok: goal === null ? '—' : gzipped <= goal ? 'yes' : 'NO',
  }));
  return rows.sort((a, b) => a.id.localeCompare(b.id));
}

// ---- output -----------------------------------------------------------------------------------------

export function table(rows: readonly Row[]): string {
  const head: Row = { id: '#', figure: 'figure', measured: 'measured', baseline: 'baseline', ratio: 'ratio', goal: 'goal', ok: 'ok?' as Row['ok'] };
  const cols = ['id', 'figure', 'measured', 'baseline', 'ratio', 'goal', 'ok'] as const;
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(...[head, ...rows].map((r) => r[c].length))])) as Record<(typeof cols)[number], number>;
  const line = (r: Row) => cols.map((c) => r[c].padEnd(width[c])).join(' | ').trimEnd();
  return [line(head), cols.map((c) => '-'.repeat(width[c])).join('-|-'), ...rows.map(line)].join('\n');
}
