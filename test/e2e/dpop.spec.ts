import type { Page } from '@playwright/test';
import { call, events, expect, goOffline, openTab, openTabs, test } from './helpers.js';

const captureLogin = (page: Page) =>
  page.evaluate(async () => {
    const response = await fetch('/oauth/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&username=alice&password=alice-password',
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  });

test.describe('DPoP (RFC 9449), against a server that requires nonces', () => {
  test.use({ serverOptions: { dpop: true, dpopNonce: true, accessTokenTtlSeconds: 3 } });

  test('login, API calls, refresh and offline replay all carry proofs; the token alone is useless', async ({ context, server }) => {
    const [tab, other] = (await openTabs(2, context, server, { dpop: true, capture: true, outbox: {} })) as [Page, Page];
    const login = await captureLogin(tab);
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ token_type: 'DPoP' });
    expect(login.body['access_token']).toBeUndefined();
    // the first token request was asked for a nonce and sent again with it
    const tokenRequests = server.requests.filter((r) => r.path === '/oauth/token');
    expect(tokenRequests.map((r) => r.dpop)).toEqual([true, true]);

    expect((await call(other, '/api/data')).status).toBe(200);
    const apiCalls = server.apiRequests();
    expect(apiCalls.at(-1)).toMatchObject({ dpop: true, tokenValid: true });
    expect(apiCalls.at(-1)!.authorization).toMatch(/^DPoP at-/);

    // A stolen access token cannot be used without the key.
    const stolen = apiCalls.at(-1)!.authorization!.slice('DPoP '.length);
    expect((await fetch(`${server.origin}/api/data`, { headers: { Authorization: `Bearer ${stolen}` } })).status).toBe(401);
    expect((await fetch(`${server.origin}/api/data`, { headers: { Authorization: `DPoP ${stolen}` } })).status).toBe(401);

    // Refresh with a proof (the refresh token is bound to the key too).
    const { expiresAt } = await tab.evaluate(() => window.tp.proxy.status());
    await tab.waitForFunction((t) => Date.now() >= t, expiresAt!);
    expect((await call(tab, '/api/data')).status).toBe(200);
    expect(server.stats).toMatchObject({ refreshGrants: 1, reuseDetections: 0 });
    expect(server.requests.filter((r) => r.body?.includes('grant_type=refresh_token')).every((r) => r.dpop)).toBe(true);
    await expect.poll(async () => (await events(other)).map((e) => e.type)).toContain('refreshed');

    // A write queued offline is replayed with a proof.
    await goOffline(context, tab);
    const queued = await call(tab, '/api/notes', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"n":1}' });
    expect(queued.status).toBe(202);
    await context.setOffline(false);
    await expect.poll(() => server.apiRequests().filter((r) => r.method === 'POST' && r.tokenValid).length).toBe(1);
    expect(server.apiRequests().filter((r) => r.method === 'POST').at(-1)).toMatchObject({ dpop: true, tokenValid: true });
  });
});

test('a DPoP token is refused at login when the worker is not configured for DPoP', async ({ context, server }) => {
  const tab = await openTab(context, server);
  const result = await tab.evaluate(() => window.tp.attempt(() => window.tp.proxy.login({ access_token: 'x', token_type: 'DPoP', expires_in: 60 })));
  expect(result).toMatchObject({ error: { code: 'invalid-token-response', field: 'token_type' } });
});
