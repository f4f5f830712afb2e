/**
 * The HTML pages of both test providers (the TokenServer's authorize endpoint and the interactions of the
 * real oidc-provider), with the same selectors so one browser test helper signs in at either:
 *
 *   form#login, input#username, input#password, button#sign-in, button#cancel, [role=alert]#error
 *   logout (real provider): button#sign-out, button#stay-signed-in
 *
 * No external resources (fonts, scripts): tests run offline.
 */
import { escapeHtml } from './http.js';

const STYLE = 'body{font:16px system-ui,sans-serif;max-width:22rem;margin:3rem auto}label,input,button{display:block;width:100%;margin:.4rem 0}#error{color:#b00020}';

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

function hiddenInputs(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
}

export interface LoginPage {
  /** Where the form posts. */
  action: string;
  /** Who is asking (shown to the user). */
  client: string;
  hidden: Record<string, string>;
  /** Pre-filled user name (`login_hint`, or what was typed before a wrong password). */
  username?: string | undefined;
  error?: string | undefined;
}

export function loginPage({ action, client, hidden, username, error }: LoginPage): string {
  return page(
    'Sign in',
    `<h1>Sign in</h1><p>to continue to <strong id="client">${escapeHtml(client)}</strong></p>` +
      (error ? `<p id="error" role="alert">${escapeHtml(error)}</p>` : '') +
      `<form id="login" method="post" action="${escapeHtml(action)}">${hiddenInputs(hidden)}` +
      `<label for="username">User name</label><input id="username" name="username" autocomplete="username" required value="${escapeHtml(username ?? '')}"${username ? '' : ' autofocus'}>` +
      `<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required${username ? ' autofocus' : ''}>` +
      `<button id="sign-in" type="submit" name="action" value="sign-in">Sign in</button>` +
      `<button id="cancel" type="submit" name="action" value="cancel" formnovalidate>Cancel</button></form>`,
  );
}

export function errorPage(error: string, description: string): string {
  return page('Error', `<h1 id="error-code">${escapeHtml(error)}</h1><p id="error" role="alert">${escapeHtml(description)}</p>`);
}

export function signedOutPage(): string {
  return page('Signed out', '<h1 id="signed-out">You are signed out</h1>');
}

/**
 * The logout confirmation: `form` is the provider's form (it carries the anti-forgery field). With `auto`
 * the page submits it at once as a "yes"; a browser without script sees the buttons.
 */
export function logoutPage(form: string, auto: boolean): string {
  const withYes = auto ? form.replace('</form>', '<input type="hidden" name="logout" value="yes"></form>') : form;
  return page(
    'Sign out',
    `<h1>Sign out?</h1>${withYes}` +
      `<button id="sign-out" type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>` +
      `<button id="stay-signed-in" type="submit" form="op.logoutForm">No, stay signed in</button>` +
      (auto ? '<script>document.forms[0].submit()</script>' : ''),
  );
}
