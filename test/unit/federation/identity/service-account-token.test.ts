import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { isCausewayError } from '../../../../registry/index.js';
import { ServiceAccountTokenVerifier } from '../../../../federation/index.js';

const NOW = Date.UTC(2030, 0, 1);
const ISSUER = 'https://kubernetes.default.svc.cluster.local';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwks = {
  keys: [
    { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', use: 'sig', alg: 'RS256' },
    { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', use: 'sig', alg: 'ES256' },
  ],
};

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A JWS compact token; ES256 signatures are r||s (RFC 7518 §3.4). */
function jwt(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256', kid: 'rsa-1' }, key: KeyObject = rsa.privateKey): string {
  const signingInput = `${b64(header)}.${b64(claims)}`;
  const signature = header.alg === 'ES256'
    ? sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' })
    : sign('sha256', Buffer.from(signingInput), key);
  return `${signingInput}.${signature.toString('base64url')}`;
}

const seconds = Math.floor(NOW / 1000);
const claims = {
  iss: ISSUER, aud: ['causeway'], sub: 'system:serviceaccount:payments:api', iat: seconds, nbf: seconds, exp: seconds + 600,
  'kubernetes.io': { namespace: 'payments', serviceaccount: { name: 'api', uid: 'u-1' }, pod: { name: 'api-7d9', uid: 'p-1' } },
};

describe('ServiceAccountTokenVerifier', () => {
  const verifier = new ServiceAccountTokenVerifier({ issuer: ISSUER, audience: 'causeway', jwks: JSON.stringify(jwks), now: () => NOW });

  it('accepts RS256 and ES256 projected tokens and names the service account', () => {
    assert.deepEqual(verifier.verify(jwt(claims)), {
      namespace: 'payments', serviceAccount: 'api', podName: 'api-7d9', expiresAt: new Date((seconds + 600) * 1000),
    });
    assert.equal(verifier.verify(jwt({ ...claims, aud: 'causeway' }, { alg: 'ES256', kid: 'ec-1' }, ec.privateKey)).serviceAccount, 'api');
  });

  it('refuses every bad token with CW_SA_TOKEN_INVALID naming why', () => {
    const [header, payload] = jwt(claims).split('.') as [string, string];
    const hmac = createHmac('sha256', 'secret').update(`${b64({ alg: 'HS256', kid: 'rsa-1' })}.${payload}`).digest('base64url');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const cases: Array<[string, string, RegExp]> = [
      ['two parts', `${header}.${payload}`, /has 2 parts/],
      ['alg none', `${b64({ alg: 'none', kid: 'rsa-1' })}.${payload}.`, /algorithm "none" is not accepted/],
      ['HMAC', `${b64({ alg: 'HS256', kid: 'rsa-1' })}.${payload}.${hmac}`, /algorithm "HS256" is not accepted/],
      ['no kid', jwt(claims, { alg: 'RS256' }), /no "kid"/],
      ['unknown kid', jwt(claims, { alg: 'RS256', kid: 'rsa-9' }), /key "rsa-9" is not in the issuer's JWKS/],
      ['key type confusion', jwt(claims, { alg: 'RS256', kid: 'ec-1' }), /key "ec-1" is EC, not usable with RS256/],
      ['wrong signer', jwt(claims, { alg: 'RS256', kid: 'rsa-1' }, other), /signature does not verify/],
      ['edited payload', `${header}.${b64({ ...claims, sub: 'system:serviceaccount:kube-system:admin' })}.${jwt(claims).split('.')[2]}`, /signature does not verify/],
      ['wrong issuer', jwt({ ...claims, iss: 'https://other' }), /issuer "https:\/\/other" is not/],
      ['wrong audience', jwt({ ...claims, aud: ['vault'] }), /audience \["vault"\] does not include causeway/],
      ['expired', jwt({ ...claims, exp: seconds - 120 }), /expired at/],
      ['not yet valid', jwt({ ...claims, nbf: seconds + 600 }), /"nbf" is in the future/],
      ['not a service account', jwt({ ...claims, sub: 'system:node:worker-1' }), /is not system:serviceaccount/],
      ['claims disagree', jwt({ ...claims, 'kubernetes.io': { namespace: 'other', serviceaccount: { name: 'api' } } }), /disagrees with the subject/],
      ['over-long', 'a'.repeat(17 * 1024), /longer than 16384 bytes/],
      ['payload not JSON', `${header}.${Buffer.from('nope').toString('base64url')}.${jwt(claims).split('.')[2]}`, /signature does not verify|payload is not JSON/],
    ];
    for (const [name, token, reason] of cases) {
      assert.throws(() => verifier.verify(token), (err) => isCausewayError(err, 'CW_SA_TOKEN_INVALID') && reason.test(err.message), name);
    }
  });

  it('refuses a JWKS it cannot use at construction', () => {
    for (const [name, value, reason] of [
      ['not JSON', '{', /not JSON/],
      ['no keys', '{}', /no "keys" list/],
      ['no usable key', JSON.stringify({ keys: [{ kty: 'oct', kid: 'x', k: 'AA' }] }), /no usable RSA or EC key/],
    ] as const) {
      assert.throws(() => new ServiceAccountTokenVerifier({ issuer: ISSUER, audience: 'causeway', jwks: value }),
        (err) => isCausewayError(err, 'CW_CONFIG_INVALID') && reason.test(err.message), name);
    }
  });
});
