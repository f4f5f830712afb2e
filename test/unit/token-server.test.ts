import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokenServer, type TokenServerOptions } from '../server/token-server.js';

let server: TokenServer;
let origin: string;

async function start(options: TokenServerOptions = {}) {
  server = new TokenServer(options);
  origin = await server.listen();
}
afterEach(() => server.close());

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});
const login = async () => (await (await fetch(`${origin}/oauth/token`, form({ grant_type: 'password', username: 'alice', password: 'alice-password' }))).json()) as Record<string, string>;
const refresh = (token: string) => fetch(`${origin}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token: token }));
const api = (token?: string) => fetch(`${origin}/api/data`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});

describe('strict rotation', () => {
  beforeEach(() => start());

  it('issues a new pair on every refresh and kills the old refresh token at once', async () => {
    const first = await login();
    const second = (await (await refresh(first.refresh_token!)).json()) as Record<string, string>;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await api(second.access_token)).status).toBe(200);
    expect(server.stats).toMatchObject({ loginGrants: 1, refreshGrants: 1, reuseDetections: 0 });
  });

  it('detects a duplicate refresh, revokes the whole family and answers invalid_grant', async () => {
    const first = await login();
    const second = (await (await refresh(first.refresh_token!)).json()) as Record<string, string>;
    const duplicate = await refresh(first.refresh_token!);
    expect(duplicate.status).toBe(400);
    expect(await duplicate.json()).toMatchObject({ error: 'invalid_grant' });
    expect(server.stats.reuseDetections).toBe(1);
    // the family is dead: the newest pair too
    expect((await refresh(second.refresh_token!)).status).toBe(400);
    const denied = await api(second.access_token);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('WWW-Authenticate')).toContain('error="invalid_token"');
  });

  it('detects two concurrent refreshes with the same token', async () => {
    const first = await login();
    const [a, b] = await Promise.all([refresh(first.refresh_token!), refresh(first.refresh_token!)]);
    expect([a.status, b.status].sort()).toEqual([200, 400]);
    expect(server.stats).toMatchObject({ refreshGrants: 1, reuseDetections: 1 });
  });

  it('expires access tokens and counts API calls by auth state', async () => {
    let now = Date.now();
    server.options.now = () => now;
    const first = await login();
    expect((await api(first.access_token)).status).toBe(200);
    now += 61_000;
    expect((await api(first.access_token)).status).toBe(401);
    expect((await api()).status).toBe(401);
    expect(server.stats.api).toEqual({ authorized: 1, unauthorized: 1, anonymous: 1 });
    expect(server.apiRequests().map((r) => r.tokenValid)).toEqual([true, false, false]);
  });

  it('revokes per RFC 7009 and answers 200 for unknown tokens', async () => {
    const first = await login();
    expect((await fetch(`${origin}/oauth/revoke`, form({ token: first.refresh_token! }))).status).toBe(200);
    expect((await fetch(`${origin}/oauth/revoke`, form({ token: 'unknown' }))).status).toBe(200);
    expect((await refresh(first.refresh_token!)).status).toBe(400);
    expect((await api(first.access_token)).status).toBe(401);
  });

  it('answers errors in RFC 6749 §5.2 shape', async () => {
    const response = await fetch(`${origin}/oauth/token`, form({ grant_type: 'magic' }));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'unsupported_grant_type' });
    expect(response.headers.get('Cache-Control')).toBe('no-store');
  });
});

describe('grace period', () => {
  it('accepts a rotated-away token within the grace period, and not after', async () => {
    let now = Date.now();
    await start({ reuseGraceSeconds: 5, now: () => now });
    const first = await login();
    expect((await refresh(first.refresh_token!)).status).toBe(200);
    now += 4_000;
    expect((await refresh(first.refresh_token!)).status).toBe(200);
    expect(server.stats.graceReuses).toBe(1);
    now += 2_000;
    expect((await refresh(first.refresh_token!)).status).toBe(400);
    expect(server.stats.reuseDetections).toBe(1);
  });
});

describe('fault injection', () => {
  beforeEach(() => start());

  it('503 with Retry-After, 429, invalid_grant, then normal service', async () => {
    const first = await login();
    server.fail('refresh', '503', { count: 2, retryAfterSeconds: 1 });
    server.fail('refresh', '429', { retryAfterSeconds: 2 });
    const a = await refresh(first.refresh_token!);
    expect([a.status, a.headers.get('Retry-After')]).toEqual([503, '1']);
    expect((await refresh(first.refresh_token!)).status).toBe(503);
    const c = await refresh(first.refresh_token!);
    expect([c.status, c.headers.get('Retry-After')]).toEqual([429, '2']);
    expect((await refresh(first.refresh_token!)).status).toBe(200);
    expect(server.stats).toMatchObject({ refreshRequests: 4, refreshGrants: 1 });
  });

  it('a reset connection is a network error', async () => {
    const first = await login();
    server.fail('refresh', 'reset');
    await expect(refresh(first.refresh_token!)).rejects.toThrow();
  });

  it('a cut network drops every request unanswered, and nothing is counted, until it is restored', async () => {
    const first = await login();
    server.resetCounters();
    server.cutNetwork(true);
    await expect(api(first.access_token)).rejects.toThrow();
    await expect(refresh(first.refresh_token!)).rejects.toThrow();
    expect(server.stats).toMatchObject({ refreshRequests: 0, api: { authorized: 0, unauthorized: 0, anonymous: 0 } });
    server.cutNetwork(false);
    expect((await api(first.access_token)).status).toBe(200);
  });

  it('slow: the rotation is committed before the delayed answer', async () => {
    const first = await login();
    server.fail('refresh', 'slow', { delayMs: 300 });
    const pending = refresh(first.refresh_token!);
    await expect.poll(() => server.stats.refreshGrants).toBe(1);
    expect((await pending).status).toBe(200);
  });

  it('hang: no answer until the client gives up', async () => {
    const first = await login();
    server.fail('refresh', 'hang');
    await expect(fetch(`${origin}/oauth/token`, { ...form({ grant_type: 'refresh_token', refresh_token: first.refresh_token! }), signal: AbortSignal.timeout(200) })).rejects.toThrow();
  });
});

describe('refresh request shapes', () => {
  it.each(['json', 'header'] as const)('a %s server refuses the form shape and accepts its own', async (shape) => {
    await start({ refreshShape: shape });
    const first = await login();
    expect((await refresh(first.refresh_token!)).status).toBe(400);
    const own =
      shape === 'json'
        ? await fetch(`${origin}/oauth/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: first.refresh_token }) })
        : await fetch(`${origin}/oauth/token`, { ...form({ grant_type: 'refresh_token' }), headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Bearer ${first.refresh_token}` } });
    expect(own.status).toBe(200);
  });

  it('requires the configured client_id', async () => {
    await start({ clientId: 'demo' });
    const first = await login();
    expect((await refresh(first.refresh_token!)).status).toBe(401);
    expect((await fetch(`${origin}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token: first.refresh_token!, client_id: 'demo' }))).status).toBe(200);
  });
});

describe('DPoP binding', () => {
  it('a family bound at login needs proofs with the same key: a bearer replay of its token is refused', async () => {
    const { createDpopProver, generateDpopKeys } = await import('../../src/sw/features/dpop/prover.js');
    await start({ dpop: true });
    const keys = await generateDpopKeys();
    const prover = createDpopProver(async () => keys, Date.now, () => crypto.randomUUID());
    const loginAnswer = await prover.send(fetch, () => new Request(`${origin}/oauth/token`, form({ grant_type: 'password', username: 'alice', password: 'alice-password' })));
    const tokens = (await loginAnswer.json()) as Record<string, string>;
    expect(tokens.token_type).toBe('DPoP');
    expect((await api(tokens.access_token)).status).toBe(401); // as a bearer token
    const proven = await prover.send(fetch, () => new Request(`${origin}/api/data`, { headers: { Authorization: `DPoP ${tokens.access_token}` } }), tokens.access_token);
    expect(proven.status).toBe(200);
    // the refresh token is bound too: without a proof it is refused, and that is not counted as reuse
    const bare = await refresh(tokens.refresh_token!);
    expect(await bare.json()).toMatchObject({ error: 'invalid_dpop_proof' });
    const other = createDpopProver(generateDpopKeys, Date.now, () => crypto.randomUUID());
    const wrongKey = await other.send(fetch, () => new Request(`${origin}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! })));
    expect(wrongKey.status).toBe(400);
    const right = await prover.send(fetch, () => new Request(`${origin}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token! })));
    expect(right.status).toBe(200);
    expect(server.stats).toMatchObject({ refreshGrants: 1, reuseDetections: 0 });
  });
});
