import type { DpopProver } from './feature-contracts.js';
import { jsonResponse } from './http.js';

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
 * Page script calling the token endpoint (or a login endpoint the capture watches). A refresh grant is
 * refused: the worker owns refreshing, and a page that rotated the refresh token behind its back would
 * get the whole token family revoked at the next refresh. Anything else goes on, with a DPoP proof when
 * `dpop` is given, so that the tokens it brings are bound to the worker's key.
 */
export async function forwardTokenRequest(request: Request, fetchFn: typeof fetch, dpop: DpopProver | null): Promise<Response> {
  const body = await request.arrayBuffer();
  if (grantType(request.headers.get('Content-Type'), body) === 'refresh_token') {
    return jsonResponse(403, { error: 'access_denied', error_description: 'only the service worker makes refresh grants' });
  }
  const build = () => new Request(request, { body });
  return dpop ? dpop.send(fetchFn, build) : fetchFn(build());
}
