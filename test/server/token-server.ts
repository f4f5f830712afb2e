/**
 * A strict authorization + resource server for tests, the demo and the benchmarks.
 *
 * Refresh tokens rotate on every use and die at once: presenting one twice is reuse, which revokes the
 * whole family (every refresh and access token descended from the same login). A reuse grace period can
 * be switched on to model servers that tolerate a retry. It counts every grant, so a duplicate refresh
 * anywhere shows up as a failure.
 *
 * It is also a small OpenID provider (see oidc.ts): discovery, JWKS, authorization code + PKCE with a login
 * page, signed ID tokens, RP-initiated logout. Its clock can be set ahead or behind the real one, and
 * everything it decides and says (expiry, `iat`/`exp`, `expires_at`, the `Date` header) follows that clock.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { DpopVerifier } from './dpop.js';
import { delay, json, readBody } from './http.js';
import { SigningKey } from './jwt.js';
import { DEFAULT_CLIENT_ID, OidcEndpoints, type AuthorizationParams, type FamilyStart, type OidcHost } from './oidc.js';

/** An API path the e2e helpers GET to learn that the worker's own requests fail (goOffline); never counted as API traffic. */
export const OFFLINE_PROBE = '/api/offline-probe';

export type { AuthorizationParams } from './oidc.js';

/** form/json/header: the library's built-in shapes; custom: `X-Refresh-Token` header in, `{ data: tokens }` out. */
export type RefreshShape = 'form' | 'json' | 'header' | 'custom';

export interface TokenServerOptions {
  /** Access token lifetime. Default 60 s. */
  accessTokenTtlSeconds?: number;
  /** Refresh token lifetime (sent as `refresh_expires_in`). Default 3600 s. */
  refreshTokenTtlSeconds?: number;
  /** A rotated-away refresh token is still accepted this long (Auth0 overlap, Cognito). Default 0: strict. */
  reuseGraceSeconds?: number;
  /** Where the refresh grant must carry the refresh token. Default 'form'. */
  refreshShape?: RefreshShape;
  /**
   * When set, refresh requests must carry this `client_id` (else 401 invalid_client). It is also the one
   * client the authorization endpoint knows (default 'spa' when unset).
   */
  clientId?: string;
  /** Leave `expires_in` out of token responses (legacy sessions): the same as `expiry: 'none'`. */
  omitExpiresIn?: boolean;
  /**
   * How token responses say when the access token expires: `expires_in` (default, RFC 6749), `expires_at`
   * (absolute epoch seconds on the server's clock, instead of `expires_in`), `both`, or `none`.
   */
  expiry?: 'expires_in' | 'expires_at' | 'both' | 'none';
  /** Add a signed (ES256) OIDC `id_token` whose `sub` is the user to password-login and refresh answers. */
  idTokens?: boolean;
  /** Access tokens are RFC 9068 JWTs (ES256, `typ: at+jwt`: iss, sub, aud, client_id, scope, iat, exp, jti, cnf.jkt when bound). */
  jwtAccessTokens?: boolean;
  /**
   * The server's clock runs this many seconds ahead (+) or behind (−) the real one (`now`). Expiry checks,
   * `iat`/`exp`, `expires_at`, DPoP proof freshness and the `Date` header of every response all use it.
   */
  clockOffsetSeconds?: number;
  /** Redirect URIs the authorization endpoint accepts, matched exactly. Default: any URI on the server's origin. */
  redirectUris?: string[];
  /** `post_logout_redirect_uri`s the end-session endpoint accepts, matched exactly. Default: any on the server's origin. */
  postLogoutRedirectUris?: string[];
  /** This user signs in at once: the authorization endpoint redirects with a code, no login page. */
  autoApprove?: string;
  /** Authorization code lifetime. Default 60 s. */
  authorizationCodeTtlSeconds?: number;
  /** ID token lifetime (`exp` − `iat`). Default 3600 s. */
  idTokenTtlSeconds?: number;
  /** RFC 9449: a login with a DPoP proof binds the family to its key; bound tokens then need proofs everywhere. */
  dpop?: boolean;
  /** With `dpop`: require the server's nonce in proofs (`use_dpop_nonce` until it is sent). */
  dpopNonce?: boolean;
  /** Serve files from this folder for paths outside the API and OAuth routes. */
  staticDir?: string;
  /**
   * Serve the static files cross-origin isolated (COOP same-origin + COEP require-corp): page timers then
   * resolve to 5 µs instead of Chromium's 100 µs, which the bench's latency ratios need.
   */
  crossOriginIsolated?: boolean;
  /** Expose `/__control/*` over HTTP (for the demo page). */
  httpControl?: boolean;
  /** Answer CORS preflights on every path and allow any origin (a cross-origin API). */
  cors?: boolean;
  /** Demo users: name → password. */
  users?: Record<string, string>;
  /** The real clock (ms); the server's clock is this plus `clockOffsetSeconds`. */
  now?: () => number;
}

export type FaultKind = '503' | '500' | '429' | 'hang' | 'reset' | 'invalid_grant' | 'invalid_client' | 'slow';
export interface FaultOptions {
  /** How many requests in a row get this fault. Default 1. */
  count?: number;
  /** For 429 / 503: the `Retry-After` seconds to send. */
  retryAfterSeconds?: number;
  /** For 'slow': how long to delay the answer after the rotation was carried out. */
  delayMs?: number;
}
type Fault = { kind: FaultKind; remaining: number } & FaultOptions;
export type FaultTarget = 'refresh' | 'revoke';

export interface RequestRecord {
  at: number;
  method: string;
  path: string;
  /** The Authorization header exactly as received, or null. */
  authorization: string | null;
  /** For API routes: whether the token was live (and, for a DPoP-bound one, proven) when it arrived. */
  tokenValid?: boolean;
  /** A DPoP proof header was present. */
  dpop?: boolean;
  body?: string;
  idempotencyKey?: string;
}

export interface TokenServerStats {
  loginGrants: number;
  /** Refresh requests of any outcome that reached the token endpoint. */
  refreshRequests: number;
  /** Refresh grants carried out (a new token pair issued). */
  refreshGrants: number;
  /** Rotated-away refresh tokens presented again: each revoked a family. */
  reuseDetections: number;
  /** Rotated-away refresh tokens accepted within the grace period. */
  graceReuses: number;
  revocations: number;
  api: { authorized: number; unauthorized: number; anonymous: number };
  /** Fetches of the discovery document (either well-known path). */
  discoveryRequests: number;
  jwksRequests: number;
  /** GET /oauth/authorize, whatever the outcome. */
  authorizationRequests: number;
  /** Authorization codes issued (login form, autoApprove or `authorize()`). */
  codesIssued: number;
  /** Codes exchanged for tokens (each started a family). */
  codeGrants: number;
  /** Codes presented again after their first presentation: each revoked what was issued from it. */
  codeReuse: number;
  /** Accepted end-session requests. */
  endSessions: number;
}

/** The tokens descended from one login: they live and die together. */
export interface Family {
  id: string;
  user: string;
  revoked: boolean;
  /** JWK thumbprint of the DPoP key the family is bound to. */
  jkt?: string;
  /** The issuer (origin) the family was started at: `iss` of its ID tokens and JWT access tokens. */
  issuer: string;
  clientId: string;
  scope: string;
  /** When the user signed in, seconds on the server's clock. */
  authTime: number;
  /** Started by an OIDC code exchange with `openid` in scope: refreshes carry a new ID token. */
  openid: boolean;
  /** Started by a code exchange, which named its client: a refresh naming another client is refused. */
  clientBound: boolean;
}
interface RefreshRecord {
  family: Family;
  expiresAt: number;
  /** When it was rotated away (used), or undefined while it is the live one. */
  rotatedAt?: number;
}
interface AccessRecord {
  family: Family;
  expiresAt: number;
  revoked: boolean;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

type OptionalOptions = 'clientId' | 'staticDir' | 'redirectUris' | 'postLogoutRedirectUris' | 'autoApprove';
/** Paths every origin may call (the worker's requests to them are CORS requests when the page is elsewhere). */
const OPEN_PATHS = new Set(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/oauth/jwks', '/oauth/token', '/oauth/revoke']);
const CORS_ALLOW_HEADERS = 'Authorization, Content-Type, Idempotency-Key, DPoP, X-Refresh-Token';
/** Without this a cross-origin page or worker cannot read the server's clock or its DPoP nonce. */
const CORS_EXPOSE_HEADERS = 'Date, DPoP-Nonce';

export class TokenServer implements OidcHost {
  readonly options: Required<Omit<TokenServerOptions, OptionalOptions>> & Pick<TokenServerOptions, OptionalOptions>;
  readonly stats: TokenServerStats = TokenServer.emptyStats();
  readonly requests: RequestRecord[] = [];
  /** Every access and refresh token issued, so tests can search what a page saw for them. */
  readonly issuedTokens: string[] = [];
  private readonly refreshTokens = new Map<string, RefreshRecord>();
  private readonly accessTokens = new Map<string, AccessRecord>();
  private readonly faults: Record<FaultTarget, Fault[]> = { refresh: [], revoke: [] };
  private readonly sockets = new Set<Socket>();
  private server: Server | null = null;
  private readonly families = new Map<string, Family>();
  /** While true, every request's connection is dropped unanswered: the network is cut (see `cutNetwork`). */
  private networkCut = false;
  /** The DPoP nonce clients must echo when `dpopNonce` is on. */
  readonly dpopNonce = randomBytes(9).toString('base64url');
  /** Signs ID tokens and JWT access tokens; its public half is at /oauth/jwks. */
  readonly signingKey = new SigningKey();
  private readonly dpopVerifier = new DpopVerifier(
    () => this.clock(),
    () => (this.options.dpopNonce ? this.dpopNonce : undefined),
  );
  private readonly oidc = new OidcEndpoints(this);
  origin = '';

  constructor(options: TokenServerOptions = {}) {
    this.options = {
      accessTokenTtlSeconds: 60,
      refreshTokenTtlSeconds: 3600,
      reuseGraceSeconds: 0,
      refreshShape: 'form',
      omitExpiresIn: false,
      expiry: 'expires_in',
      idTokens: false,
      jwtAccessTokens: false,
      clockOffsetSeconds: 0,
      authorizationCodeTtlSeconds: 60,
      idTokenTtlSeconds: 3600,
      dpop: false,
      dpopNonce: false,
      httpControl: false,
      cors: false,
      crossOriginIsolated: false,
      users: { alice: 'alice-password', bob: 'bob-password' },
      now: () => Date.now(),
      ...options,
    };
  }

  private static emptyStats(): TokenServerStats {
    return {
      loginGrants: 0,
      refreshRequests: 0,
      refreshGrants: 0,
      reuseDetections: 0,
      graceReuses: 0,
      revocations: 0,
      api: { authorized: 0, unauthorized: 0, anonymous: 0 },
      discoveryRequests: 0,
      jwksRequests: 0,
      authorizationRequests: 0,
      codesIssued: 0,
      codeGrants: 0,
      codeReuse: 0,
      endSessions: 0,
    };
  }

  /** The server's time in ms: the real clock (`now`) plus `clockOffsetSeconds`. */
  clock(): number {
    return this.options.now() + this.options.clockOffsetSeconds * 1000;
  }

  /** Binds to 127.0.0.1 on a free port; resolves with the origin. */
  async listen(port = 0): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.origin;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  // ---- control interface -------------------------------------------------------------------------

  /** The next `count` requests to `target` get `kind`. Queued faults apply in order. */
  fail(target: FaultTarget, kind: FaultKind, options: FaultOptions = {}): void {
    this.faults[target].push({ kind, remaining: options.count ?? 1, ...options });
  }

  clearFaults(): void {
    this.faults.refresh.length = 0;
    this.faults.revoke.length = 0;
  }

  /**
   * Cuts the network between the browser and this server (`true`) or restores it: while cut, every
   * connection is dropped as it arrives, so the browser's fetch fails with a network error — as offline,
   * but with `navigator.onLine` still true. The only way to go offline in engines whose driver cannot
   * emulate it (Firefox over BiDi, WebKit); works in Chromium too.
   */
  cutNetwork(cut: boolean): void {
    this.networkCut = cut;
    if (cut) for (const socket of this.sockets) socket.destroy();
  }

  /** Revokes every access token issued so far (the resource server stops accepting them early). */
  revokeAccessTokens(): void {
    for (const record of this.accessTokens.values()) record.revoked = true;
  }

  setLifetimes(accessTokenTtlSeconds: number, refreshTokenTtlSeconds?: number): void {
    this.options.accessTokenTtlSeconds = accessTokenTtlSeconds;
    if (refreshTokenTtlSeconds !== undefined) this.options.refreshTokenTtlSeconds = refreshTokenTtlSeconds;
  }

  resetCounters(): void {
    Object.assign(this.stats, TokenServer.emptyStats());
    this.requests.length = 0;
  }

  /** Sets the server's clock `seconds` ahead of (or, negative, behind) the real one from now on. */
  setClockOffset(seconds: number): void {
    this.options.clockOffsetSeconds = seconds;
  }

  /** Starts a token family, as a login grant does (tests and benchmarks call it to start logged in). */
  issueLogin(user = 'alice', jkt?: string): Record<string, unknown> {
    return this.passwordLogin(user, jkt, this.origin);
  }

  /**
   * An authorization code for `user` without the login page: the redirect URL the browser would get
   * (`code`, `state`, `iss`; or `error` when the request is refused by redirect). `client_id`,
   * `response_type` and `code_challenge_method` default to the right values. Throws where the endpoint
   * would show an error page (unknown client, unregistered redirect URI) and for an unknown user.
   */
  authorize(params: AuthorizationParams & { user?: string }): string {
    return this.oidc.authorize(this.origin, params);
  }

  /** A family by id (the `sid` of its ID tokens). */
  family(id: string): Family | undefined {
    return this.families.get(id);
  }

  /** Used by the code grant: a family begins exactly as a login's does. */
  startFamily(start: FamilyStart): { family: Family; body: Record<string, unknown> } {
    const family = this.newFamily(start);
    family.openid = start.scope.split(' ').includes('openid');
    family.clientBound = true;
    return { family, body: this.issue(family, start.nonce) };
  }

  private passwordLogin(user: string, jkt: string | undefined, issuer: string): Record<string, unknown> {
    this.stats.loginGrants++;
    const family = this.newFamily({ user, jkt, issuer, clientId: this.options.clientId ?? DEFAULT_CLIENT_ID, scope: 'api', authTime: Math.floor(this.clock() / 1000) });
    return this.issue(family);
  }

  private newFamily({ user, jkt, issuer, clientId, scope, authTime }: FamilyStart): Family {
    const family: Family = { id: randomBytes(6).toString('hex'), user, revoked: false, issuer, clientId, scope, authTime, openid: false, clientBound: false };
    if (jkt !== undefined) family.jkt = jkt;
    this.families.set(family.id, family);
    return family;
  }

  /** The app's API traffic, without the probe that tests send to see the network cut (OFFLINE_PROBE). */
  apiRequests(): RequestRecord[] {
    return this.requests.filter((r) => r.path.startsWith('/api/') && r.path !== OFFLINE_PROBE);
  }

  // ---- HTTP --------------------------------------------------------------------------------------

  /** A new token pair for the family; `nonce` goes into the ID token of a code exchange only. */
  private issue(family: Family, nonce?: string): Record<string, unknown> {
    const now = this.clock();
    const ttl = this.options.accessTokenTtlSeconds;
    const accessToken = this.options.jwtAccessTokens ? this.jwtAccessToken(family, now) : `at-${family.id}-${randomBytes(12).toString('base64url')}`;
    const refreshToken = `rt-${family.id}-${randomBytes(12).toString('base64url')}`;
    this.issuedTokens.push(accessToken, refreshToken);
    this.accessTokens.set(accessToken, { family, expiresAt: now + ttl * 1000, revoked: false });
    this.refreshTokens.set(refreshToken, { family, expiresAt: now + this.options.refreshTokenTtlSeconds * 1000 });
    const body: Record<string, unknown> = {
      access_token: accessToken,
      token_type: family.jkt === undefined ? 'Bearer' : 'DPoP',
      refresh_token: refreshToken,
      refresh_expires_in: this.options.refreshTokenTtlSeconds,
      scope: family.scope,
    };
    const expiry = this.options.omitExpiresIn ? 'none' : this.options.expiry;
    if (expiry === 'expires_in' || expiry === 'both') body['expires_in'] = ttl;
    if (expiry === 'expires_at' || expiry === 'both') body['expires_at'] = Math.floor(now / 1000) + ttl;
    if (family.openid || this.options.idTokens) body['id_token'] = this.oidc.idToken(family, nonce);
    return body;
  }

  private jwtAccessToken(family: Family, now: number): string {
    const iat = Math.floor(now / 1000);
    return this.signingKey.sign(
      {
        iss: family.issuer,
        sub: family.user,
        aud: `${family.issuer}/api`,
        client_id: family.clientId,
        scope: family.scope,
        iat,
        exp: iat + this.options.accessTokenTtlSeconds,
        jti: randomBytes(12).toString('base64url'),
        ...(family.jkt === undefined ? {} : { cnf: { jkt: family.jkt } }),
      },
      'at+jwt',
    );
  }

  /** The origin as the client sees it: the listening origin, or (mounted as middleware) the Host header's. */
  private issuerFor(req: IncomingMessage): string {
    return this.origin || `http://${req.headers.host ?? 'localhost'}`;
  }

  /** The request handler; also usable as middleware in another server (the demo mounts it in Vite). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.networkCut) {
      req.socket.destroy();
      return;
    }
    const issuer = this.issuerFor(req);
    const url = new URL(req.url ?? '/', issuer);
    const body = await readBody(req);
    const record: RequestRecord = {
      at: this.options.now(),
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      authorization: req.headers.authorization ?? null,
    };
    if (body.length > 0) record.body = body;
    const key = req.headers['idempotency-key'];
    if (typeof key === 'string') record.idempotencyKey = key;
    if (typeof req.headers['dpop'] === 'string') record.dpop = true;
    this.requests.push(record);
    // Node would stamp the real time; a skewed server says its own.
    res.setHeader('Date', new Date(this.clock()).toUTCString());
    if (this.options.cors || OPEN_PATHS.has(url.pathname)) {
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSE_HEADERS);
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'Access-Control-Allow-Headers': CORS_ALLOW_HEADERS, 'Access-Control-Allow-Methods': 'GET, POST, PUT, PATCH, DELETE', 'Access-Control-Max-Age': '600' }).end();
        return;
      }
    }
    try {
      const { pathname } = url;
      const method = req.method ?? 'GET';
      if (pathname === '/oauth/token' && method === 'POST') return await this.token(req, res, body, issuer);
      if (pathname === '/oauth/revoke' && method === 'POST') return await this.revoke(req, res, body);
      if (pathname === '/.well-known/openid-configuration' || pathname === '/.well-known/oauth-authorization-server') {
        if (method === 'GET') return json(res, 200, this.oidc.discovery(issuer), { 'Cache-Control': 'no-cache' });
      }
      if (pathname === '/oauth/jwks' && method === 'GET') return json(res, 200, this.oidc.jwks(), { 'Cache-Control': 'no-cache' });
      if (pathname === '/oauth/authorize' && method === 'GET') return this.oidc.authorizeRequest(res, url.searchParams, issuer);
      if (pathname === '/oauth/authorize/decision' && method === 'POST') return this.oidc.decision(res, new URLSearchParams(body));
      if (pathname === '/oauth/end-session' && (method === 'GET' || method === 'POST')) {
        return this.oidc.endSession(res, method === 'GET' ? url.searchParams : new URLSearchParams(body), issuer);
      }
      if (pathname === '/echo' || pathname.startsWith('/echo/')) return this.echo(req, res, record);
      if (pathname.startsWith('/api/')) return this.api(req, res, url, record, issuer);
      if (pathname.startsWith('/__control/') && this.options.httpControl) return this.control(res, url, body);
      if (this.options.staticDir && (method === 'GET' || method === 'HEAD')) return await this.file(res, pathname);
      json(res, 404, { error: 'not_found' });
    } catch (error) {
      if (!res.headersSent) json(res, 500, { error: 'server_error', error_description: String(error) });
    }
  }

  private takeFault(target: FaultTarget): Fault | undefined {
    const fault = this.faults[target][0];
    if (!fault) return undefined;
    if (--fault.remaining <= 0) this.faults[target].shift();
    return fault;
  }

  /** Answers with the fault, or returns false when the request should go on (or 'slow': after commit). */
  private applyFault(fault: Fault, res: ServerResponse): boolean {
    switch (fault.kind) {
      case '503':
      case '500':
      case '429': {
        const headers: Record<string, string> = {};
        if (fault.retryAfterSeconds !== undefined) headers['Retry-After'] = String(fault.retryAfterSeconds);
        json(res, Number(fault.kind), { error: fault.kind === '429' ? 'slow_down' : 'temporarily_unavailable' }, headers);
        return true;
      }
      case 'hang':
        return true; // never answered; the socket is destroyed when the server closes
      case 'reset':
        res.socket?.destroy();
        return true;
      case 'invalid_grant':
        json(res, 400, { error: 'invalid_grant', error_description: 'refresh token rejected (injected)' });
        return true;
      case 'invalid_client':
        json(res, 401, { error: 'invalid_client', error_description: 'client authentication failed (injected)' });
        return true;
      case 'slow':
        return false;
    }
  }

  private async token(req: IncomingMessage, res: ServerResponse, body: string, issuer: string): Promise<void> {
    const isJson = (req.headers['content-type'] ?? '').includes('application/json');
    let fields: Record<string, string>;
    try {
      fields = isJson ? (JSON.parse(body) as Record<string, string>) : Object.fromEntries(new URLSearchParams(body));
    } catch {
      return json(res, 400, { error: 'invalid_request', error_description: 'body is not valid JSON' });
    }
    if (fields['grant_type'] === 'password') {
      const { username, password } = fields;
      if (!username || this.options.users[username] === undefined || this.options.users[username] !== password) {
        return json(res, 400, { error: 'invalid_grant', error_description: 'wrong user name or password' });
      }
      const proof = this.tokenEndpointProof(req, res, issuer);
      if (proof === false) return;
      return json(res, 200, this.passwordLogin(username, proof, issuer), { 'Cache-Control': 'no-store' });
    }
    if (fields['grant_type'] === 'authorization_code') {
      const proof = this.tokenEndpointProof(req, res, issuer);
      if (proof === false) return;
      const answer = this.oidc.codeGrant(fields, proof);
      return json(res, answer.status, answer.body, { 'Cache-Control': 'no-store' });
    }
    if (fields['grant_type'] !== 'refresh_token') return json(res, 400, { error: 'unsupported_grant_type' });

    this.stats.refreshRequests++;
    const fault = this.takeFault('refresh');
    if (fault && this.applyFault(fault, res)) return;

    const shape = this.options.refreshShape;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const customHeader = req.headers['x-refresh-token'];
    const presented = shape === 'header' ? bearer : shape === 'custom' ? (typeof customHeader === 'string' ? customHeader : undefined) : fields['refresh_token'];
    const wrongShape =
      (shape === 'json') !== isJson ||
      (shape === 'header' || shape === 'custom' ? fields['refresh_token'] !== undefined : bearer !== undefined);
    if (!presented || wrongShape) {
      return json(res, 400, { error: 'invalid_request', error_description: `this server expects the refresh token in the ${shape} shape` });
    }
    if (this.options.clientId !== undefined && fields['client_id'] !== this.options.clientId) {
      return json(res, 401, { error: 'invalid_client', error_description: 'unknown client_id' });
    }

    const proof = this.tokenEndpointProof(req, res, issuer);
    if (proof === false) return;
    // From here to the rotation there is no await: the check-and-rotate is atomic.
    const now = this.clock();
    const record = this.refreshTokens.get(presented);
    if (!record || record.family.revoked || now >= record.expiresAt) {
      return json(res, 400, { error: 'invalid_grant', error_description: 'refresh token is unknown, expired or revoked' });
    }
    if (record.family.clientBound && fields['client_id'] !== undefined && fields['client_id'] !== record.family.clientId) {
      // RFC 6749 §6: a refresh token is bound to the client it was issued to.
      return json(res, 400, { error: 'invalid_grant', error_description: 'refresh token was issued to another client' });
    }
    if (record.family.jkt !== undefined && proof !== record.family.jkt) {
      // RFC 9449 §5: a public client's refresh token is bound to its DPoP key.
      return json(res, 400, { error: 'invalid_dpop_proof', error_description: 'this refresh token needs a proof signed with its key' });
    }
    if (record.rotatedAt !== undefined) {
      // Strictly inside the grace window only: with no grace period, even a same-millisecond reuse is reuse.
      if (!(now - record.rotatedAt < this.options.reuseGraceSeconds * 1000)) {
        this.stats.reuseDetections++;
        this.revokeFamily(record.family);
        return json(res, 400, { error: 'invalid_grant', error_description: 'refresh token reuse detected: session revoked' });
      }
      this.stats.graceReuses++;
    } else {
      record.rotatedAt = now;
    }
    this.stats.refreshGrants++;
    const issued = this.issue(record.family);
    if (fault?.kind === 'slow') await delay(fault.delayMs ?? 2000); // committed already: a real server does not undo it
    if (!res.destroyed) json(res, 200, shape === 'custom' ? { data: issued } : issued, { 'Cache-Control': 'no-store' });
  }

  revokeFamily(family: Family): void {
    family.revoked = true;
    for (const access of this.accessTokens.values()) if (access.family === family) access.revoked = true;
  }

  private async revoke(_req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const fault = this.takeFault('revoke');
    if (fault && this.applyFault(fault, res)) return;
    const token = new URLSearchParams(body).get('token');
    if (!token) return json(res, 400, { error: 'invalid_request' });
    this.stats.revocations++;
    const family = this.refreshTokens.get(token)?.family ?? this.accessTokens.get(token)?.family;
    if (family) this.revokeFamily(family);
    json(res, 200, {}); // RFC 7009 §2.2: 200 for unknown tokens too
  }

  private liveAccess(authorization: string | null): AccessRecord | undefined {
    const [, scheme, token] = /^(Bearer|DPoP) (.+)$/.exec(authorization ?? '') ?? [];
    const record = token === undefined ? undefined : this.accessTokens.get(token);
    if (!record || record.revoked || record.family.revoked || this.clock() >= record.expiresAt) return undefined;
    // A DPoP-bound token presented as a bearer token is a stolen token being replayed.
    if ((record.family.jkt !== undefined) !== (scheme === 'DPoP')) return undefined;
    return record;
  }

  /** At the token endpoint: the proof's key thumbprint, undefined without a proof, false when answered with an error. */
  private tokenEndpointProof(req: IncomingMessage, res: ServerResponse, issuer: string): string | undefined | false {
    const proof = req.headers['dpop'];
    if (!this.options.dpop || typeof proof !== 'string') return undefined;
    const checked = this.dpopVerifier.check(proof, 'POST', `${issuer}/oauth/token`);
    if ('jkt' in checked) return checked.jkt;
    if (checked.nonce) json(res, 400, { error: 'use_dpop_nonce' }, { 'DPoP-Nonce': this.dpopNonce });
    else json(res, 400, { error: 'invalid_dpop_proof', error_description: checked.problem });
    return false;
  }

  private api(req: IncomingMessage, res: ServerResponse, url: URL, record: RequestRecord, issuer: string): void {
    let access = this.liveAccess(record.authorization);
    if (access?.family.jkt !== undefined) {
      const proof = req.headers['dpop'];
      const checked = typeof proof === 'string' ? this.dpopVerifier.check(proof, req.method ?? 'GET', `${issuer}${url.pathname}`, record.authorization!.slice(5)) : { problem: 'no proof' };
      if ('nonce' in checked) {
        record.tokenValid = false;
        return json(res, 401, { error: 'use_dpop_nonce' }, { 'WWW-Authenticate': 'DPoP error="use_dpop_nonce"', 'DPoP-Nonce': this.dpopNonce });
      }
      if (!('jkt' in checked) || checked.jkt !== access.family.jkt) access = undefined;
    }
    record.tokenValid = access !== undefined;
    if (!record.authorization) {
      this.stats.api.anonymous++;
      return json(res, 401, { error: 'unauthorized' }, { 'WWW-Authenticate': 'Bearer realm="api"' });
    }
    if (!access) {
      this.stats.api.unauthorized++;
      const scheme = record.authorization.startsWith('DPoP ') ? 'DPoP' : 'Bearer';
      return json(res, 401, { error: 'invalid_token' }, { 'WWW-Authenticate': `${scheme} realm="api", error="invalid_token"` });
    }
    this.stats.api.authorized++;
    const status = /^\/api\/status\/(\d{3})$/.exec(url.pathname)?.[1];
    if (status) return json(res, Number(status), { status: Number(status) });
    if (url.pathname === '/api/redirect') {
      res.writeHead(302, { Location: url.searchParams.get('to') ?? '/', 'Cache-Control': 'no-store' }).end();
      return;
    }
    json(res, 200, { ok: true, user: access.family.user, method: req.method, path: url.pathname, body: record.body ?? null });
  }

  private echo(req: IncomingMessage, res: ServerResponse, record: RequestRecord): void {
    // Public and CORS-open, so tests can see what other origins receive.
    const cors = {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Expose-Headers': CORS_EXPOSE_HEADERS,
      'Access-Control-Allow-Headers': 'Authorization, Content-Type',
      'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors).end();
      return;
    }
    json(res, 200, { authorization: record.authorization }, cors);
  }

  private control(res: ServerResponse, url: URL, body: string): void {
    const input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    switch (url.pathname) {
      case '/__control/stats':
        return json(res, 200, { stats: this.stats, options: { accessTokenTtlSeconds: this.options.accessTokenTtlSeconds, refreshTokenTtlSeconds: this.options.refreshTokenTtlSeconds } });
      case '/__control/fail':
        this.fail((input['target'] as FaultTarget) ?? 'refresh', input['kind'] as FaultKind, input as FaultOptions);
        return json(res, 200, { ok: true });
      case '/__control/revoke-access':
        this.revokeAccessTokens();
        return json(res, 200, { ok: true });
      case '/__control/lifetimes': {
        const access = Number(input['accessTokenTtlSeconds']);
        const refresh = input['refreshTokenTtlSeconds'] === undefined ? undefined : Number(input['refreshTokenTtlSeconds']);
        if (!(access > 0) || (refresh !== undefined && !(refresh > 0))) return json(res, 400, { error: 'invalid_request', error_description: 'lifetimes must be positive numbers of seconds' });
        this.setLifetimes(access, refresh);
        return json(res, 200, { ok: true });
      }
      case '/__control/clock': {
        const offset = Number(input['offsetSeconds']);
        if (!Number.isFinite(offset)) return json(res, 400, { error: 'invalid_request', error_description: 'offsetSeconds must be a number' });
        this.setClockOffset(offset);
        return json(res, 200, { ok: true });
      }
      default:
        return json(res, 404, { error: 'not_found' });
    }
  }

  private async file(res: ServerResponse, pathname: string): Promise<void> {
    const root = this.options.staticDir!;
    const relative = normalize(pathname === '/' ? '/index.html' : pathname);
    if (relative.includes('..')) return json(res, 400, { error: 'bad_path' });
    try {
      const content = await readFile(join(root, relative));
      const isolation = this.options.crossOriginIsolated ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {};
      res.writeHead(200, { 'Content-Type': MIME[extname(relative)] ?? 'application/octet-stream', 'Cache-Control': 'no-store', ...isolation }).end(content);
    } catch {
      json(res, 404, { error: 'not_found' });
    }
  }
}
