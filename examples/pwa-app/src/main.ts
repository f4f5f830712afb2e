// The app's page: the token proxy for sessions and API calls, vite-plugin-pwa's prompt for updates.
import { registerTokenProxy, type TokenResponse } from 'sw-token-proxy/client';
import { registerSW } from 'virtual:pwa-register';

const $ = (id: string) => document.getElementById(id)!;
const show = (value: unknown) => ($('out').textContent = typeof value === 'string' ? value : JSON.stringify(value));

// Prompt for updates: the new worker waits until the user says so.
const updateSW = registerSW({
  onNeedRefresh: () => ($('update').hidden = false),
});
$('reload').addEventListener('click', () => void updateSW(true));

// Before the first API call: resolves once the worker controls this page.
const proxy = await registerTokenProxy('/sw.js');
const showStatus = async () => {
  const { loggedIn } = await proxy.status();
  $('status').textContent = loggedIn ? 'logged in' : 'logged out';
};
proxy.on('logged-in', () => void showStatus());
proxy.on('logged-out', () => void showStatus());
// Writes made offline, delivered later: told apart from the answers above.
proxy.on('replayed', ({ entry, status }) => {
  $('deliveries').append(Object.assign(document.createElement('li'), { textContent: `delivered ${entry.method} ${new URL(entry.url).pathname}: ${status}` }));
});
await showStatus();

$('login').addEventListener('click', async () => {
  // The app's own login request (a password grant at the test server); the worker keeps the tokens.
  const response = await fetch('/oauth/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: 'alice', password: 'alice-password' }),
  });
  await proxy.login((await response.json()) as TokenResponse);
});
$('profile').addEventListener('click', async () => {
  const response = await fetch('/api/profile').catch(() => null);
  show(response ? { status: response.status, body: await response.json() } : 'offline');
});
$('note').addEventListener('click', async () => {
  const response = await fetch('/api/notes', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'hello' }) });
  show({ status: response.status, body: await response.json() });
});
$('logout').addEventListener('click', () => void proxy.logout());
document.body.dataset['ready'] = 'true';
