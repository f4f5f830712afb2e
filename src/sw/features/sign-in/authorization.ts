import {
  allowInsecureRequests,
  AuthorizationResponseError,
  authorizationCodeGrantRequest,
  calculatePKCECodeChallenge,
  clockSkew,
  customFetch,
  DPoP,
  isDPoPNonceError,
  None,
  processAuthorizationCodeResponse,
  validateAuthResponse,
  type AuthorizationServer,
  type Client,
  type TokenEndpointResponse,
} from 'oauth4webapi';
import { messageOf, TokenProxyError } from '../../../shared/errors.js';
import { serverTime } from '../../http.js';
import type { SignInRecord } from '../../storage/database.js';
import { providerFetch } from './provider-fetch.js';

/*
 * The authorization code flow's two halves, as oauth4webapi does them (PKCE, the authorization response
 * checks, the code grant, the ID token claims): nothing here is written by hand but the URL's parameters.
 */

/** The provider and this client, as the flow needs them. */
export interface Provider {
  as: AuthorizationServer;
  client: Client;
  fetch: typeof fetch;
  /** Plain `http:` accepted (loopback issuers only). */
  insecure: boolean;
  now: () => number;
  /** The DPoP key pair when `dpopProofs()` is on: the code exchange binds the tokens to it. */
  dpopKeys: (() => Promise<CryptoKeyPair>) | undefined;
}

/** Parameters the flow sets itself: `params` from the config or the page cannot replace them. */
export const RESERVED_PARAMS: ReadonlySet<string> = new Set([
  'client_id', 'response_type', 'redirect_uri', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'prompt', 'login_hint',
]);

export interface AuthorizationRequest {
  redirectUri: string;
  scope: string;
  record: SignInRecord;
  prompt?: string | undefined;
  loginHint?: string | undefined;
  params: Record<string, string>;
}

/** The URL the page navigates to. */
export async function authorizationUrl({ as, client }: Provider, request: AuthorizationRequest): Promise<string> {
  if (!as.authorization_endpoint) throw new TokenProxyError('sign-in-failed', `the provider ${as.issuer} names no authorization_endpoint`);
  const url = new URL(as.authorization_endpoint);
  const set = (name: string, value: string | undefined) => value !== undefined && url.searchParams.set(name, value);
  for (const [name, value] of Object.entries(request.params)) set(name, value);
  set('client_id', client.client_id);
  set('response_type', 'code');
  set('redirect_uri', request.redirectUri);
  set('scope', request.scope);
  set('state', request.record.state);
  set('nonce', request.record.nonce);
  set('code_challenge', await calculatePKCECodeChallenge(request.record.codeVerifier));
  set('code_challenge_method', 'S256');
  set('prompt', request.prompt);
  set('login_hint', request.loginHint);
  return url.href;
}

/**
 * Checks the callback (`state`, `iss` when the provider says it sends it, error answers) against the
 * sign-in it belongs to, then exchanges the code once. Throws `TokenProxyError`: `sign-in-rejected`
 * (the provider said no), `sign-in-invalid` (nothing was exchanged), `sign-in-failed` (the exchange or
 * the ID token check failed).
 */
export async function exchangeCode(
  provider: Provider,
  callback: URL,
  record: SignInRecord,
  redirectUri: string,
): Promise<{ tokens: TokenEndpointResponse; serverTime: number | undefined }> {
  const { as, client } = provider;
  let params: URLSearchParams;
  try {
    params = validateAuthResponse(as, client, callback, record.state);
  } catch (error) {
    if (error instanceof AuthorizationResponseError) {
      const said = error.error_description ? `${error.error} (${error.error_description})` : error.error;
      throw new TokenProxyError('sign-in-rejected', `the provider refused the sign-in: ${said}`, { cause: error });
    }
    throw new TokenProxyError('sign-in-invalid', `the sign-in callback is not valid: ${messageOf(error)}`, { cause: error });
  }
  const dpop = provider.dpopKeys && DPoP(client, await provider.dpopKeys());
  const exchange = async () => {
    const response = await authorizationCodeGrantRequest(as, client, None(), params, redirectUri, record.codeVerifier, {
      ...(dpop ? { DPoP: dpop } : {}),
      [allowInsecureRequests]: provider.insecure,
      [customFetch]: providerFetch(provider.fetch),
    });
    // The ID token's exp/iat are on the provider's clock: tell oauth4webapi how far ours is off.
    const time = serverTime(response);
    const checked = time === undefined ? client : { ...client, [clockSkew]: Math.round((time - provider.now()) / 1000) };
    return { tokens: await processAuthorizationCodeResponse(as, checked, response, { expectedNonce: record.nonce, requireIdToken: true }), serverTime: time };
  };
  try {
    try {
      return await exchange();
    } catch (error) {
      // The provider asked for a DPoP nonce before looking at the code (RFC 9449 §8): the code is unused.
      if (dpop && isDPoPNonceError(error)) return await exchange();
      throw error;
    }
  } catch (error) {
    throw new TokenProxyError('sign-in-failed', `the code exchange failed: ${messageOf(error)}`, { cause: error });
  }
}
