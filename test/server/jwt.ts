/**
 * ES256 signing for the test token server: ID tokens, JWT access tokens, and the JWKS that publishes the
 * public half. ES256 rather than RS256 because a P-256 key is made in a millisecond at server start.
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

export type JwtClaims = Record<string, unknown>;

export interface PublicSigningJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  alg: 'ES256';
  use: 'sig';
}

/** RFC 7638 thumbprint of a P-256 public key (also what DPoP's `jkt` is). */
export function ecThumbprint(jwk: { crv?: unknown; kty?: unknown; x?: unknown; y?: unknown }): string {
  const { crv, kty, x, y } = jwk;
  return createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
}

const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The header and claims of a compact JWS, unverified; undefined if it is not one. */
export function decodeJwt(token: string): { header: JwtClaims; claims: JwtClaims } | undefined {
  const [header64, payload64, signature, extra] = token.split('.');
  if (header64 === undefined || payload64 === undefined || signature === undefined || extra !== undefined) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(header64, 'base64url').toString());
    const claims: unknown = JSON.parse(Buffer.from(payload64, 'base64url').toString());
    if (!isObject(header) || !isObject(claims)) return undefined;
    return { header, claims };
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is JwtClaims {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class SigningKey {
  readonly alg = 'ES256';
  readonly kid: string;
  readonly publicJwk: PublicSigningJwk;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.publicKey = publicKey;
    const { x, y } = publicKey.export({ format: 'jwk' });
    this.kid = ecThumbprint({ crv: 'P-256', kty: 'EC', x, y });
    this.publicJwk = { kty: 'EC', crv: 'P-256', x: x!, y: y!, kid: this.kid, alg: 'ES256', use: 'sig' };
  }

  /** The private key as a JWK, for a provider that loads its keys from a JWKS (oidc-provider's `jwks`). */
  privateJwk(): JsonWebKey {
    return { ...this.privateKey.export({ format: 'jwk' }), kid: this.kid, alg: 'ES256', use: 'sig' };
  }

  sign(claims: JwtClaims, typ = 'JWT'): string {
    const input = `${encode({ alg: 'ES256', typ, kid: this.kid })}.${encode(claims)}`;
    const signature = sign('sha256', Buffer.from(input), { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }

  /** The claims of a JWT this key signed (signature, alg and kid checked; no claim is checked), or undefined. */
  verify(token: string): JwtClaims | undefined {
    const decoded = decodeJwt(token);
    if (!decoded || decoded.header['alg'] !== 'ES256' || decoded.header['kid'] !== this.kid) return undefined;
    const [header64, payload64, signature64] = token.split('.') as [string, string, string];
    const ok = verify('sha256', Buffer.from(`${header64}.${payload64}`), { key: this.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature64, 'base64url'));
    return ok ? decoded.claims : undefined;
  }
}

/** Verifies an ES256 JWS with a public JWK given inline (DPoP proofs carry their key in the header). */
export function verifyWithJwk(token: string, jwk: JsonWebKey): boolean {
  const [header64, payload64, signature64] = token.split('.');
  if (header64 === undefined || payload64 === undefined || signature64 === undefined) return false;
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  return verify('sha256', Buffer.from(`${header64}.${payload64}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature64, 'base64url'));
}
