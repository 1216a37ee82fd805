import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { isCausewayError } from '../../../../registry/index.js';
import { ServiceAccountTokenVerifier, peekToken } from '../../../../federation/index.js';

const NOW = Date.UTC(2030, 0, 1);
const ISSUER = 'https://kubernetes.default.svc.cluster.local';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
const jwks = {
  keys: [
    { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', use: 'sig', alg: 'RS256' },
    { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', use: 'sig', alg: 'ES256' },
    // Published by the cluster but not usable with RS256/ES256: known by kid, refused by name.
    { ...p384.publicKey.export({ format: 'jwk' }), kid: 'ec-384', use: 'sig', alg: 'ES384' },
    { ...rsa1024.publicKey.export({ format: 'jwk' }), kid: 'rsa-small', use: 'sig', alg: 'RS256' },
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

  it('names its key IDs, and peeks at a token\'s key ID and issuer without checking anything', () => {
    assert.deepEqual(verifier.keyIds(), ['rsa-1', 'ec-1', 'ec-384', 'rsa-small']);
    assert.equal(verifier.hasKey('ec-1'), true);
    assert.equal(verifier.hasKey('nope'), false);
    assert.deepEqual(peekToken(jwt(claims, { alg: 'RS256', kid: 'rotated' })), { kid: 'rotated', issuer: ISSUER });
    const [header = '', payload = ''] = jwt(claims).split('.');
    for (const bad of ['', 'a.b', `${header}.${payload}`, `${b64({ alg: 'RS256' })}.${payload}.x`, `${header}.!!.x`, `${header}.${payload}.x.y`, 'x'.repeat(20_000)]) {
      assert.equal(peekToken(bad), undefined, bad.slice(0, 40));
    }
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
      ['an ES256 signature in DER, not r||s', (() => {
        const input = `${b64({ alg: 'ES256', kid: 'ec-1' })}.${payload}`;
        return `${input}.${sign('sha256', Buffer.from(input), ec.privateKey).toString('base64url')}`;
      })(), /signature does not verify/],
      ['an ES384 key', jwt(claims, { alg: 'ES256', kid: 'ec-384' }, p384.privateKey), /key "ec-384" is on curve secp384r1 \(ES256 needs P-256\)/],
      ['an RSA-1024 key', jwt(claims, { alg: 'RS256', kid: 'rsa-small' }, rsa1024.privateKey), /key "rsa-small" is an RSA key of 1024 bits/],
      ['alg not a string', `${b64({ alg: ['RS256'], kid: 'rsa-1' })}.${payload}.${jwt(claims).split('.')[2]}`, /algorithm \["RS256"\] is not accepted/],
      ['alg toString', `${b64({ alg: 'toString', kid: 'rsa-1' })}.${payload}.${jwt(claims).split('.')[2]}`, /algorithm "toString" is not accepted/],
      ['no audience', jwt({ ...claims, aud: undefined }), /audience undefined does not include causeway/],
      ['no exp', jwt({ ...claims, exp: undefined }), /"exp" is missing/],
      ['exp far in the past', jwt({ ...claims, exp: -1e15 }), /expired at -1000000000000000 s after the epoch/],
      ['issued in the future', jwt({ ...claims, iat: seconds + 600, nbf: undefined, exp: seconds + 1200 }), /"iat" is in the future/],
      ['nbf not a number', jwt({ ...claims, nbf: 'soon' }), /"nbf" is not a number/],
      ['lives too long', jwt({ ...claims, exp: seconds + 86400 * 365 }), /lives 31536000 s, more than the 86400 s accepted/],
      ['kubernetes.io null', jwt({ ...claims, 'kubernetes.io': null }), /kubernetes.io claim is not an object/],
      ['kubernetes.io serviceaccount null', jwt({ ...claims, 'kubernetes.io': { namespace: 'payments', serviceaccount: null } }), /disagrees with the subject/],
      ['a name that is not DNS-1123', jwt({ ...claims, sub: 'system:serviceaccount:Pay:api', 'kubernetes.io': undefined }), /not a DNS-1123 name/],
      ['signature not base64url', `${header}.${payload}.a+b/`, /signature is not base64url/],
      ['header not JSON', `${Buffer.from('{nope').toString('base64url')}.${payload}.${jwt(claims).split('.')[2]}`, /header is not JSON/],
      ['payload not JSON', `${header}.${Buffer.from('nope').toString('base64url')}.${jwt(claims).split('.')[2]}`, /signature does not verify|payload is not JSON/],
    ];
    for (const [name, token, reason] of cases) {
      assert.throws(() => verifier.verify(token), (err) => isCausewayError(err, 'CW_SA_TOKEN_INVALID') && reason.test(err.message), name);
    }
    assert.throws(() => verifier.verify(undefined as unknown as string), (err) => isCausewayError(err, 'CW_SA_TOKEN_INVALID') && /not a string/.test(err.message));
  });

  it('accepts tokens within the leeway and up to the configured lifetime', () => {
    assert.equal(verifier.verify(jwt({ ...claims, exp: seconds - 30 })).namespace, 'payments', 'expired 30 s ago is within the 60 s leeway');
    assert.equal(verifier.verify(jwt({ ...claims, iat: seconds + 30, nbf: seconds + 30 })).namespace, 'payments');
    const noPod = verifier.verify(jwt({ ...claims, 'kubernetes.io': undefined }));
    assert.equal(noPod.podName, undefined);
    const strict = new ServiceAccountTokenVerifier({ issuer: ISSUER, audience: 'causeway', jwks, now: () => NOW, maxTokenTtlSeconds: 600 });
    assert.equal(strict.verify(jwt(claims)).serviceAccount, 'api');
    assert.throws(() => strict.verify(jwt({ ...claims, exp: seconds + 601 })), (err) => isCausewayError(err, 'CW_SA_TOKEN_INVALID') && /more than the 600 s/.test(err.message));
    // Without iat the lifetime counts from now.
    assert.throws(() => strict.verify(jwt({ ...claims, iat: undefined, exp: seconds + 601 })), (err) => isCausewayError(err, 'CW_SA_TOKEN_INVALID') && /lives 601 s/.test(err.message));
  });

  it('refuses a JWKS it cannot use at construction', () => {
    for (const [name, value, reason] of [
      ['not JSON', '{', /not JSON/],
      ['no keys', '{}', /no "keys" list/],
      ['no usable key', JSON.stringify({ keys: [{ kty: 'oct', kid: 'x', k: 'AA' }] }), /no usable key with a "kid"/],
      ['only weak keys', JSON.stringify({ keys: [null, jwks.keys[2], jwks.keys[3]] }), /no usable key with a "kid"/],
      ['a broken RSA key', JSON.stringify({ keys: [jwks.keys[0], { kty: 'RSA', kid: 'bad', n: 5 }] }), /keys\[1\] is unusable/],
    ] as const) {
      assert.throws(() => new ServiceAccountTokenVerifier({ issuer: ISSUER, audience: 'causeway', jwks: value }),
        (err) => isCausewayError(err, 'CW_CONFIG_INVALID') && reason.test(err.message), name);
    }
    for (const ttl of [0, -5, 1.5]) {
      assert.throws(() => new ServiceAccountTokenVerifier({ issuer: ISSUER, audience: 'causeway', jwks, maxTokenTtlSeconds: ttl }),
        (err) => isCausewayError(err, 'CW_CONFIG_INVALID') && /maxTokenTtlSeconds/.test(err.message), String(ttl));
    }
  });
});
