import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TokenProxyConfig } from '../../src/sw/config.js';
import { resolveConfig } from '../../src/sw/resolved-config.js';
import { parseRetryAfter } from '../../src/sw/http.js';
import { buildRefreshRequest, classifyRefreshResponse, requestRefresh } from '../../src/sw/refresh-request.js';

const NOW = 1_700_000_000_000;
const config = (extra: Partial<TokenProxyConfig> = {}) => {
  const resolved = resolveConfig({ api: ['/api'], tokenEndpoint: '/oauth/token', clientId: 'app', ...extra }, 'https://app.test');
  return { ...resolved, tokenEndpoint: resolved.tokenEndpoint! };
};
const jsonResponse = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

describe('refresh outcomes are classified by what the engine must do', () => {
  it.each([
    ['200 with tokens', () => jsonResponse(200, { access_token: 'a', refresh_token: 'r', expires_in: 60 }), 'ok'],
    ['400 invalid_grant', () => jsonResponse(400, { error: 'invalid_grant' }), 'rejected'],
    ['401 invalid_client', () => jsonResponse(401, { error: 'invalid_client' }), 'misconfigured'],
    ['400 invalid_request', () => jsonResponse(400, { error: 'invalid_request' }), 'misconfigured'],
    ['400 unauthorized_client', () => jsonResponse(400, { error: 'unauthorized_client' }), 'misconfigured'],
    ['400 unsupported_grant_type', () => jsonResponse(400, { error: 'unsupported_grant_type' }), 'misconfigured'],
    ['400 without a JSON body', () => new Response('bad', { status: 400 }), 'misconfigured'],
    ['200 with an invalid token payload', () => jsonResponse(200, { access_token: 5 }), 'misconfigured'],
    ['200 that is not JSON (captive portal)', () => new Response('<html>', { status: 200 }), 'transient'],
    ['500', () => jsonResponse(500, { error: 'server_error' }), 'transient'],
    ['502 HTML', () => new Response('<html>bad gateway', { status: 502 }), 'transient'],
    ['503', () => jsonResponse(503, { error: 'temporarily_unavailable' }), 'transient'],
    ['429', () => jsonResponse(429, { error: 'slow_down' }), 'transient'],
    ['408', () => new Response('', { status: 408 }), 'transient'],
  ])('%s → %s', async (_, make, kind) => {
    expect((await classifyRefreshResponse(config(), make(), NOW)).kind).toBe(kind);
  });

  it('treats configured terminal errors like invalid_grant', async () => {
    const outcome = await classifyRefreshResponse(config({ terminalErrors: ['login_required'] }), jsonResponse(400, { error: 'login_required' }), NOW);
    expect(outcome).toEqual({ kind: 'rejected', error: 'login_required' });
  });

  it('passes Retry-After along, as seconds or as an HTTP date', async () => {
    expect(await classifyRefreshResponse(config(), jsonResponse(429, {}, { 'Retry-After': '3' }), NOW)).toMatchObject({ retryAfterMs: 3000 });
    expect(parseRetryAfter(new Date(NOW + 5000).toUTCString(), NOW)).toBe(5000);
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
  });
});

describe('refresh request shapes', () => {
  it('form (default): RFC 6749 body with client_id, no cookies', async () => {
    const request = await buildRefreshRequest(config(), 'rt-1');
    expect(request.method).toBe('POST');
    expect(request.url).toBe('https://app.test/oauth/token');
    expect(request.headers.get('Content-Type')).toMatch(/^application\/x-www-form-urlencoded/);
    expect(request.credentials).toBe('omit');
    expect(Object.fromEntries(new URLSearchParams(await request.text()))).toEqual({ grant_type: 'refresh_token', refresh_token: 'rt-1', client_id: 'app' });
  });

  it('json', async () => {
    const request = await buildRefreshRequest(config({ refreshRequest: 'json' }), 'rt-1');
    expect(request.headers.get('Content-Type')).toBe('application/json');
    expect(await request.json()).toEqual({ grant_type: 'refresh_token', refresh_token: 'rt-1', client_id: 'app' });
  });

  it('header: the refresh token as a bearer credential, not in the body', async () => {
    const request = await buildRefreshRequest(config({ refreshRequest: 'header' }), 'rt-1');
    expect(request.headers.get('Authorization')).toBe('Bearer rt-1');
    expect(await request.text()).toBe('grant_type=refresh_token&client_id=app');
  });

  it('custom builder and parser', async () => {
    const custom = config({
      refreshRequest: (token, { tokenEndpoint }) => new Request(`${tokenEndpoint}?custom=1`, { method: 'POST', body: `token=${token}` }),
      parseRefreshResponse: async (response) => {
        const body = (await response.json()) as { data: { token: string } };
        return { access_token: body.data.token, expires_in: 60 };
      },
    });
    const request = await buildRefreshRequest(custom, 'rt-9');
    expect(request.url).toBe('https://app.test/oauth/token?custom=1');
    expect(await request.text()).toBe('token=rt-9');
    const outcome = await classifyRefreshResponse(custom, jsonResponse(200, { data: { token: 'from-custom' } }), NOW);
    expect(outcome).toMatchObject({ kind: 'ok', tokens: { accessToken: 'from-custom', expiresAt: NOW + 60_000 } });
  });
});

describe('requestRefresh', () => {
  afterEach(() => vi.useRealTimers());

  it('turns a network error into a passing failure', async () => {
    const outcome = await requestRefresh(config(), async () => Promise.reject(new TypeError('Failed to fetch')), 'rt', () => NOW);
    expect(outcome).toEqual({ kind: 'transient', reason: 'network error: Failed to fetch' });
  });

  it('looks a discovered token endpoint up first; a failed lookup is a passing failure, and nothing is sent', async () => {
    const sent: string[] = [];
    const fetchFn = async (input: RequestInfo | URL) => {
      sent.push((input as Request).url);
      return new Response(JSON.stringify({ access_token: 'a' }), { headers: { 'Content-Type': 'application/json' } });
    };
    const found = await requestRefresh({ ...config(), tokenEndpoint: async () => 'https://id.test/token' }, fetchFn, 'rt', () => NOW);
    expect([found.kind, sent]).toEqual(['ok', ['https://id.test/token']]);
    const lost = await requestRefresh({ ...config(), tokenEndpoint: () => Promise.reject(new TypeError('Failed to fetch')) }, fetchFn, 'rt', () => NOW);
    expect(lost).toEqual({ kind: 'transient', reason: 'network error: Failed to fetch' });
    expect(sent).toHaveLength(1);
  });

  it('counts expires_in from when the request left: a slow answer never makes the token outlive the server\'s view of it', async () => {
    let clock = NOW;
    const slow = async () => {
      clock += 1_000; // the server issued the token, then took a second to answer
      return new Response(JSON.stringify({ access_token: 'a', expires_in: 60 }), { headers: { 'Content-Type': 'application/json' } });
    };
    const outcome = await requestRefresh(config(), slow, 'rt', () => clock);
    expect(outcome).toMatchObject({ kind: 'ok', tokens: { expiresAt: NOW + 60_000 } });
  });

  it('aborts a request that hangs after refreshTimeoutMs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    let signal: AbortSignal | undefined;
    const hanging = (input: RequestInfo | URL) =>
      new Promise<Response>((_, reject) => {
        signal = (input as Request).signal;
        signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      });
    const pending = requestRefresh(config({ refreshTimeoutMs: 4000 }), hanging, 'rt', () => NOW);
    await vi.advanceTimersByTimeAsync(3999);
    expect(signal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await pending).toEqual({ kind: 'transient', reason: 'token endpoint: no answer in 4000 ms' });
  });
});
