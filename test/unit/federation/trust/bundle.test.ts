import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCausewayError } from '../../../../registry/index.js';
import { TrustStore, bundlesEqual, decodeBundle, decodeBundleMap, encodeBundle, type TrustBundle } from '../../../../federation/index.js';
import { buildCert } from '../../../helpers/certs.js';

const rootA = buildCert({ ca: true, uris: ['spiffe://a.test'] });
const rootB = buildCert({ ca: true, uris: ['spiffe://a.test'] });
const bundle: TrustBundle = { trustDomain: 'a.test', sequence: 3, refreshHintSeconds: 120, rootsPem: [rootA.certPem] };

function rejects(json: string, reason: RegExp): void {
  assert.throws(() => decodeBundle('a.test', json), (err) => isCausewayError(err, 'CW_BUNDLE_INVALID') && reason.test(err.message));
}

describe('SPIFFE trust bundles', () => {
  it('round-trips through the SPIFFE JSON format', () => {
    const json = encodeBundle(bundle);
    const document = JSON.parse(json) as { keys: Array<Record<string, unknown>>; spiffe_sequence: number; spiffe_refresh_hint: number };
    assert.equal(document.spiffe_sequence, 3);
    assert.equal(document.spiffe_refresh_hint, 120);
    assert.equal(document.keys[0]?.use, 'x509-svid');
    assert.equal(document.keys[0]?.kty, 'RSA');
    assert.equal((document.keys[0]?.x5c as string[]).length, 1);
    assert.ok(bundlesEqual(decodeBundle('a.test', json), bundle));
  });

  it('ignores jwt-svid keys but needs at least one x509-svid key', () => {
    const document = JSON.parse(encodeBundle(bundle)) as { keys: unknown[] };
    document.keys.push({ use: 'jwt-svid', kty: 'EC', kid: 'k1' });
    assert.equal(decodeBundle('a.test', JSON.stringify(document)).rootsPem.length, 1);
    rejects(JSON.stringify({ keys: [{ use: 'jwt-svid', kty: 'EC' }] }), /no x509-svid keys/);
  });

  it('rejects malformed documents, naming the problem', () => {
    const good = JSON.parse(encodeBundle(bundle)) as { keys: Array<Record<string, unknown>> };
    const der = (good.keys[0]?.x5c as string[])[0];
    rejects('{not json', /not JSON/);
    rejects('[]', /not a JSON object/);
    rejects('{}', /"keys" is missing/);
    rejects('{"keys": {}}', /"keys" is not an array/);
    rejects(JSON.stringify({ keys: [{ ...good.keys[0], use: 'sig' }] }), /use is "sig", expected "x509-svid"/);
    rejects(JSON.stringify({ keys: [{ ...good.keys[0], x5c: [] }] }), /has 0 certificates, exactly 1/);
    rejects(JSON.stringify({ keys: [{ ...good.keys[0], x5c: [der, der] }] }), /has 2 certificates, exactly 1/);
    rejects(JSON.stringify({ keys: [{ ...good.keys[0], x5c: ['bm90IGEgY2VydA=='] }] }), /not a DER certificate/);
    rejects(JSON.stringify({ ...good, spiffe_sequence: -1 }), /spiffe_sequence/);
  });

  it('refuses a bundle map that names a trust domain twice', () => {
    const json = encodeBundle(bundle);
    assert.throws(() => decodeBundleMap([['a.test', json], ['a.test', json]]), (err) => isCausewayError(err, 'CW_BUNDLE_INVALID') && /appears twice/.test(err.message));
  });

  it('keeps bundles per trust domain and refuses a lower sequence', () => {
    const store = new TrustStore();
    let changes = 0;
    store.onChange(() => changes++);
    assert.equal(store.set(bundle), true);
    assert.equal(store.set(bundle), false, 'same bundle again is a no-op');
    assert.throws(() => store.set({ ...bundle, sequence: 2, rootsPem: [rootB.certPem] }), (err) => isCausewayError(err, 'CW_BUNDLE_STALE'));
    assert.deepEqual(store.get('a.test')?.rootsPem, [rootA.certPem]);
    store.set({ ...bundle, sequence: 4, rootsPem: [rootB.certPem] });
    store.set({ trustDomain: 'b.test', sequence: 1, refreshHintSeconds: 300, rootsPem: [rootA.certPem] });
    assert.deepEqual(store.trustDomains().sort(), ['a.test', 'b.test']);
    assert.equal(store.allRootsPem().length, 2);
    assert.equal(store.remove('b.test'), true);
    assert.equal(store.remove('b.test'), false);
    assert.equal(changes, 4);
  });
});
