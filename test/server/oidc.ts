/**
 * The OpenID provider half of the TokenServer: discovery, JWKS, the authorization endpoint with its login
 * page, the authorization code grant (PKCE S256 only) and RP-initiated logout.
 *
 * Strict as the rest of the server: unknown clients and unregistered redirect URIs get an error page,
 * never a redirect (RFC 6749 §4.1.2.1); the first presentation of a code consumes it whatever its outcome,
 * and a second one revokes the family issued from it (RFC 6749 §4.1.2). A code exchange starts a token
 * family exactly as a password login does, so rotation, reuse detection and revocation all apply.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { html, seeOther, single } from './http.js';
import type { SigningKey } from './jwt.js';
import { errorPage, loginPage, signedOutPage } from './pages.js';
import type { Family, TokenServerOptions, TokenServerStats } from './token-server.js';

export const SCOPES = ['openid', 'profile', 'email', 'offline_access', 'api'] as const;
/** The client the server knows when the `clientId` option is not set. */
export const DEFAULT_CLIENT_ID = 'spa';
const PENDING_TTL_MS = 10 * 60_000;

/** What a token endpoint answer is made of. */
export interface TokenAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** How a family starts: who signed in where, as the authorization request said. */
export interface FamilyStart {
  user: string;
  issuer: string;
  clientId: string;
  scope: string;
  /** Seconds, on the server's clock. */
  authTime: number;
  jkt?: string | undefined;
  nonce?: string | undefined;
}

/** What the OIDC endpoints need from the TokenServer. */
export interface OidcHost {
  readonly options: Pick<Required<TokenServerOptions>, 'users' | 'dpop' | 'authorizationCodeTtlSeconds' | 'idTokenTtlSeconds'> &
    Pick<TokenServerOptions, 'clientId' | 'redirectUris' | 'postLogoutRedirectUris' | 'autoApprove'>;
  readonly stats: TokenServerStats;
  readonly signingKey: SigningKey;
  /** The server's time in ms (the real time plus `clockOffsetSeconds`). */
  clock(): number;
  startFamily(start: FamilyStart): { family: Family; body: Record<string, unknown> };
  revokeFamily(family: Family): void;
  family(id: string): Family | undefined;
}

/** Parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1, RFC 9449 §10). */
export interface AuthorizationParams {
  client_id?: string;
  redirect_uri?: string;
  response_type?: string;
  response_mode?: string;
  scope?: string;
  state?: string;
  nonce?: string;
  code_challenge?: string;
  code_challenge_method?: string;
  prompt?: string;
  login_hint?: string;
  dpop_jkt?: string;
}

interface AuthorizationRequest {
  issuer: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  state?: string | undefined;
  nonce?: string | undefined;
  codeChallenge: string;
  loginHint?: string | undefined;
  dpopJkt?: string | undefined;
}

interface CodeRecord {
  request: AuthorizationRequest;
  user: string;
  authTime: number;
  expiresAt: number;
  consumed: boolean;
  family?: Family;
}

type Validated = { request: AuthorizationRequest } | { errorPage: [string, string] } | { redirect: string };

const PARAM_NAMES = ['client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'prompt', 'login_hint', 'dpop_jkt'] as const;
/** RFC 7636 §4.1: 43–128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export class OidcEndpoints {
  private readonly codes = new Map<string, CodeRecord>();
  /** Authorization requests waiting for the login form's answer, by the form's hidden `request` field. */
  private readonly pending = new Map<string, { request: AuthorizationRequest; expiresAt: number }>();

  constructor(private readonly host: OidcHost) {}

  get clientId(): string {
    return this.host.options.clientId ?? DEFAULT_CLIENT_ID;
  }

  discovery(issuer: string): Record<string, unknown> {
    this.host.stats.discoveryRequests++;
    return {
      issuer,
      authorization_endpoint: `${issuer}/oauth/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
      end_session_endpoint: `${issuer}/oauth/end-session`,
      jwks_uri: `${issuer}/oauth/jwks`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'password'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
      id_token_signing_alg_values_supported: [this.host.signingKey.alg],
      subject_types_supported: ['public'],
      scopes_supported: [...SCOPES],
      claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'sid', 'name', 'email'],
      prompt_values_supported: ['none', 'login', 'consent'],
      authorization_response_iss_parameter_supported: true,
      ...(this.host.options.dpop ? { dpop_signing_alg_values_supported: ['ES256'] } : {}),
    };
  }

  jwks(): { keys: object[] } {
    this.host.stats.jwksRequests++;
    return { keys: [this.host.signingKey.publicJwk] };
  }

  // ---- authorization endpoint --------------------------------------------------------------------

  /** GET /oauth/authorize: an error page, an error redirect, the login page, or (autoApprove) the code. */
  authorizeRequest(res: ServerResponse, query: URLSearchParams, issuer: string): void {
    this.host.stats.authorizationRequests++;
    const params: AuthorizationParams = {};
    for (const name of PARAM_NAMES) {
      const value = single(query, name);
      if (value !== undefined) params[name] = value;
      else if (query.has(name)) return html(res, 400, errorPage('invalid_request', `${name} is repeated`));
    }
    const validated = this.validate(params, issuer);
    if ('errorPage' in validated) return html(res, 400, errorPage(...validated.errorPage));
    if ('redirect' in validated) return seeOther(res, validated.redirect);
    const { request } = validated;
    const auto = this.host.options.autoApprove;
    if (auto !== undefined) return seeOther(res, this.issueCode(request, auto));
    if (new Set(params.prompt?.split(' ')).has('none')) return seeOther(res, errorRedirect(request, 'login_required', 'this server keeps no sign-in session'));
    const id = randomBytes(16).toString('base64url');
    this.pending.set(id, { request, expiresAt: this.host.clock() + PENDING_TTL_MS });
    html(res, 200, this.loginForm(id, request, request.loginHint));
  }

  /** POST /oauth/authorize/decision: the login form's answer. */
  decision(res: ServerResponse, form: URLSearchParams): void {
    const id = single(form, 'request') ?? '';
    const pending = this.pending.get(id);
    if (!pending || this.host.clock() >= pending.expiresAt) {
      this.pending.delete(id);
      return html(res, 400, errorPage('invalid_request', 'this sign-in request is unknown or has expired: start again'));
    }
    const { request } = pending;
    if (single(form, 'action') === 'cancel') {
      this.pending.delete(id);
      return seeOther(res, errorRedirect(request, 'access_denied', 'the user cancelled the sign-in'));
    }
    const username = single(form, 'username') ?? '';
    const password = this.host.options.users[username];
    if (password === undefined || password !== single(form, 'password')) {
      return html(res, 200, this.loginForm(id, request, username, 'Wrong user name or password.'));
    }
    this.pending.delete(id);
    seeOther(res, this.issueCode(request, username));
  }

  /**
   * A code without the login page, as the form would give it: the URL the browser would be redirected to
   * (with `code`, or with `error` for a request the server refuses by redirect). Throws for what the server
   * refuses with an error page (unknown client, unregistered redirect URI) and for an unknown user.
   */
  authorize(issuer: string, { user = 'alice', ...params }: AuthorizationParams & { user?: string }): string {
    const validated = this.validate({ response_type: 'code', client_id: this.clientId, code_challenge_method: 'S256', ...params }, issuer);
    if ('errorPage' in validated) throw new Error(`authorize: ${validated.errorPage.join(': ')}`);
    if ('redirect' in validated) return validated.redirect;
    if (this.host.options.users[user] === undefined) throw new Error(`authorize: unknown user ${user}`);
    return this.issueCode(validated.request, user);
  }

  private loginForm(id: string, request: AuthorizationRequest, username?: string, error?: string): string {
    return loginPage({ action: '/oauth/authorize/decision', client: request.clientId, hidden: { request: id }, username, error });
  }

  private validate(params: AuthorizationParams, issuer: string): Validated {
    // Until client and redirect URI are known good, nothing may be sent to the redirect URI.
    if (params.client_id !== this.clientId) return { errorPage: ['invalid_client', `unknown client_id ${params.client_id ?? '(none)'}`] };
    const redirectUri = params.redirect_uri;
    if (redirectUri === undefined) return { errorPage: ['invalid_request', 'redirect_uri is required'] };
    if (!this.redirectUriAllowed(redirectUri, this.host.options.redirectUris, issuer)) {
      return { errorPage: ['invalid_request', `redirect_uri ${redirectUri} is not registered for ${this.clientId}`] };
    }
    const request: AuthorizationRequest = {
      issuer,
      clientId: this.clientId,
      redirectUri,
      scope: params.scope ?? 'api',
      state: params.state,
      nonce: params.nonce,
      codeChallenge: params.code_challenge ?? '',
      loginHint: params.login_hint,
      dpopJkt: params.dpop_jkt,
    };
    const refuse = (error: string, description: string): Validated => ({ redirect: errorRedirect(request, error, description) });
    if (params.response_type === undefined) return refuse('invalid_request', 'response_type is required');
    if (params.response_type !== 'code') return refuse('unsupported_response_type', 'only response_type=code is supported');
    if (params.response_mode !== undefined && params.response_mode !== 'query') return refuse('invalid_request', 'only response_mode=query is supported');
    // RFC 7636 §4.4.1: PKCE required, and S256 only (plain is refused, as is a missing method meaning plain).
    if (params.code_challenge === undefined) return refuse('invalid_request', 'code_challenge is required (PKCE)');
    if (params.code_challenge_method !== 'S256') return refuse('invalid_request', 'code_challenge_method must be S256');
    if (!CHALLENGE.test(params.code_challenge)) return refuse('invalid_request', 'code_challenge is not a base64url SHA-256 hash');
    const scopes = request.scope.split(' ');
    const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
    if (unknown.length > 0) return refuse('invalid_scope', `unknown scope ${unknown.join(' ')}`);
    const prompt = params.prompt?.split(' ') ?? [];
    if (prompt.includes('none') && prompt.length > 1) return refuse('invalid_request', 'prompt=none cannot be combined');
    return { request };
  }

  private redirectUriAllowed(uri: string, registered: readonly string[] | undefined, issuer: string): boolean {
    if (registered !== undefined) return registered.includes(uri);
    const url = URL.canParse(uri) ? new URL(uri) : undefined;
    return url !== undefined && url.origin === issuer && url.hash === '';
  }

  private issueCode(request: AuthorizationRequest, user: string): string {
    const now = this.host.clock();
    const code = randomBytes(32).toString('base64url');
    this.codes.set(code, {
      request,
      user,
      authTime: Math.floor(now / 1000),
      expiresAt: now + this.host.options.authorizationCodeTtlSeconds * 1000,
      consumed: false,
    });
    this.host.stats.codesIssued++;
    return responseUrl(request, { code });
  }

  // ---- token endpoint: grant_type=authorization_code ----------------------------------------------

  /** `jkt`: the thumbprint of a valid DPoP proof sent with the request, if any. */
  codeGrant(fields: Record<string, string>, jkt: string | undefined): TokenAnswer {
    const { client_id: clientId, code, redirect_uri: redirectUri, code_verifier: verifier } = fields;
    if (clientId === undefined) return invalid('invalid_request', 'client_id is required for a public client');
    if (clientId !== this.clientId) return { status: 401, body: { error: 'invalid_client', error_description: 'unknown client_id' } };
    if (code === undefined) return invalid('invalid_request', 'code is required');
    const record = this.codes.get(code);
    if (!record || record.request.clientId !== clientId) return invalid('invalid_grant', 'unknown authorization code');
    if (record.consumed) {
      this.host.stats.codeReuse++;
      if (record.family) this.host.revokeFamily(record.family);
      return invalid('invalid_grant', 'authorization code presented twice: the tokens issued from it are revoked');
    }
    record.consumed = true;
    if (this.host.clock() >= record.expiresAt) return invalid('invalid_grant', 'authorization code expired');
    if (redirectUri !== record.request.redirectUri) return invalid('invalid_grant', 'redirect_uri does not match the authorization request');
    if (verifier === undefined || !VERIFIER.test(verifier)) return invalid('invalid_grant', 'code_verifier missing or malformed');
    if (createHash('sha256').update(verifier).digest('base64url') !== record.request.codeChallenge) return invalid('invalid_grant', 'code_verifier does not match the code_challenge');
    if (record.request.dpopJkt !== undefined && record.request.dpopJkt !== jkt) return invalid('invalid_grant', 'the DPoP proof key is not the one named by dpop_jkt');
    const { request } = record;
    const { family, body } = this.host.startFamily({
      user: record.user,
      issuer: request.issuer,
      clientId,
      scope: request.scope,
      authTime: record.authTime,
      jkt,
      nonce: request.nonce,
    });
    record.family = family;
    this.host.stats.codeGrants++;
    return { status: 200, body };
  }

  /** A signed ID token for the family (OIDC Core §2); `nonce` only at the code exchange (§12.2). */
  idToken(family: Family, nonce?: string): string {
    const now = Math.floor(this.host.clock() / 1000);
    const scopes = new Set(family.scope.split(' '));
    return this.host.signingKey.sign({
      iss: family.issuer,
      sub: family.user,
      aud: family.clientId,
      iat: now,
      exp: now + this.host.options.idTokenTtlSeconds,
      auth_time: family.authTime,
      sid: family.id,
      ...(nonce === undefined ? {} : { nonce }),
      ...(scopes.has('profile') ? { name: family.user[0]!.toUpperCase() + family.user.slice(1) } : {}),
      ...(scopes.has('email') ? { email: `${family.user}@example.test` } : {}),
    });
  }

  // ---- RP-initiated logout -----------------------------------------------------------------------

  /**
   * GET or POST /oauth/end-session (OIDC RP-Initiated Logout 1.0). The server keeps no browser session, so
   * what it ends is the family named by the `sid` of the `id_token_hint`; without a hint nothing is revoked.
   */
  endSession(res: ServerResponse, params: URLSearchParams, issuer: string): void {
    const hint = single(params, 'id_token_hint');
    const clientId = single(params, 'client_id');
    const postLogout = single(params, 'post_logout_redirect_uri');
    let family: Family | undefined;
    let audience: unknown;
    if (hint !== undefined) {
      // Expiry is not checked: a hint is often an expired ID token (§2).
      const claims = this.host.signingKey.verify(hint);
      if (!claims || claims['iss'] !== issuer) return html(res, 400, errorPage('invalid_request', 'id_token_hint is not an ID token of this server'));
      audience = claims['aud'];
      if (clientId !== undefined && clientId !== audience) return html(res, 400, errorPage('invalid_request', 'client_id does not match the id_token_hint'));
      family = typeof claims['sid'] === 'string' ? this.host.family(claims['sid']) : undefined;
    } else if (clientId !== undefined && clientId !== this.clientId) {
      return html(res, 400, errorPage('invalid_client', `unknown client_id ${clientId}`));
    }
    if (postLogout !== undefined) {
      if (hint === undefined && clientId === undefined) return html(res, 400, errorPage('invalid_request', 'post_logout_redirect_uri needs id_token_hint or client_id'));
      if (!this.redirectUriAllowed(postLogout, this.host.options.postLogoutRedirectUris, issuer)) {
        return html(res, 400, errorPage('invalid_request', `post_logout_redirect_uri ${postLogout} is not registered`));
      }
    }
    this.host.stats.endSessions++;
    if (family) this.host.revokeFamily(family);
    if (postLogout === undefined) return html(res, 200, signedOutPage());
    const target = new URL(postLogout);
    const state = single(params, 'state');
    if (state !== undefined) target.searchParams.set('state', state);
    seeOther(res, target.href);
  }
}

function invalid(error: string, description: string): TokenAnswer {
  return { status: 400, body: { error, error_description: description } };
}

/** The authorization response: the parameters, `state` echoed, and `iss` (RFC 9207). */
function responseUrl(request: AuthorizationRequest, params: Record<string, string>): string {
  const url = new URL(request.redirectUri);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  if (request.state !== undefined) url.searchParams.set('state', request.state);
  url.searchParams.set('iss', request.issuer);
  return url.href;
}

function errorRedirect(request: AuthorizationRequest, error: string, description: string): string {
  return responseUrl(request, { error, error_description: description });
}
