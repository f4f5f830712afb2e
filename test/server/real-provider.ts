/// <reference path="./oidc-provider.d.ts" />
/**
 * A real, OpenID Certified authorization server for tests: node-oidc-provider 9 on 127.0.0.1 (plain http,
 * loopback only), with one public client (PKCE S256, authorization_code + refresh_token), refresh tokens
 * rotated on every use, RP-initiated logout, RFC 9207 `iss` in authorization responses (always on in v9),
 * DPoP (RFC 9449) optional or required, and CORS for the test page's origins.
 *
 * Refresh tokens are issued whether or not `offline_access` is asked for; the scope decides whether they
 * survive a logout at the provider (with it they do, as OIDC means; without it the logout revokes them).
 *
 * Sign-in is this module's own minimal interaction (oidc-provider's devInteractions accept any password
 * and have no auto-login), with the same selectors as the TokenServer's login page (see pages.ts), or
 * none at all with `autoLogin`. Consent never gets in the way: every grant the test client asks for is
 * given (`loadExistingGrant`), and refresh tokens are issued without the `prompt=consent` OIDC otherwise
 * requires for `offline_access`.
 *
 * Beside the provider it serves `/api/*`, a resource server that accepts the provider's access tokens
 * (Bearer, or DPoP with a proof), so a browser test can make API calls with what the worker got.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import Provider, { type Adapter, type AdapterPayload, type Configuration, type KoaContextWithOIDC, type OidcError } from 'oidc-provider';
import { DpopVerifier } from './dpop.js';
import { html, json, readBody, single } from './http.js';
import { SigningKey } from './jwt.js';
import { errorPage, loginPage, logoutPage, signedOutPage } from './pages.js';

export interface RealProviderOptions {
  /** Where the client may be redirected after sign-in, e.g. `${page origin}/callback`. */
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  /** Origins allowed to call the token, revocation, userinfo and API endpoints. Default: those of `redirectUris`. */
  corsOrigins?: string[];
  /** Default 'spa'. */
  clientId?: string;
  /** name → password. Default alice/alice-password, bob/bob-password (as the TokenServer). */
  users?: Record<string, string>;
  /** This user is signed in without the login page (the interaction finishes at once). */
  autoLogin?: string;
  /** The logout confirmation page submits itself as "yes" (script), so a browser test need not click. */
  autoLogout?: boolean;
  /** Default 30 s. */
  accessTokenTtlSeconds?: number;
  /** Default 3600 s (also the grant's and the session's lifetime). A rotated token keeps its predecessor's expiry. */
  refreshTokenTtlSeconds?: number;
  /** Default 3600 s. */
  idTokenTtlSeconds?: number;
  /** 'optional' (default): a DPoP proof at the token endpoint binds the tokens; 'required': the client must send one; 'off'. */
  dpop?: 'off' | 'optional' | 'required';
  /** With DPoP: the token endpoint requires a server nonce (`use_dpop_nonce` first). */
  dpopNonce?: boolean;
}

export interface RealProviderStats {
  /** Token endpoint outcomes by `grant_type` (from oidc-provider's grant.success / grant.error events). */
  tokenRequests: Record<string, { success: number; error: number }>;
  /** A rotated-away refresh token presented again ('refresh token already used'): the grant was revoked. */
  refreshReuse: number;
  /** An authorization code presented again ('authorization code already consumed'): the grant was revoked. */
  codeReuse: number;
  /** Refresh tokens rotated away (refresh_token.consumed). */
  refreshRotations: number;
  /** Grants whose tokens were all revoked (reuse, revocation, logout): grant.revoked. */
  grantsRevoked: number;
  /** Authorization requests answered with a code (authorization.success). */
  authorizations: number;
  /** Sign-ins at the login page or by autoLogin. */
  logins: number;
  /** RP-initiated logouts carried out (end_session.success). */
  endSessions: number;
  /** Revocation requests answered 200. */
  revocations: number;
  discoveryRequests: number;
  api: { authorized: number; unauthorized: number; anonymous: number };
}

export interface RealProviderRequest {
  method: string;
  path: string;
  /** The `Origin` header: set on the worker's CORS requests. */
  origin: string | null;
  dpop: boolean;
  /** Known once answered. */
  status?: number;
}

export interface RealProvider {
  issuer: string;
  clientId: string;
  stats: RealProviderStats;
  requests: RealProviderRequest[];
  /** Errors oidc-provider reported as server_error, and failures of this module's own routes: a test can expect none. */
  errors: unknown[];
  /** The oidc-provider instance, for what this module does not wrap. */
  provider: Provider;
  resetCounters(): void;
  close(): Promise<void>;
}

const emptyStats = (): RealProviderStats => ({
  tokenRequests: {},
  refreshReuse: 0,
  codeReuse: 0,
  refreshRotations: 0,
  grantsRevoked: 0,
  authorizations: 0,
  logins: 0,
  endSessions: 0,
  revocations: 0,
  discoveryRequests: 0,
  api: { authorized: 0, unauthorized: 0, anonymous: 0 },
});

export async function startRealProvider(options: RealProviderOptions): Promise<RealProvider> {
  const clientId = options.clientId ?? 'spa';
  const users = options.users ?? { alice: 'alice-password', bob: 'bob-password' };
  const corsOrigins = new Set(options.corsOrigins ?? options.redirectUris.map((uri) => new URL(uri).origin));
  const refreshTtl = options.refreshTokenTtlSeconds ?? 3600;
  const dpop = options.dpop ?? 'optional';
  const stats = emptyStats();
  const requests: RealProviderRequest[] = [];
  const errors: unknown[] = [];

  // The issuer names the port, so listen first and build the provider once the port is known.
  const sockets = new Set<Socket>();
  let handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> = async (_req, res) => void res.writeHead(503).end();
  const server = createServer((req, res) => void handler(req, res));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const signingKey = new SigningKey();
  const configuration: Configuration = {
    adapter: memoryAdapter(),
    clients: [
      {
        client_id: clientId,
        client_name: 'sw-token-proxy test app',
        application_type: 'web',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: options.redirectUris,
        post_logout_redirect_uris: options.postLogoutRedirectUris ?? [],
        id_token_signed_response_alg: 'ES256',
        ...(dpop === 'required' ? { dpop_bound_access_tokens: true } : {}),
      },
    ],
    clientBasedCORS: (_ctx, origin) => corsOrigins.has(origin),
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    jwks: { keys: [signingKey.privateJwk()] },
    enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
    features: {
      devInteractions: { enabled: false },
      // A public client revokes only its own tokens (oidc-provider's default policy, stated to silence its notice).
      revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      // Without a resource indicator the access token is opaque and for userinfo: what this module's API checks.
      resourceIndicators: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.type = 'html';
          ctx.body = logoutPage(form, options.autoLogout ?? false);
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.type = 'html';
          ctx.body = signedOutPage();
        },
      },
      dPoP:
        dpop === 'off'
          ? { enabled: false }
          : { enabled: true, ...(options.dpopNonce ? { nonceSecret: randomBytes(32), requireNonce: () => true } : {}) },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => (users[sub] === undefined ? undefined : { accountId: sub, claims: () => ({ sub }) }),
    loadExistingGrant: async (ctx) => {
      const { oidc } = ctx;
      const client = oidc.client;
      const accountId = oidc.session.accountId;
      if (!client || accountId === undefined) return undefined;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(client.clientId);
      const grant = (grantId === undefined ? undefined : await oidc.provider.Grant.find(grantId)) ?? new oidc.provider.Grant({ accountId, clientId: client.clientId });
      // Test users consent to whatever the test client asks for: no consent page.
      grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
      const claims = [...oidc.requestParamClaims];
      if (claims.length > 0) grant.addOIDCClaims(claims);
      await grant.save();
      return grant;
    },
    // OIDC drops offline_access unless prompt=consent; a test client gets refresh tokens without it.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // expiresWithSession is oidc-provider's default: without offline_access the tokens end with the sign-in
    // session at the provider (RP-initiated logout revokes them); with offline_access they outlive it.
    rotateRefreshToken: true,
    pkce: { required: () => true },
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access'],
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = errorPage(out['error'] ?? 'error', out['error_description'] ?? '');
    },
    ttl: {
      AccessToken: options.accessTokenTtlSeconds ?? 30,
      AuthorizationCode: 60,
      IdToken: options.idTokenTtlSeconds ?? 3600,
      // As oidc-provider's default: a rotated refresh token of a public web client keeps its predecessor's expiry.
      RefreshToken: (ctx, token) => {
        const rotated = ctx?.oidc.entities.RotatedRefreshToken;
        return rotated && !token.isSenderConstrained() ? rotated.remainingTTL : refreshTtl;
      },
      Interaction: 600,
      Session: refreshTtl,
      Grant: refreshTtl,
    },
  };
  const provider = new Provider(issuer, configuration);

  const tokenCount = (ctx: KoaContextWithOIDC) => {
    const grantType = ctx.oidc.params?.['grant_type'];
    const key = typeof grantType === 'string' ? grantType : 'unknown';
    return (stats.tokenRequests[key] ??= { success: 0, error: 0 });
  };
  provider.on('grant.success', (ctx) => void tokenCount(ctx).success++);
  provider.on('grant.error', (ctx, error: OidcError) => {
    tokenCount(ctx).error++;
    if (error.error_detail === 'refresh token already used') stats.refreshReuse++;
    if (error.error_detail === 'authorization code already consumed') stats.codeReuse++;
  });
  provider.on('refresh_token.consumed', () => void stats.refreshRotations++);
  provider.on('grant.revoked', () => void stats.grantsRevoked++);
  provider.on('authorization.success', () => void stats.authorizations++);
  provider.on('end_session.success', () => void stats.endSessions++);
  provider.on('server_error', (_ctx, error) => void errors.push(error));

  const providerCallback = provider.callback();
  const resourceDpop = new DpopVerifier(Date.now, () => undefined);

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    let details;
    try {
      details = await provider.interactionDetails(req, res);
    } catch (error) {
      // The interaction cookie is missing or the interaction expired: the user must start again.
      return html(res, 400, errorPage('invalid_request', `sign-in session not found (${String(error)})`));
    }
    if (details.uid !== uid) return html(res, 400, errorPage('invalid_request', 'this sign-in page belongs to another sign-in'));
    const finishLogin = (accountId: string) => {
      stats.logins++;
      return provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    };
    if (details.prompt.name === 'consent') {
      // Only an explicit prompt=consent gets here (loadExistingGrant grants everything): consent at once.
      const accountId = details.session?.accountId;
      if (accountId === undefined) return html(res, 400, errorPage('invalid_request', 'consent without a signed-in user'));
      const grant = (details.grantId === undefined ? undefined : await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId, clientId });
      const scope = details.params['scope'];
      if (typeof scope === 'string') grant.addOIDCScope(scope);
      return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    }
    if (details.prompt.name !== 'login') return html(res, 501, errorPage('not_implemented', `prompt ${details.prompt.name}`));
    const hint = details.params['login_hint'];
    const page = (username: string | undefined, error?: string) =>
      html(res, 200, loginPage({ action: `/interaction/${uid}`, client: clientId, hidden: {}, username, error }));
    if (req.method === 'GET') {
      if (options.autoLogin !== undefined) return finishLogin(options.autoLogin);
      return page(typeof hint === 'string' ? hint : undefined);
    }
    const form = new URLSearchParams(await readBody(req));
    if (single(form, 'action') === 'cancel') {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user cancelled the sign-in' }, { mergeWithLastSubmission: false });
    }
    const username = single(form, 'username') ?? '';
    if (users[username] === undefined || users[username] !== single(form, 'password')) return page(username, 'Wrong user name or password.');
    return finishLogin(username);
  }

  function cors(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin;
    if (origin === undefined || !corsOrigins.has(origin)) return;
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
    res.setHeader('Access-Control-Expose-Headers', 'WWW-Authenticate, DPoP-Nonce, Date');
  }

  /** A resource server for the provider's opaque access tokens: 200 `{ user }`, or 401 as RFC 6750/9449 say. */
  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    cors(req, res);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'Access-Control-Allow-Headers': 'Authorization, Content-Type, DPoP, Idempotency-Key', 'Access-Control-Allow-Methods': 'GET, POST, PUT, PATCH, DELETE', 'Access-Control-Max-Age': '600' }).end();
      return;
    }
    const body = await readBody(req);
    const [, scheme, value] = /^(Bearer|DPoP) (.+)$/.exec(req.headers.authorization ?? '') ?? [];
    if (value === undefined) {
      stats.api.anonymous++;
      return json(res, 401, { error: 'unauthorized' }, { 'WWW-Authenticate': 'Bearer realm="api"' });
    }
    const token = await provider.AccessToken.find(value);
    let valid = token !== undefined && !token.isExpired && (token.jkt !== undefined) === (scheme === 'DPoP');
    if (valid && token?.jkt !== undefined) {
      const proof = req.headers['dpop'];
      const checked = typeof proof === 'string' ? resourceDpop.check(proof, req.method ?? 'GET', `${issuer}${url.pathname}`, value) : { problem: 'no proof' };
      valid = 'jkt' in checked && checked.jkt === token.jkt;
    }
    if (!valid || !token) {
      stats.api.unauthorized++;
      return json(res, 401, { error: 'invalid_token' }, { 'WWW-Authenticate': `${scheme ?? 'Bearer'} realm="api", error="invalid_token"` });
    }
    stats.api.authorized++;
    json(res, 200, { ok: true, user: token.accountId, method: req.method, path: url.pathname, body: body || null });
  }

  handler = async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const record: RealProviderRequest = { method: req.method ?? 'GET', path: url.pathname + url.search, origin: req.headers.origin ?? null, dpop: typeof req.headers['dpop'] === 'string' };
    requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
      if (url.pathname === '/token/revocation' && req.method === 'POST' && res.statusCode === 200) stats.revocations++;
    });
    try {
      const interactionUid = /^\/interaction\/([^/]+)$/.exec(url.pathname)?.[1];
      if (interactionUid !== undefined && (req.method === 'GET' || req.method === 'POST')) return await interaction(req, res, interactionUid);
      if (url.pathname.startsWith('/api/')) return await api(req, res, url);
      if (url.pathname.startsWith('/.well-known/') && req.method === 'GET') stats.discoveryRequests++;
      await providerCallback(req, res);
    } catch (error) {
      errors.push(error);
      if (!res.headersSent) html(res, 500, errorPage('server_error', String(error)));
    }
  };

  return {
    issuer,
    clientId,
    stats,
    requests,
    errors,
    provider,
    resetCounters() {
      Object.assign(stats, emptyStats());
      requests.length = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * oidc-provider's storage, one per provider: a Map with expiry. (Its built-in memory adapter is shared by
 * every provider in the process, bounded at 1000 entries and warns it is for development.)
 */
function memoryAdapter(): (name: string) => Adapter {
  const store = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  const byGrant = new Map<string, Set<string>>();
  const index = new Map<string, string>();
  const read = (key: string): AdapterPayload | undefined => {
    const entry = store.get(key);
    if (entry && Date.now() >= entry.expiresAt) store.delete(key);
    return store.get(key)?.payload;
  };
  return (name) => {
    const key = (id: string) => `${name}:${id}`;
    return {
      async upsert(id, payload, expiresIn) {
        store.set(key(id), { payload, expiresAt: expiresIn === undefined ? Infinity : Date.now() + expiresIn * 1000 });
        if (payload.grantId !== undefined) {
          const members = byGrant.get(payload.grantId) ?? new Set<string>();
          byGrant.set(payload.grantId, members.add(key(id)));
        }
        if (payload.uid !== undefined) index.set(`${name}:uid:${payload.uid}`, id);
        if (payload.userCode !== undefined) index.set(`${name}:userCode:${payload.userCode}`, id);
      },
      async find(id) {
        return read(key(id));
      },
      async findByUid(uid) {
        const id = index.get(`${name}:uid:${uid}`);
        return id === undefined ? undefined : read(key(id));
      },
      async findByUserCode(userCode) {
        const id = index.get(`${name}:userCode:${userCode}`);
        return id === undefined ? undefined : read(key(id));
      },
      async consume(id) {
        const payload = read(key(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        store.delete(key(id));
      },
      async revokeByGrantId(grantId) {
        for (const member of byGrant.get(grantId) ?? []) store.delete(member);
        byGrant.delete(grantId);
      },
    };
  };
}
