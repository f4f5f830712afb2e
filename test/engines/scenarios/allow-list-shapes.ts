import { SHAPES } from '../../e2e/fixture/request-shapes.js';
import type { TokenServer } from '../../server/token-server.js';
import { defineScenario, expect } from '../support/scenario.js';

export default defineScenario({
  name: `allow-list: ${SHAPES.length} request shapes → the token reaches exactly the allowed places`,
  async run(t) {
    const partner = await t.startServer({ cors: true });
    const tab = await t.openTab({ api: ['/api', { origin: partner.origin, pathPrefix: '/partner' }] });
    await tab.login();
    expect(JSON.parse((await tab.call('/api/whoami')).body)).toMatchObject({ ok: true });
    const ours = t.server.apiRequests().at(-1)!.authorization!;
    expect(ours).toMatch(/^Bearer at-/);

    const outcome: string[] = [];
    for (const shape of SHAPES) {
      const target: TokenServer = shape.at === 'self' ? t.server : partner;
      const url = `${target.origin}${shape.path}`;
      const before = target.requests.length;
      await tab.evaluate((source: string) => new Function(`return (async () => { ${source} })();`)() as Promise<void>, shape.run(url, t.server.origin));
      const seen = () => target.requests.slice(before).filter((r) => r.path === shape.path && r.method !== 'OPTIONS');
      if (shape.expect === 'not-sent') {
        await tab.call('/echo/fence'); // anything sent before this has arrived
        expect(seen(), shape.name).toEqual([]);
        outcome.push(`${shape.name}: not sent`);
        continue;
      }
      const first = await t.waitFor(`${shape.name}: the request at the server`, () => seen()[0], { timeoutMs: 5000 });
      if (shape.expect === 'token') expect(first.authorization, shape.name).toBe(ours);
      else expect(first.authorization, shape.name).toBeNull();
      outcome.push(`${shape.name}: ${first.authorization === null ? 'no token' : 'token'}`);
    }
    // The worker's own refresh request carries the refresh token in its body, never an access token.
    t.server.revokeAccessTokens();
    expect((await tab.call('/api/after-revoke')).status).toBe(200);
    const refresh = t.server.requests.find((r) => r.path === '/oauth/token' && r.body?.includes('grant_type=refresh_token'))!;
    expect(refresh.authorization).toBeNull();
    expect(t.server.stats).toMatchObject({ refreshGrants: 1, reuseDetections: 0 });
  },
});
