/// <reference lib="webworker" />
// The app's one service worker: workbox for the app shell, sw-token-proxy for the tokens.
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { CacheFirst } from 'workbox-strategies';
import { installTokenProxy, offlineOutbox } from 'sw-token-proxy/sw';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<string | { url: string; revision: string | null }> };

// workbox first, as vite-plugin-pwa's templates do: the proxy still answers API and token requests first.
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
// Any page of the app, offline too, from the precached shell — but never the API or OAuth routes.
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), { denylist: [/^\/(api|oauth)\//] }));
registerRoute(({ url }) => url.pathname.startsWith('/static/'), new CacheFirst({ cacheName: 'static' }));

installTokenProxy(
  { api: ['/api'], tokenEndpoint: '/oauth/token', revocationEndpoint: '/oauth/revoke', outbox: offlineOutbox() },
  { skipWaiting: false }, // the app's prompt decides when a new version takes over
);

// The prompt's "Reload": workbox-window (through virtual:pwa-register) posts this.
self.addEventListener('message', (event) => {
  if ((event.data as { type?: unknown } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});
