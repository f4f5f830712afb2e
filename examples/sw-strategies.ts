// A worker that caches one API route with a workbox strategy, with tokens and per-session caches.
import { StaleWhileRevalidate } from 'workbox-strategies';
import { apiStrategies, installTokenProxy } from 'sw-token-proxy/sw';

installTokenProxy({
  api: ['/api'],
  tokenEndpoint: '/oauth/token',
  strategies: apiStrategies([
    { match: ({ url }) => url.pathname.startsWith('/api/catalog'), strategy: new StaleWhileRevalidate({ cacheName: 'catalog' }) },
  ]),
});
