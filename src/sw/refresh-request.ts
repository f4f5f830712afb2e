import { messageOf } from '../shared/errors.js';
import { parseTokenResponse } from '../shared/token-response.js';
import type { RefreshRequestContext, RefreshRequestShape } from './config.js';
import type { DpopProver } from './feature-contracts.js';
import { parseRetryAfter, serverTime } from './http.js';
import type { RefreshOutcome } from './refresh-engine.js';

/** What the token endpoint's I/O needs to know besides its URL; the resolved config extends it. */
export interface RefreshEndpoint {
  clientId: string | undefined;
  refreshRequest: RefreshRequestShape | ((refreshToken: string, context: RefreshRequestContext) => Request | Promise<Request>);
  parseRefreshResponse: (response: Response) => Promise<unknown>;
  /** OAuth error codes that mean the refresh token is dead (`invalid_grant` and the configured ones). */
  terminalErrors: ReadonlySet<string>;
  refreshTimeoutMs: number;
}

export async function buildRefreshRequest(config: RefreshEndpoint & RefreshRequestContext, refreshToken: string): Promise<Request> {
  const shape = config.refreshRequest;
  if (typeof shape === 'function') return shape(refreshToken, { tokenEndpoint: config.tokenEndpoint, clientId: config.clientId });
  const fields: Record<string, string> = { grant_type: 'refresh_token' };
  if (shape !== 'header') fields['refresh_token'] = refreshToken;
  if (config.clientId !== undefined) fields['client_id'] = config.clientId;
  const headers = new Headers({ Accept: 'application/json' });
  if (shape === 'header') headers.set('Authorization', `Bearer ${refreshToken}`);
  if (shape === 'json') headers.set('Content-Type', 'application/json');
  // A URLSearchParams body is sent as application/x-www-form-urlencoded. credentials 'omit': the refresh
  // token is the credential; cookies of the origin must not ride along.
  const body = shape === 'json' ? JSON.stringify(fields) : new URLSearchParams(fields);
  return new Request(config.tokenEndpoint, { method: 'POST', headers, body, credentials: 'omit', cache: 'no-store' });
}

/** The OAuth error (RFC 6749 §5.2) in a token endpoint's answer; `http_<status>` when it names none. */
async function readOAuthError(response: Response): Promise<{ error: string; description?: string }> {
  const body = (await response.json().catch(() => null)) as { error?: unknown; error_description?: unknown } | null;
  const error = body?.error;
  const description = body?.error_description;
  if (typeof error !== 'string') return { error: `http_${response.status}` };
  return typeof description === 'string' ? { error, description } : { error };
}

/** What `response` means for the session; `sentAt`: when the request left (expiry and `Retry-After` count from it). */
export async function classifyRefreshResponse(config: RefreshEndpoint, response: Response, sentAt: number): Promise<RefreshOutcome> {
  const { status } = response;
  if (status >= 200 && status < 300) {
    let json: unknown;
    try {
      json = await config.parseRefreshResponse(response);
    } catch {
      // A 2xx that is not JSON is a proxy or captive portal answering, not the token endpoint.
      return { kind: 'transient', reason: `token endpoint: ${status} without JSON` };
    }
    try {
      return { kind: 'ok', tokens: parseTokenResponse(json, sentAt, serverTime(response)) };
    } catch (error) {
      return { kind: 'misconfigured', error: 'invalid_token_response', description: messageOf(error) };
    }
  }
  if (status >= 500 || status === 429 || status === 408) {
    const outcome: RefreshOutcome = { kind: 'transient', reason: `token endpoint: ${status}` };
    const retryAfterMs = parseRetryAfter(response.headers.get('Retry-After'), sentAt);
    if (retryAfterMs !== undefined) outcome.retryAfterMs = retryAfterMs;
    return outcome;
  }
  const named = await readOAuthError(response);
  // Any 4xx but a terminal error (invalid_client, invalid_request, unauthorized_client, unsupported_grant_type,
  // or an unnamed one) says our request is wrong, not the refresh token: retrying cannot help, logging out neither.
  return { kind: config.terminalErrors.has(named.error) ? 'rejected' : 'misconfigured', ...named };
}

/** One refresh request with its timeout; network errors, timeouts and a failed endpoint lookup become `transient`. */
export async function requestRefresh(
  config: RefreshEndpoint & { tokenEndpoint: string | (() => Promise<string>) },
  fetchFn: typeof fetch,
  refreshToken: string,
  now: () => number,
  prover?: DpopProver,
): Promise<RefreshOutcome> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), config.refreshTimeoutMs);
  try {
    // A token endpoint from discovery is looked up first: a failed lookup is a passing failure too.
    const { tokenEndpoint } = config;
    const request = await buildRefreshRequest({ ...config, tokenEndpoint: typeof tokenEndpoint === 'string' ? tokenEndpoint : await tokenEndpoint() }, refreshToken);
    const build = () => new Request(request.clone(), { signal: abort.signal });
    // `expires_in` counts from when the server answered, which lies between sending and receiving: counted
    // from the sending, the token never outlives the server's idea of it (a slow answer costs nothing).
    const sentAt = now();
    const response = prover ? await prover.send(fetchFn, build) : await fetchFn(build());
    return await classifyRefreshResponse(config, response, sentAt);
  } catch (error) {
    if (abort.signal.aborted) return { kind: 'transient', reason: `token endpoint: no answer in ${config.refreshTimeoutMs} ms` };
    return { kind: 'transient', reason: `network error: ${messageOf(error)}` };
  } finally {
    clearTimeout(timer);
  }
}
