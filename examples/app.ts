// src/main.ts — your page. Register the worker before the app's first API call (with a framework:
// await it before mounting the app).
import { registerTokenProxy } from 'sw-token-proxy/client';

const proxy = await registerTokenProxy('/sw.js');

// Sign-in runs in the worker: the page navigates to the provider and comes back signed in, on
// `returnTo`. It never sees the code, the PKCE verifier or a token.
export async function signIn(): Promise<void> {
  await proxy.signIn({ returnTo: location.pathname });
}

// Every tab hears these, whichever tab (or refresh) caused them.
proxy.on('logged-in', () => showApp());
proxy.on('logged-out', ({ reason }) => {
  if (reason !== 'user') showLoginScreen(`Your session ended (${reason}). Please sign in again.`);
});
// Writes made offline are kept by the worker and delivered later; tell the user when one is not.
proxy.on('replay-failed', ({ entry, status, reason }) => {
  console.warn(`could not deliver ${entry.method} ${entry.url}: ${reason} ${status ?? ''}`);
});

// API calls are plain fetches: no token handling in the page at all.
export async function loadProfile(): Promise<unknown> {
  const response = await fetch('/api/profile');
  return response.json();
}

export async function signOut(): Promise<void> {
  // Every tab logs out, the refresh token is revoked, then the provider's own logout and back.
  await proxy.logout({ endSession: true });
}

// Never a token: who, until when, and what went wrong last (a cancelled sign-in: 'sign-in-rejected').
const { loggedIn, subject, lastError } = await proxy.status();
if (loggedIn) showApp(subject);
else showLoginScreen(lastError?.code === 'sign-in-rejected' ? 'Sign-in was cancelled.' : 'Please sign in.');

declare function showApp(user?: string): void;
declare function showLoginScreen(message: string): void;
