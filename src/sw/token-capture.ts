import { fetchWithProof, type DpopProver } from './dpop.js';
import type { RefreshEngine } from './refresh-engine.js';
import { jsonResponse } from './responses.js';

/** Fields of a token response that never reach page script when capture is on. */
const SECRET_FIELDS = new Set(['access_token', 'refresh_token']);

export interface TokenRouteDeps {
  engine: Pick<RefreshEngine, 'login'>;
  fetch: typeof fetch;
  /** A captured login started a session (queued writes waiting for one can go now). */
  onLogin: () => void;
  /** With DPoP: the page's token request gets a proof, so the tokens are bound to the worker's key. */
  dpop: DpopProver | null;
}

function grantType(contentType: string | null, body: ArrayBuffer): string | null {
  const text = new TextDecoder().decode(body);
  if (contentType?.includes('application/json')) {
    try {
      const parsed: unknown = JSON.parse(text);
      const grant = typeof parsed === 'object' && parsed !== null ? (parsed as { grant_type?: unknown }).grant_type : undefined;
      return typeof grant === 'string' ? grant : null;
    } catch {
      return null;
    }
  }
  return new URLSearchParams(text).get('grant_type');
}

/**
 * Page script calling the token endpoint (or a configured login endpoint). A refresh grant is refused:
 * the worker owns refreshing, and a page that rotated the refresh token behind its back would get the
 * whole token family revoked at the next refresh. With `capture`, a successful login answer is stored
 * by the worker and handed to the page without its tokens.
 */
export async function handleTokenRoute(request: Request, capture: boolean, deps: TokenRouteDeps): Promise<Response> {
  const body = await request.arrayBuffer();
  if (grantType(request.headers.get('Content-Type'), body) === 'refresh_token') {
    return jsonResponse(403, { error: 'access_denied', error_description: 'refresh grants are made by the sw-token-proxy service worker only' });
  }
  const build = () => new Request(request, { body });
  const response = deps.dpop ? await fetchWithProof(deps.dpop, deps.fetch, build) : await deps.fetch(build());
  if (!capture || !response.ok) return response;
  let answer: unknown;
  try {
    answer = await response.clone().json();
  } catch {
    return response; // not JSON: not a token response
  }
  if (typeof answer !== 'object' || answer === null || !('access_token' in answer)) return response;
  try {
    await deps.engine.login(answer);
    deps.onLogin();
  } catch (error) {
    // Never pass the raw answer on: it holds tokens the page must not see.
    return jsonResponse(502, { error: 'invalid_token_response', error_description: error instanceof Error ? error.message : String(error) });
  }
  const visible = Object.fromEntries(Object.entries(answer).filter(([field]) => !SECRET_FIELDS.has(field)));
  return jsonResponse(response.status, visible);
}
