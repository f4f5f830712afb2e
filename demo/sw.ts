// The demo's service worker: this is the whole file a user of the library writes.
// It is bundled into a classic script and served at /sw.js (see vite.config.ts).
import { installTokenProxy, offlineOutbox } from 'sw-token-proxy/sw';

installTokenProxy({
  api: ['/api'], // requests to /api/... get the access token; nothing else ever does
  tokenEndpoint: '/oauth/token', // where the worker refreshes (refresh_token grant)
  revocationEndpoint: '/oauth/revoke', // logout() revokes the refresh token here
  refreshSkewSeconds: 5, // refresh 5 s before expiry (capped at half the token's lifetime)
  outbox: offlineOutbox(), // writes made offline are kept (202) and replayed once the network is back
});
