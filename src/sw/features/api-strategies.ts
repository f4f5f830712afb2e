import { invalidConfig, type StrategiesFeature } from '../feature.js';
import { defineFeature, type StrategiesContext, type StrategiesRuntime } from '../feature-contracts.js';
import type { Session } from '../session.js';

/** The part of a workbox `Strategy` (workbox-strategies) that is used here: any strategy fits. */
export interface StrategyLike {
  handle(options: { event: FetchEvent; request: Request }): Promise<Response>;
  /** The strategy's workbox plugins: ours is added, so it runs on every fetch and cache access of the strategy. */
  plugins: unknown[];
  cacheName: string;
}

export interface ApiRoute {
  /** Which API GETs this route serves (workbox's `matchCallback` shape). Only requests in the `api` allow-list are asked. */
  match: (context: { url: URL; request: Request; event: FetchEvent }) => boolean;
  strategy: StrategyLike;
}

/** The session's id in every cache key: a cached answer is found only by the session that fetched it. */
const SESSION_PARAM = 'sw-token-proxy-session';

/**
 * workbox strategies on API routes, with tokens, for `installTokenProxy({ strategies: apiStrategies(routes) })`.
 * A matching API GET is answered by the route's strategy (NetworkFirst, StaleWhileRevalidate, ...) with a
 * workbox plugin of ours in it: every fetch it makes carries the session's token (refreshed when due, and
 * refreshed and sent once more when the API rejects it), its cache keys name the session, and its caches
 * are deleted when the session ends — an authorized answer is never served from a cache to another session.
 * A separate export: a worker without it ships none of it.
 */
export function apiStrategies(routes: readonly ApiRoute[]): StrategiesFeature {
  if (!Array.isArray(routes)) invalidConfig('strategies', 'takes apiStrategies([{ match, strategy }, ...])');
  routes.forEach(({ match, strategy }, i) => {
    if (typeof match !== 'function') invalidConfig(`strategies[${i}].match`, 'must be a function');
    if (typeof strategy?.handle !== 'function' || !Array.isArray(strategy.plugins)) invalidConfig(`strategies[${i}].strategy`, 'must be a workbox strategy');
  });

  return defineFeature('strategies', ({ engine, sendAuthorized, isTokenRejected, dpop }: StrategiesContext): StrategiesRuntime => {
    const session = async () => engine.ready() ?? (await engine.sessionForRequest());
    const withToken = async (request: Request, current: Session) => {
      const headers = new Headers(request.headers);
      headers.set('Authorization', `${current.tokenType} ${current.accessToken}`);
      if (current.tokenType === 'DPoP' && dpop) headers.set('DPoP', await dpop.proof(request.method, request.url, current.accessToken));
      return new Request(request, { headers });
    };
    const plugin = {
      async requestWillFetch({ request }: { request: Request }): Promise<Request> {
        const current = await session();
        return current ? withToken(request, current) : request;
      },
      async fetchDidSucceed({ request, response }: { request: Request; response: Response }): Promise<Response> {
        const used = request.headers.get('Authorization')?.replace(/^\S+ /, '');
        if (used === undefined) return response;
        // A DPoP server asking for a nonce answers 401 too: sendAuthorized follows it.
        const nonce = dpop !== null && response.status === 401 && /use_dpop_nonce/.test(response.headers.get('WWW-Authenticate') ?? '');
        if (!nonce && !isTokenRejected(response)) return response;
        const next = nonce ? await session() : await engine.sessionAfterRejection(used);
        if (next === null || (!nonce && next.accessToken === used)) return response;
        return sendAuthorized(() => new Request(request), next);
      },
      async cacheKeyWillBeUsed({ request }: { request: Request }): Promise<string> {
        const url = new URL(request.url);
        url.searchParams.set(SESSION_PARAM, (await session())?.id ?? 'none');
        return url.href;
      },
    };
    for (const { strategy } of routes) if (!strategy.plugins.includes(plugin)) strategy.plugins.push(plugin);
    const cacheNames = [...new Set(routes.map((route) => route.strategy.cacheName))];
    engine.onEnded(async () => {
      await Promise.all(cacheNames.map((name) => caches.delete(name)));
    });

    return {
      handle(event) {
        const { request } = event;
        if (request.method !== 'GET') return undefined; // writes are the proxy's (and the outbox's) own
        const url = new URL(request.url);
        const route = routes.find((candidate) => candidate.match({ url, request, event }));
        return route?.strategy.handle({ event, request });
      },
    };
  });
}
