import { createHash, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDpopProver, generateDpopKeys, htu } from '../../src/sw/features/dpop/prover.js';

const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;

describe('DPoP proofs (RFC 9449)', () => {
  it('are ES256 JWTs with the public key, htm, htu without query, iat, unique jti — verifiable by a server', async () => {
    const keys = await generateDpopKeys();
    expect(keys.privateKey.extractable).toBe(false);
    let id = 0;
    const prover = createDpopProver(async () => keys, () => 1_700_000_000_123, () => `jti-${++id}`);
    const proof = await prover.proof('POST', 'https://as.example/token?x=1#f');
    const [h, p, sig] = proof.split('.') as [string, string, string];
    const header = decode(h);
    expect(header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256' } });
    expect(Object.keys(header['jwk'] as object).sort()).toEqual(['crv', 'kty', 'x', 'y']); // public part only
    expect(decode(p)).toEqual({ jti: 'jti-1', htm: 'POST', htu: 'https://as.example/token', iat: 1_700_000_000 });
    const key = createPublicKey({ key: header['jwk'] as never, format: 'jwk' });
    expect(verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url'))).toBe(true);
    expect(decode((await prover.proof('POST', 'https://as.example/token')).split('.')[1]!)['jti']).toBe('jti-2');
  });

  it('carries ath = base64url(SHA-256(access token)) for resource requests', async () => {
    const keys = await generateDpopKeys();
    const prover = createDpopProver(async () => keys, Date.now, () => 'j');
    const claims = decode((await prover.proof('GET', 'https://api.example/v1/x', 'the-token')).split('.')[1]!);
    expect(claims['ath']).toBe(createHash('sha256').update('the-token').digest('base64url'));
  });

  it('follows use_dpop_nonce once, from the token endpoint (400) and a resource server (401), per origin', async () => {
    const keys = await generateDpopKeys();
    const prover = createDpopProver(async () => keys, Date.now, () => 'j');
    const seen: Array<unknown> = [];
    const server = async (input: RequestInfo | URL) => {
      const request = input as Request;
      const nonce = decode(request.headers.get('DPoP')!.split('.')[1]!)['nonce'];
      seen.push(nonce ?? null);
      if (nonce === 'n-1') return new Response('{}', { status: 200 });
      return request.url.includes('/token')
        ? new Response(JSON.stringify({ error: 'use_dpop_nonce' }), { status: 400, headers: { 'DPoP-Nonce': 'n-1' } })
        : new Response('', { status: 401, headers: { 'WWW-Authenticate': 'DPoP error="use_dpop_nonce"', 'DPoP-Nonce': 'n-1' } });
    };
    expect((await prover.send(server, () => new Request('https://as.example/token', { method: 'POST' }))).status).toBe(200);
    expect(seen).toEqual([null, 'n-1']);
    // the nonce is remembered for that origin
    expect((await prover.send(server, () => new Request('https://as.example/token', { method: 'POST' }))).status).toBe(200);
    expect(seen).toEqual([null, 'n-1', 'n-1']);
    // another origin has its own
    expect((await prover.send(server, () => new Request('https://api.example/x'), 'tok')).status).toBe(200);
    expect(seen).toEqual([null, 'n-1', 'n-1', null, 'n-1']);
  });

  it('does not retry other errors', async () => {
    const keys = await generateDpopKeys();
    const prover = createDpopProver(async () => keys, Date.now, () => 'j');
    let calls = 0;
    const server = async () => {
      calls++;
      return new Response(JSON.stringify({ error: 'invalid_grant' }), { status: 400, headers: { 'DPoP-Nonce': 'n' } });
    };
    expect((await prover.send(server, () => new Request('https://as.example/token', { method: 'POST' }))).status).toBe(400);
    expect(calls).toBe(1);
    expect(htu('https://a.example:8443/p/q?x#y')).toBe('https://a.example:8443/p/q');
  });
});
