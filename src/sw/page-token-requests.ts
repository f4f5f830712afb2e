import type { DpopProver } from './feature-contracts.js';
import { jsonResponse } from './http.js';

/**
 * Page script calling the token endpoint (or a login endpoint the capture watches). A request that uses a
 * refresh token — a refresh grant, or one in any field, form or JSON — is refused: the worker owns
 * refreshing, and a page that rotated the refresh token behind its back would get the whole token family
 * revoked at the next refresh. Anything else goes on, with a DPoP proof when `dpop` is given, so that the
 * tokens it brings are bound to the worker's key.
 */
export async function forwardTokenRequest(request: Request, fetchFn: typeof fetch, dpop: DpopProver | null): Promise<Response> {
  const body = await request.arrayBuffer();
  if (/\brefresh_token\b/.test(new TextDecoder().decode(body))) {
    return jsonResponse(403, { error: 'access_denied', error_description: 'refresh tokens stay in the service worker' });
  }
  const build = () => new Request(request, { body });
  return dpop ? dpop.send(fetchFn, build) : fetchFn(build());
}
