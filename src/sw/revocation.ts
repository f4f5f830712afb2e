import { messageOf } from '../shared/errors.js';
import type { LogoutResult } from '../shared/protocol.js';
import type { Session } from './session.js';

/** What revocation needs of the config besides the endpoint. */
export interface RevocationOptions {
  clientId: string | undefined;
  /** The revocation request's timeout, as for refreshes. */
  refreshTimeoutMs: number;
}

/** RFC 7009: revoke the refresh token (or, without one, the access token). Failure is reported, not thrown. */
export async function revokeSession(
  config: RevocationOptions,
  endpoint: () => Promise<string | undefined>,
  fetchFn: typeof fetch,
  session: Session,
  now: () => number,
): Promise<LogoutResult> {
  const revocationEndpoint = await endpoint().catch(() => undefined);
  if (revocationEndpoint === undefined) return { revoked: false };
  const { refreshToken } = session;
  const fields = new URLSearchParams({ token: refreshToken ?? session.accessToken, token_type_hint: refreshToken ? 'refresh_token' : 'access_token' });
  if (config.clientId !== undefined) fields.set('client_id', config.clientId);
  const failed = (message: string): LogoutResult => ({ revoked: false, error: { code: 'revocation-failed', message, at: now() } });
  try {
    // (A URLSearchParams body is sent as application/x-www-form-urlencoded.)
    const response = await fetchFn(revocationEndpoint, {
      method: 'POST',
      body: fields,
      credentials: 'omit',
      cache: 'no-store',
      signal: AbortSignal.timeout(config.refreshTimeoutMs),
    });
    // 200 even for unknown tokens (RFC 7009 §2.2); anything else means the token may still be alive.
    return response.ok ? { revoked: true } : failed(`revocation: ${response.status}, the token may still be valid`);
  } catch (error) {
    return failed(`revocation failed: ${messageOf(error)}`);
  }
}
