// sw.ts — your service worker. Bundle it as a classic script and serve it at /sw.js.
import { installTokenProxy, offlineOutbox } from 'sw-token-proxy/sw';

installTokenProxy({
  // Where the access token may go: same-origin path prefixes, or exact { origin, pathPrefix } pairs.
  api: ['/api', { origin: 'https://api.example.com', pathPrefix: '/v1' }],
  tokenEndpoint: 'https://auth.example.com/oauth/token',
  revocationEndpoint: 'https://auth.example.com/oauth/revoke',
  clientId: 'my-spa',
  // Optional features are functions to import: a worker ships only the ones it uses.
  outbox: offlineOutbox(), // API writes made offline are kept and replayed later with a fresh token
});
