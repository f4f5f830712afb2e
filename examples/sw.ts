// sw.ts — your service worker. Bundle it as a classic script and serve it at /sw.js.
import { installTokenProxy } from 'sw-token-proxy/sw';

installTokenProxy({
  // Where the access token may go: same-origin path prefixes, or exact { origin, pathPrefix } pairs.
  api: ['/api', { origin: 'https://api.example.com', pathPrefix: '/v1' }],
  tokenEndpoint: 'https://auth.example.com/oauth/token',
  revocationEndpoint: 'https://auth.example.com/oauth/revoke',
  clientId: 'my-spa',
});
