import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  deriveBootstrapSecret, formatBootstrapCredential, parseBootstrapCredential, requestProof, responseProof, type BootstrapRequestFields,
} from '../../../../federation/peering/index.js';
import { mintCredential, mintKey } from '../../../helpers/bootstrap-mint.js';

const KEY = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const ID = '00112233445566778899aabbccddeeff';

describe('bootstrap credentials: derivation and proofs', () => {
  it('derives the secret by the documented formula (a vector computed with printf | sha256sum)', () => {
    // inner = sha256("causeway-bootstrap-v1\ncluster-a\ncluster-b\n<id>\n1767225600") = 88f81e02…
    // secret = sha256("<key>\n<inner>")
    assert.equal(deriveBootstrapSecret(KEY, { from: 'cluster-a', to: 'cluster-b', id: ID, exp: 1767225600 }),
      '98c2f747458ecdcebcfefd60e82c11a2e0d1b95d4f14b0ae5775791fe49da381');
  });

  it('agrees with the Terraform formula as the tests write it, for any key and pair', () => {
    for (let i = 0; i < 20; i += 1) {
      const keyHex = mintKey();
      const text = mintCredential({ keyHex, from: `from-${i}`, to: `to-${i}`, exp: 1_800_000_000 + i });
      const credential = parseBootstrapCredential(text);
      assert.equal(deriveBootstrapSecret(keyHex, credential), credential.secret);
      assert.equal(formatBootstrapCredential(credential), text);
    }
  });

  it('binds every field of the request and of the response, with no two field lists encoding alike', () => {
    const secret = deriveBootstrapSecret(KEY, { from: 'cluster-a', to: 'cluster-b', id: ID, exp: 1767225600 });
    const request: BootstrapRequestFields = {
      nonce: 'ab'.repeat(16), id: ID, exp: 1767225600, from: 'cluster-a', to: 'cluster-b',
      cluster: 'cluster-a', trustDomain: 'a.test', gatewayId: 'spiffe://a.test/gateway/gw', bundleJson: '{"keys":[]}',
    };
    const base = requestProof(secret, request);
    assert.match(base, /^[0-9a-f]{64}$/);
    for (const field of Object.keys(request) as Array<keyof BootstrapRequestFields>) {
      const changed = { ...request, [field]: typeof request[field] === 'number' ? 1767225601 : `${String(request[field])}x` };
      assert.notEqual(requestProof(secret, changed), base, `${field} is not under the request proof`);
    }
    // A boundary moved between two neighbouring fields is another message.
    assert.notEqual(requestProof(secret, { ...request, trustDomain: 'a.test", "spiffe', gatewayId: '//a.test/gateway/gw' }), base);
    const response = { nonce: request.nonce, id: ID, cluster: 'cluster-b', trustDomain: 'b.test', gatewayId: 'spiffe://b.test/gateway/gw', bundleJson: '{"keys":[]}' };
    const answered = responseProof(secret, response);
    for (const field of Object.keys(response) as Array<keyof typeof response>) {
      assert.notEqual(responseProof(secret, { ...response, [field]: `${response[field]}x` }), answered, `${field} is not under the response proof`);
    }
    // A request proof is never a response proof (distinct labels), even over the same values.
    assert.notEqual(responseProof(secret, { ...response, cluster: request.cluster, trustDomain: request.trustDomain }), base);
  });
});
