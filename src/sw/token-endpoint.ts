import { messageOf, TokenProxyError } from '../shared/errors.js';
import { parseTokenResponse, type TokenSet } from '../shared/token-response.js';
import type { ResolvedConfig } from './config.js';
import type { DpopProver } from './dpop.js';

/** What one refresh request came to, by what the engine must do next. */
export type RefreshOutcome =
  | { kind: 'ok'; tokens: TokenSet }
  /** The refresh token is dead (`invalid_grant` or a configured terminal error): end the session. */
  | { kind: 'rejected'; error: string; description?: string }
  /** The server refuses our request itself (`invalid_client`, ...): retrying cannot help. */
  | { kind: 'misconfigured'; error: string; description?: string }
  /** 5xx, 429, 408, timeout, network error: keep the refresh token and try again later. */
  | { kind: 'transient'; reason: string; retryAfterMs?: number };

type EndpointConfig = Pick<
  ResolvedConfig,
  'tokenEndpoint' | 'clientId' | 'refreshRequest' | 'parseRefreshResponse' | 'terminalErrors' | 'refreshTimeoutMs'
>;

export async function buildRefreshRequest(config: EndpointConfig, refreshToken: string): Promise<Request> {
  const shape = config.refreshRequest;
  if (typeof shape === 'function') return shape(refreshToken, { tokenEndpoint: config.tokenEndpoint, clientId: config.clientId });
  const fields: Record<string, string> = { grant_type: 'refresh_token' };
  if (shape !== 'header') fields['refresh_token'] = refreshToken;
  if (config.clientId !== undefined) fields['client_id'] = config.clientId;
  const headers = new Headers({ Accept: 'application/json' });
  let body: string;
  if (shape === 'json') {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(fields);
  } else {
    headers.set('Content-Type', 'application/x-www-form-urlencoded');
    body = new URLSearchParams(fields).toString();
  }
  if (shape === 'header') headers.set('Authorization', `Bearer ${refreshToken}`);
  // credentials 'omit': the refresh token is the credential; cookies of the origin must not ride along.
  return new Request(config.tokenEndpoint, { method: 'POST', headers, body, credentials: 'omit', cache: 'no-store' });
}

/** `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

async function oauthError(response: Response): Promise<{ error: string; description?: string }> {
  try {
    const body: unknown = await response.json();
    if (typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string') {
      const { error, error_description } = body as { error: string; error_description?: unknown };
      return typeof error_description === 'string' ? { error, description: error_description } : { error };
    }
  } catch {
    // not JSON: fall through
  }
  return { error: `http_${response.status}` };
}

export async function classifyRefreshResponse(config: EndpointConfig, response: Response, now: number): Promise<RefreshOutcome> {
  const { status } = response;
  if (status >= 200 && status < 300) {
    let json: unknown;
    try {
      json = await config.parseRefreshResponse(response);
    } catch {
      // A 2xx that is not JSON is a proxy or captive portal answering, not the token endpoint.
      return { kind: 'transient', reason: `token endpoint answered ${status} with a body that is not JSON` };
    }
    try {
      return { kind: 'ok', tokens: parseTokenResponse(json, now) };
    } catch (error) {
      const message = error instanceof TokenProxyError ? error.message : String(error);
      return { kind: 'misconfigured', error: 'invalid_token_response', description: message };
    }
  }
  if (status >= 500 || status === 429 || status === 408) {
    const outcome: RefreshOutcome = { kind: 'transient', reason: `token endpoint answered ${status}` };
    const retryAfterMs = parseRetryAfter(response.headers.get('Retry-After'), now);
    if (retryAfterMs !== undefined) outcome.retryAfterMs = retryAfterMs;
    return outcome;
  }
  const { error, description } = await oauthError(response);
  const base = description === undefined ? { error } : { error, description };
  if (config.terminalErrors.has(error)) return { kind: 'rejected', ...base };
  // Any other 4xx (invalid_client, invalid_request, unauthorized_client, unsupported_grant_type, or an
  // unnamed one) says our request is wrong, not the refresh token: retrying cannot help, logging out neither.
  return { kind: 'misconfigured', ...base };
}

/** One refresh request with its timeout; network errors and timeouts become `transient`. */
export async function requestRefresh(
  config: EndpointConfig,
  fetchFn: typeof fetch,
  refreshToken: string,
  now: () => number,
  prover?: DpopProver,
): Promise<RefreshOutcome> {
  const request = await buildRefreshRequest(config, refreshToken);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), config.refreshTimeoutMs);
  const build = () => new Request(request.clone(), { signal: abort.signal });
  try {
    const response = prover ? await prover.send(fetchFn, build) : await fetchFn(build());
    return await classifyRefreshResponse(config, response, now());
  } catch (error) {
    if (abort.signal.aborted) return { kind: 'transient', reason: `token endpoint did not answer within ${config.refreshTimeoutMs} ms` };
    return { kind: 'transient', reason: `network error: ${messageOf(error)}` };
  } finally {
    clearTimeout(timer);
  }
}
