// src/sw.ts — your service worker. The Vite plugin (vite.config.ts) builds it into /sw.js.
import { installTokenProxy, offlineOutbox, oidcSignIn } from 'sw-token-proxy/sw';

installTokenProxy({
  // Where the access token may go: same-origin path prefixes, or exact { origin, pathPrefix } pairs.
  api: ['/api', { origin: 'https://api.example.com', pathPrefix: '/v1' }],
  // The worker runs the sign-in (OIDC code + PKCE); the token and revocation endpoints come from discovery.
  signIn: oidcSignIn({
    issuer: 'https://id.example.com',
    clientId: 'my-spa',
    redirectUri: '/callback',
    scope: 'openid offline_access',
  }),
  // Optional features are functions to import: a worker ships only the ones it uses.
  outbox: offlineOutbox(), // API writes made offline are kept and replayed later with a fresh token
});
