// app.ts — your page. Register the worker before any code that calls the API.
import { registerTokenProxy, TokenProxyError, type TokenResponse } from 'sw-token-proxy/client';

const proxy = await registerTokenProxy('/sw.js');

// After your own login flow (authorization code + PKCE, ...), hand the token response to the worker.
// From here on the page never needs the tokens: the worker adds them to every API call.
export async function completeLogin(tokenResponse: TokenResponse): Promise<void> {
  try {
    await proxy.login(tokenResponse);
  } catch (error) {
    if (error instanceof TokenProxyError && error.code === 'invalid-token-response') {
      console.error(`the token endpoint sent something odd in ${error.field}`);
    }
    throw error;
  }
}

// Every tab hears this, whichever tab or refresh ended the session.
proxy.on('logged-out', ({ reason }) => {
  if (reason !== 'user') showLoginScreen(`Your session ended (${reason}). Please sign in again.`);
});

// Writes made offline are kept by the worker and delivered later; tell the user what happened to them.
proxy.on('replay-failed', ({ entry, status, reason }) => {
  console.warn(`could not deliver ${entry.method} ${entry.url}: ${reason} ${status ?? ''}`);
});

// API calls are plain fetches: no token handling in the page at all.
export async function loadProfile(): Promise<unknown> {
  const response = await fetch('/api/profile');
  return response.json();
}

export async function logout(): Promise<void> {
  await proxy.logout(); // every tab logs out; the refresh token is revoked (RFC 7009)
}

const { loggedIn, expiresAt } = await proxy.status(); // never contains a token
console.log(loggedIn ? `session until ${new Date(expiresAt ?? 0).toISOString()}` : 'logged out');

declare function showLoginScreen(message: string): void;
