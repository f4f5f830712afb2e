/**
 * DPoP proof checks (RFC 9449 §4.3) for the test servers: the JWS signature with the embedded key,
 * typ/alg, htm/htu, freshness on the server's clock, one-time jti, `ath` for resource requests, and the
 * nonce when one is required.
 */
import { createHash, type JsonWebKey } from 'node:crypto';
import { decodeJwt, ecThumbprint, verifyWithJwk } from './jwt.js';

/** The key's thumbprint, or what is wrong (`nonce`: the server's nonce is missing or stale). */
export type ProofCheck = { jkt: string } | { problem: string; nonce?: true };

export class DpopVerifier {
  private readonly usedJtis = new Set<string>();

  /** `clock`: the server's time in ms; `requiredNonce`: the nonce proofs must carry, or undefined. */
  constructor(
    private readonly clock: () => number,
    private readonly requiredNonce: () => string | undefined,
  ) {}

  check(proof: string, method: string, url: string, accessToken?: string): ProofCheck {
    try {
      const decoded = decodeJwt(proof);
      if (!decoded) return { problem: 'unreadable proof' };
      const { header, claims } = decoded;
      const jwk = header['jwk'] as Record<string, unknown> | undefined;
      if (header['typ'] !== 'dpop+jwt' || header['alg'] !== 'ES256' || jwk?.['kty'] !== 'EC' || jwk['crv'] !== 'P-256') return { problem: 'bad header' };
      if (!verifyWithJwk(proof, jwk as JsonWebKey)) return { problem: 'bad signature' };
      if (claims['htm'] !== method || claims['htu'] !== url) return { problem: `htm/htu ${String(claims['htm'])} ${String(claims['htu'])} do not match ${method} ${url}` };
      const iat = claims['iat'];
      if (typeof iat !== 'number' || Math.abs(iat - this.clock() / 1000) > 60) return { problem: 'stale iat' };
      const jti = claims['jti'];
      if (typeof jti !== 'string' || this.usedJtis.has(jti)) return { problem: 'jti reused' };
      if (accessToken !== undefined && claims['ath'] !== createHash('sha256').update(accessToken).digest('base64url')) return { problem: 'ath does not match' };
      const nonce = this.requiredNonce();
      if (nonce !== undefined && claims['nonce'] !== nonce) return { problem: 'nonce required', nonce: true };
      this.usedJtis.add(jti);
      return { jkt: ecThumbprint(jwk) };
    } catch (error) {
      return { problem: `unreadable proof: ${String(error)}` };
    }
  }
}
