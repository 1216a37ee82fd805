import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/** A service-account issuer signing key (EC P-256, ES256) and its public JWK, as /openid/v1/jwks lists it. */
export interface IssuerKey {
  kid: string;
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

export function issuerKey(kid: string): IssuerKey {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, privateKey: pair.privateKey, jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'ES256' } };
}

/** A projected service account token for `system:serviceaccount:<namespace>:<account>`, audience causeway, 10 minutes, ES256 (r||s, RFC 7518 §3.4). */
export function serviceAccountToken(key: IssuerKey, options: { issuer: string; namespace: string; account: string }): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const claims = { iss: options.issuer, aud: ['causeway'], sub: `system:serviceaccount:${options.namespace}:${options.account}`, iat: now, exp: now + 600 };
  const input = `${part({ alg: 'ES256', kid: key.kid })}.${part(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}
