import { generateRandomCodeVerifier, generateRandomNonce, generateRandomState } from 'oauth4webapi';
import { messageOf, TokenProxyError } from '../../../shared/errors.js';
import { absoluteUrl, invalidConfig, positive, type SignInFeature } from '../../feature.js';
import { defineFeature, type SignInContext, type SignInRuntime, type SignInSession } from '../../feature-contracts.js';
import { authorizationUrl, exchangeCode, RESERVED_PARAMS, type Provider } from './authorization.js';
import { createDiscovery } from './discovery.js';
import { createTransactionStore } from './transactions.js';

export interface OidcSignInOptions {
  /** The provider's issuer URL; its `/.well-known/openid-configuration` says the rest. `https:` (or `http:` on a loopback host). */
  issuer: string;
  /** This app's (public) client id at the provider. */
  clientId: string;
  /** Where the provider sends the browser back: a URL of the worker's origin, within its scope, registered at the provider. */
  redirectUri: string;
  /** Default `'openid'`; add `offline_access` where the provider issues refresh tokens only for it. */
  scope?: string;
  /** Where the provider's logout sends the browser back (`logout({ endSession: true })`). Default: the app's root (the registration scope). */
  postLogoutRedirectUri?: string;
  /** More authorization request parameters for every sign-in (`audience`, `ui_locales`, ...). */
  params?: Record<string, string>;
  /** A sign-in not completed within this long is refused at the callback. Default 600 (10 min). */
  transactionLifetimeSeconds?: number;
  /** How long the discovery document is used before it is fetched again (and at once after a failed request). Default 86 400 (24 h). */
  discoveryCacheSeconds?: number;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
/** The query parameter of our own hop to the provider's logout (see `endSession`). */
const LOGOUT_HOP = 'sw-token-proxy-logout';

/** A failure on the provider's side (discovery, the code exchange, what it answered) as a typed error; typed ones stay as they are. */
const signInFailed = (error: unknown): TokenProxyError =>
  error instanceof TokenProxyError ? error : new TokenProxyError('sign-in-failed', messageOf(error), { cause: error });

function checkParams(params: unknown, option: string): Record<string, string> {
  if (params === undefined) return {};
  if (typeof params !== 'object' || params === null) invalidConfig(option, 'must be an object of strings');
  for (const [name, value] of Object.entries(params)) {
    if (typeof value !== 'string') invalidConfig(option, `${name} must be a string`);
    if (RESERVED_PARAMS.has(name)) invalidConfig(option, `cannot set ${name}: the sign-in sets it`);
  }
  return params as Record<string, string>;
}

/**
 * Sign-in run by the worker for `installTokenProxy({ signIn: oidcSignIn(options) })`: OpenID Connect
 * authorization code + PKCE (oauth4webapi) with discovery. The worker makes the state, nonce and code
 * verifier, answers the browser's return to `redirectUri` itself (checks, exchanges the code, checks the
 * ID token, stores the session, tells every tab) and redirects to `returnTo`: the page never holds the
 * code, the verifier or a token. `tokenEndpoint` and `revocationEndpoint` then come from discovery
 * unless the config names them. A separate export: a worker without it ships none of it.
 * Throws `TokenProxyError('invalid-config')` naming the option.
 */
export function oidcSignIn(options: OidcSignInOptions): SignInFeature {
  if (typeof options !== 'object' || options === null) invalidConfig('signIn', 'takes oidcSignIn({ issuer, clientId, redirectUri })');
  let issuer: URL;
  try {
    issuer = new URL(options.issuer);
  } catch {
    return invalidConfig('signIn.issuer', `must be a URL, got ${String(options.issuer)}`);
  }
  // oauth4webapi refuses plain HTTP unless told; we tell it only for a provider on this machine.
  const insecure = issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname);
  if (issuer.protocol !== 'https:' && !insecure) invalidConfig('signIn.issuer', 'must be https: (http: only on a loopback host)');
  if (typeof options.clientId !== 'string' || options.clientId === '') invalidConfig('signIn.clientId', 'must be a non-empty string');
  if (options.scope !== undefined && typeof options.scope !== 'string') invalidConfig('signIn.scope', 'must be a string');
  const params = checkParams(options.params, 'signIn.params');
  const lifetimeMs = positive(options.transactionLifetimeSeconds, 'signIn.transactionLifetimeSeconds', 600, 1) * 1000;
  const discoveryMs = positive(options.discoveryCacheSeconds, 'signIn.discoveryCacheSeconds', 86_400) * 1000;
  const scope = options.scope ?? 'openid';

  return defineFeature('signIn', (context: SignInContext): SignInRuntime => {
    const { origin, now } = context;
    const redirectUri = absoluteUrl(options.redirectUri, 'signIn.redirectUri', origin);
    if (new URL(redirectUri).origin !== origin) invalidConfig('signIn.redirectUri', 'must be a URL of the worker\'s origin: the worker answers it');
    const postLogoutRedirectUri = absoluteUrl(options.postLogoutRedirectUri ?? context.appUrl, 'signIn.postLogoutRedirectUri', origin);
    const redirect = new URL(redirectUri);
    const discovery = createDiscovery({ issuer, db: context.db, fetch: context.fetch, now, cacheMs: discoveryMs, insecure });
    const transactions = createTransactionStore(context.db, now, lifetimeMs);
    /** Provider logout URLs waiting for the page to come through our hop, by one-time id. */
    const logouts = new Map<string, string>();

    async function provider(): Promise<Provider> {
      return {
        as: await discovery.metadata(),
        client: { client_id: options.clientId },
        fetch: context.fetch,
        now,
        insecure,
        dpopKeys: context.dpop?.keyPair,
      };
    }

    const isRedirect = (url: URL) => url.origin === redirect.origin && url.pathname === redirect.pathname;

    /** The callback, whoever saw it: a session, or a typed error kept for the page; where to land either way. */
    async function complete(callback: URL, engine: SignInSession): Promise<string> {
      const state = callback.searchParams.get('state') ?? '';
      const taken = await transactions.take(state).catch((error: unknown) => {
        engine.report('storage-unavailable', `the sign-in could not be completed: storage failed: ${messageOf(error)}`);
        return null;
      });
      if (taken === null) return context.appUrl;
      if (!('found' in taken)) {
        const why = taken.missing === 'expired' ? 'it expired' : 'no sign-in started here has its state (replayed, forged, or already used)';
        engine.report('sign-in-invalid', `a sign-in callback was refused, nothing was exchanged: ${why}`);
        return context.appUrl;
      }
      const record = taken.found;
      try {
        const { tokens, serverTime } = await exchangeCode(await provider(), callback, record, redirectUri);
        await engine.login(tokens, serverTime);
      } catch (error) {
        const typed = signInFailed(error);
        engine.report(typed.code, typed.message);
        if (typed.code === 'sign-in-failed') discovery.forget(); // the provider may have moved its endpoints
      }
      return record.returnTo;
    }

    return {
      clientId: options.clientId,
      async tokenEndpoint() {
        const endpoint = context.configured.tokenEndpoint ?? (await discovery.metadata()).token_endpoint;
        if (endpoint === undefined) throw new TokenProxyError('sign-in-failed', `the provider ${issuer.href} names no token_endpoint`);
        return endpoint;
      },
      revocationEndpoint: async () => context.configured.revocationEndpoint ?? (await discovery.metadata()).revocation_endpoint,
      failed: () => discovery.forget(),

      async start(input) {
        const { returnTo, prompt, loginHint, params: extra } = checkSignInOptions(input, origin);
        const record = { state: generateRandomState(), nonce: generateRandomNonce(), codeVerifier: generateRandomCodeVerifier(), returnTo, createdAt: now() };
        let url: string;
        try {
          url = await authorizationUrl(await provider(), { redirectUri, scope, record, prompt, loginHint, params: { ...params, ...extra } });
        } catch (error) {
          throw signInFailed(error); // discovery failed (network, timeout, a bad document): the provider's failure, not storage's
        }
        await transactions.put(record);
        return url;
      },

      navigation(request, engine) {
        const url = new URL(request.url);
        if (request.method !== 'GET' || !isRedirect(url)) return undefined;
        const hop = url.searchParams.get(LOGOUT_HOP);
        if (hop !== null) {
          const target = logouts.get(hop) ?? postLogoutRedirectUri; // a worker restarted meanwhile: the local logout is done
          logouts.delete(hop);
          return Promise.resolve(Response.redirect(target, 303));
        }
        // A 303 to returnTo: the history entry keeps the app's URL, never the code.
        return complete(url, engine).then((landing) => Response.redirect(landing, 303));
      },

      async complete(href, engine) {
        const url = new URL(href);
        return isRedirect(url) && url.searchParams.has('state') ? complete(url, engine) : null;
      },

      async endSession(idToken) {
        const as = await discovery.metadata().catch(() => undefined);
        if (!as?.end_session_endpoint) return undefined;
        const url = new URL(as.end_session_endpoint);
        if (idToken !== undefined) url.searchParams.set('id_token_hint', idToken);
        url.searchParams.set('client_id', options.clientId);
        url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri);
        // The page goes through our hop, so the ID token in that URL never reaches page script.
        const id = context.newId();
        logouts.set(id, url.href);
        const hop = new URL(redirectUri);
        hop.searchParams.set(LOGOUT_HOP, id);
        return hop.href;
      },
    };
  });
}

/** The page's `signIn()` options, checked: they come from page script. */
function checkSignInOptions(input: unknown, origin: string): { returnTo: string; prompt: string | undefined; loginHint: string | undefined; params: Record<string, string> } {
  const refuse = (field: string, message: string): never => {
    throw new TokenProxyError('bad-message', `signIn: ${field} ${message}`, { field });
  };
  if (typeof input !== 'object' || input === null) return refuse('options', 'must be an object');
  const { returnTo, prompt, loginHint, params } = input as Record<string, unknown>;
  let landing: URL | undefined;
  try {
    landing = new URL(String(returnTo), origin);
  } catch {
    // refused below
  }
  if (typeof returnTo !== 'string' || landing?.origin !== origin) return refuse('returnTo', 'must be a URL of this origin');
  for (const [field, value] of [['prompt', prompt], ['loginHint', loginHint]] as const) {
    if (value !== undefined && typeof value !== 'string') refuse(field, 'must be a string');
  }
  let extra: Record<string, string> = {};
  try {
    extra = checkParams(params, 'params');
  } catch (error) {
    refuse('params', messageOf(error).replace(/^sw-token-proxy config: params /, ''));
  }
  return { returnTo: landing.href, prompt: prompt as string | undefined, loginHint: loginHint as string | undefined, params: extra };
}
