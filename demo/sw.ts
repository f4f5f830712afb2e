// The demo's service worker: this is the whole file a user of the library writes.
// It is bundled into a classic script and served at /sw.js (see vite.config.ts).
import { installTokenProxy, offlineOutbox, oidcSignIn } from 'sw-token-proxy/sw';

installTokenProxy({
  api: ['/api'], // requests to /api/... get the access token; nothing else ever does
  // Sign-in run by the worker: authorization code + PKCE at the provider — here the embedded test server,
  // on this very origin. Its discovery document (/.well-known/openid-configuration) names the token
  // endpoint (refreshes), the revocation endpoint (logout) and the end-session endpoint, so none is
  // written here. The worker answers /callback itself: the page never sees the code or a token.
  signIn: oidcSignIn({ issuer: self.location.origin, clientId: 'spa', redirectUri: '/callback', scope: 'openid offline_access' }),
  refreshSkewSeconds: 5, // refresh 5 s before expiry (capped at half the token's lifetime)
  outbox: offlineOutbox(), // writes made offline are kept (202) and replayed once the network is back
});
