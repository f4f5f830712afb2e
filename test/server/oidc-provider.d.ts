/*
 * The part of oidc-provider 9's API that real-provider.ts uses. The package ships no types and
 * @types/oidc-provider is not installed; names and shapes are from oidc-provider's docs/README.md and
 * lib/ (provider.js, helpers/defaults.js, helpers/oidc_context.js, models/).
 */
declare module 'oidc-provider' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type AdapterPayload = Record<string, unknown> & { grantId?: string; uid?: string; userCode?: string; consumed?: number; jti?: string };

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface ClientMetadata {
    client_id: string;
    application_type?: 'web' | 'native';
    token_endpoint_auth_method?: string;
    grant_types?: string[];
    response_types?: string[];
    redirect_uris?: string[];
    post_logout_redirect_uris?: string[];
    id_token_signed_response_alg?: string;
    dpop_bound_access_tokens?: boolean;
    client_name?: string;
  }

  export interface Client {
    clientId: string;
    clientName?: string;
    grantTypeAllowed(type: string): boolean;
  }

  export interface Session {
    accountId?: string;
    grantIdFor(clientId: string): string | undefined;
  }

  export interface Grant {
    jti: string;
    accountId: string;
    clientId: string;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    save(): Promise<string>;
  }

  export interface GrantConstructor {
    new (properties: { accountId: string; clientId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
  }

  export interface AccessToken {
    accountId: string;
    clientId: string;
    scope?: string;
    jkt?: string;
    isExpired: boolean;
  }

  export interface RefreshToken {
    remainingTTL: number;
    isSenderConstrained(): boolean;
  }

  export interface OIDCContext {
    readonly provider: Provider;
    readonly client?: Client;
    readonly session: Session;
    readonly params?: Record<string, unknown>;
    readonly result?: { consent?: { grantId?: string } };
    readonly requestParamOIDCScopes: Set<string>;
    readonly requestParamClaims: Set<string>;
    readonly entities: { RotatedRefreshToken?: RefreshToken };
    readonly route?: string;
  }

  export interface KoaContextWithOIDC {
    oidc: OIDCContext;
    body: unknown;
    type: string;
    status: number;
    host: string;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown> & { sub: string }> | (Record<string, unknown> & { sub: string });
  }

  export interface Interaction {
    uid: string;
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    params: Record<string, unknown>;
    session?: { accountId?: string };
    grantId?: string;
    returnTo: string;
  }

  export type InteractionResult =
    | { login?: { accountId: string; remember?: boolean }; consent?: { grantId: string } }
    | { error: string; error_description?: string };

  export interface OidcError extends Error {
    error?: string;
    error_description?: string;
    error_detail?: string;
    statusCode?: number;
  }

  type Ttl<T> = number | ((ctx: KoaContextWithOIDC | undefined, token: T, client: Client) => number);

  export interface Configuration {
    adapter?: (name: string) => Adapter;
    clients?: ClientMetadata[];
    clientBasedCORS?: (ctx: KoaContextWithOIDC, origin: string, client: Client) => boolean;
    cookies?: { keys?: (string | Buffer)[] };
    jwks?: { keys: object[] };
    enabledJWA?: { idTokenSigningAlgValues?: string[]; dPoPSigningAlgValues?: string[] };
    features?: {
      devInteractions?: { enabled: boolean };
      revocation?: { enabled: boolean; allowedPolicy?: (ctx: KoaContextWithOIDC, client: Client, token: { clientId?: string }) => Promise<boolean> | boolean };
      resourceIndicators?: { enabled: boolean };
      userinfo?: { enabled: boolean };
      rpInitiatedLogout?: {
        enabled: boolean;
        logoutSource?: (ctx: KoaContextWithOIDC, form: string) => Promise<void> | void;
        postLogoutSuccessSource?: (ctx: KoaContextWithOIDC) => Promise<void> | void;
      };
      dPoP?: { enabled: boolean; nonceSecret?: Buffer; requireNonce?: (ctx: KoaContextWithOIDC) => boolean };
    };
    interactions?: { url?: (ctx: KoaContextWithOIDC, interaction: Interaction) => string | Promise<string> };
    findAccount?: (ctx: KoaContextWithOIDC, sub: string) => Promise<Account | undefined> | Account | undefined;
    loadExistingGrant?: (ctx: KoaContextWithOIDC) => Promise<Grant | undefined>;
    issueRefreshToken?: (ctx: KoaContextWithOIDC, client: Client) => Promise<boolean> | boolean;
    expiresWithSession?: (ctx: KoaContextWithOIDC) => Promise<boolean> | boolean;
    rotateRefreshToken?: boolean | ((ctx: KoaContextWithOIDC) => boolean);
    pkce?: { required?: (ctx: KoaContextWithOIDC, client: Client) => boolean };
    responseTypes?: string[];
    scopes?: string[];
    renderError?: (ctx: KoaContextWithOIDC, out: Record<string, string>, error: Error) => Promise<void> | void;
    ttl?: {
      AccessToken?: Ttl<AccessToken>;
      AuthorizationCode?: Ttl<unknown>;
      IdToken?: Ttl<unknown>;
      RefreshToken?: Ttl<RefreshToken>;
      Interaction?: Ttl<unknown>;
      Session?: Ttl<unknown>;
      Grant?: Ttl<unknown>;
    };
  }

  export interface ProviderEvents {
    'grant.success': [ctx: KoaContextWithOIDC];
    'grant.error': [ctx: KoaContextWithOIDC, error: OidcError];
    'grant.revoked': [ctx: KoaContextWithOIDC, grantId: string];
    'refresh_token.consumed': [token: unknown];
    'authorization.success': [ctx: KoaContextWithOIDC];
    'authorization.error': [ctx: KoaContextWithOIDC, error: OidcError];
    'interaction.started': [ctx: KoaContextWithOIDC, prompt: unknown];
    'end_session.success': [ctx: KoaContextWithOIDC];
    'revocation.error': [ctx: KoaContextWithOIDC, error: OidcError];
    server_error: [ctx: KoaContextWithOIDC, error: Error];
  }

  export class Provider extends EventEmitter {
    constructor(issuer: string, configuration: Configuration);
    readonly issuer: string;
    readonly Grant: GrantConstructor;
    readonly AccessToken: { find(value: string): Promise<AccessToken | undefined> };
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: InteractionResult, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
    on<E extends keyof ProviderEvents>(event: E, listener: (...args: ProviderEvents[E]) => void): this;
  }

  export default Provider;
}
