import type { DpopProver } from '../../feature-contracts.js';

/*
 * DPoP proofs (RFC 9449): ES256 JWTs signed with a P-256 key pair whose private half is non-extractable,
 * one per request, with the server's nonce once it asked for one.
 */

const encoder = new TextEncoder();

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  let binary = '';
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const json64 = (value: object) => base64url(encoder.encode(JSON.stringify(value)));

/** A P-256 key pair for ES256 proofs: the private half cannot be exported. */
export function generateDpopKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
}

/** `htu`: the request URL without query and fragment (RFC 9449 §4.2). */
export function htu(url: string): string {
  const parsed = new URL(url);
  return parsed.origin + parsed.pathname;
}

export function createDpopProver(keys: () => Promise<CryptoKeyPair>, now: () => number, newId: () => string): DpopProver {
  const nonces = new Map<string, string>();
  const athCache = { token: '', ath: '' };
  let publicJwk: Promise<JsonWebKey> | null = null;

  async function ath(accessToken: string): Promise<string> {
    // One hash per token, not per request: the hot path signs, it need not hash the same token again.
    if (athCache.token !== accessToken) {
      athCache.ath = base64url(await crypto.subtle.digest('SHA-256', encoder.encode(accessToken)));
      athCache.token = accessToken;
    }
    return athCache.ath;
  }

  /** Keeps the `DPoP-Nonce` a server sent (token endpoint or resource server), for that origin's next proofs. */
  function remember(response: Response, url: string): void {
    const nonce = response.headers.get('DPoP-Nonce');
    if (nonce !== null) nonces.set(new URL(url).origin, nonce);
  }

  /** True when `response` asks for a (new) nonce: the request should be sent once more with a fresh proof. */
  async function wantsNonce(response: Response): Promise<boolean> {
    if (response.headers.get('DPoP-Nonce') === null) return false;
    if (response.status === 401) return /\buse_dpop_nonce\b/.test(response.headers.get('WWW-Authenticate') ?? '');
    if (response.status !== 400) return false;
    const body: unknown = await response.clone().json().catch(() => null);
    return typeof body === 'object' && body !== null && (body as { error?: unknown }).error === 'use_dpop_nonce';
  }

  const prover: DpopProver = {
    keyPair: keys,
    async proof(method, url, accessToken) {
      const pair = await keys();
      publicJwk ??= crypto.subtle.exportKey('jwk', pair.publicKey).then(({ kty, crv, x, y }) => ({ kty, crv, x, y }) as JsonWebKey);
      const claims: Record<string, unknown> = { jti: newId(), htm: method, htu: htu(url), iat: Math.floor(now() / 1000) };
      if (accessToken !== undefined) claims['ath'] = await ath(accessToken);
      const nonce = nonces.get(new URL(url).origin);
      if (nonce !== undefined) claims['nonce'] = nonce;
      const input = `${json64({ typ: 'dpop+jwt', alg: 'ES256', jwk: await publicJwk })}.${json64(claims)}`;
      const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, encoder.encode(input));
      return `${input}.${base64url(signature)}`;
    },
    async send(fetchFn, build, accessToken) {
      const attempt = async () => {
        const request = build();
        request.headers.set('DPoP', await prover.proof(request.method, request.url, accessToken));
        const response = await fetchFn(request);
        remember(response, request.url);
        return response;
      };
      const response = await attempt();
      return (await wantsNonce(response)) ? attempt() : response;
    },
  };
  return prover;
}
