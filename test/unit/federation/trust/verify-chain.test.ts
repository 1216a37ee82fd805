import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { isCausewayError } from '../../../../registry/index.js';
import { TrustStore, verifyPeerChain } from '../../../../federation/index.js';
import { buildCert } from '../../../helpers/certs.js';

const rootA = buildCert({ ca: true, uris: ['spiffe://a.test'], subjectCn: 'root-a' });
const rootB = buildCert({ ca: true, uris: ['spiffe://b.test'], subjectCn: 'root-b' });
const trust = new TrustStore();
trust.set({ trustDomain: 'a.test', sequence: 1, refreshHintSeconds: 300, rootsPem: [rootA.certPem] });
trust.set({ trustDomain: 'b.test', sequence: 1, refreshHintSeconds: 300, rootsPem: [rootB.certPem] });

function refused(chain: X509Certificate[], code: 'CW_SVID_INVALID' | 'CW_CHAIN_UNTRUSTED', reason: RegExp): void {
  assert.throws(() => verifyPeerChain(chain, trust), (err) => isCausewayError(err, code) && reason.test(err.message));
}

describe('verifyPeerChain', () => {
  it('accepts a leaf signed by its own trust domain\'s root', () => {
    const leaf = buildCert({ issuer: rootA, uris: ['spiffe://a.test/gateway/gw'] });
    const peer = verifyPeerChain([leaf.x509], trust);
    assert.equal(peer.spiffeId, 'spiffe://a.test/gateway/gw');
    assert.equal(peer.trustDomain, 'a.test');
    assert.match(peer.fingerprint, /^[0-9a-f]{64}$/);
  });

  it('accepts a chain through an intermediate of the same domain', () => {
    const intermediate = buildCert({ issuer: rootA, ca: true, uris: ['spiffe://a.test'], subjectCn: 'int-a' });
    const leaf = buildCert({ issuer: intermediate, uris: ['spiffe://a.test/ns/x/sa/y'] });
    assert.equal(verifyPeerChain([leaf.x509, intermediate.x509], trust).spiffeId, 'spiffe://a.test/ns/x/sa/y');
  });

  it('refuses a leaf claiming one domain but signed by another domain\'s root', () => {
    const leaf = buildCert({ issuer: rootB, uris: ['spiffe://a.test/gateway/gw'] });
    refused([leaf.x509], 'CW_CHAIN_UNTRUSTED', /does not lead to a root of a\.test/);
  });

  it('refuses an unknown trust domain, a self-signed leaf, an expired or not-yet-valid leaf', () => {
    const rogueRoot = buildCert({ ca: true, uris: ['spiffe://rogue.test'] });
    refused([buildCert({ issuer: rogueRoot, uris: ['spiffe://rogue.test/x'] }).x509], 'CW_CHAIN_UNTRUSTED', /no bundle for trust domain rogue\.test/);
    refused([buildCert({ uris: ['spiffe://a.test/x'] }).x509], 'CW_CHAIN_UNTRUSTED', /does not lead to a root/);
    const past = buildCert({ issuer: rootA, uris: ['spiffe://a.test/x'], notBefore: new Date(Date.now() - 7200_000), notAfter: new Date(Date.now() - 3600_000) });
    refused([past.x509], 'CW_CHAIN_UNTRUSTED', /leaf expired/);
    const future = buildCert({ issuer: rootA, uris: ['spiffe://a.test/x'], notBefore: new Date(Date.now() + 3600_000), notAfter: new Date(Date.now() + 7200_000) });
    refused([future.x509], 'CW_CHAIN_UNTRUSTED', /not valid before/);
  });

  it('refuses leaves that break X509-SVID rules, each with its own reason', () => {
    refused([buildCert({ issuer: rootA, uris: ['spiffe://a.test/x', 'spiffe://a.test/y'] }).x509], 'CW_SVID_INVALID', /has 2 URI SANs/);
    refused([buildCert({ issuer: rootA, uris: [] }).x509], 'CW_SVID_INVALID', /has 0 URI SANs/);
    refused([buildCert({ issuer: rootA, uris: ['https://a.test/x'] }).x509], 'CW_SVID_INVALID', /scheme/);
    refused([buildCert({ issuer: rootA, ca: true, uris: ['spiffe://a.test/x'] }).x509], 'CW_SVID_INVALID', /leaf is a CA/);
    refused([], 'CW_CHAIN_UNTRUSTED', /no certificate/);
  });

  it('refuses an intermediate that is not a CA', () => {
    const notCa = buildCert({ issuer: rootA, uris: ['spiffe://a.test/mid'], subjectCn: 'mid' });
    const leaf = buildCert({ issuer: notCa, uris: ['spiffe://a.test/x'] });
    // node's checkIssued already refuses an issuer without CA key usage; either way the chain is untrusted.
    refused([leaf.x509, notCa.x509], 'CW_CHAIN_UNTRUSTED', /intermediate is not a CA|does not lead to a root/);
  });
});

describe('verifyPeerChain: signing certificates and trust-domain binding', () => {
  // An organisation root without a SPIFFE ID, shared by two trust domains (design brief:
  // "an organisation may instead give every gateway an intermediate under one root").
  const orgRoot = buildCert({ ca: true, keyType: 'ec', subjectCn: 'Example Org Root' });
  const intX = buildCert({ issuer: orgRoot, ca: true, keyType: 'ec', uris: ['spiffe://x.test'], subjectCn: 'int-x' });
  const intY = buildCert({ issuer: orgRoot, ca: true, keyType: 'ec', uris: ['spiffe://y.test'], subjectCn: 'int-y' });
  const shared = new TrustStore();
  shared.set({ trustDomain: 'x.test', sequence: 1, refreshHintSeconds: 300, rootsPem: [orgRoot.certPem] });
  shared.set({ trustDomain: 'y.test', sequence: 1, refreshHintSeconds: 300, rootsPem: [orgRoot.certPem] });
  const leafX = (issuer: typeof orgRoot): X509Certificate => buildCert({ issuer, keyType: 'ec', uris: ['spiffe://x.test/gateway/gw'] }).x509;

  function refusedFor(store: TrustStore, chain: X509Certificate[], code: 'CW_SVID_INVALID' | 'CW_CHAIN_UNTRUSTED', rule: string, message: RegExp): void {
    assert.throws(() => verifyPeerChain(chain, store), (err) => isCausewayError(err, code) && err.details[0] === rule && message.test(err.message));
  }

  it('accepts a leaf of x.test via an intermediate naming spiffe://x.test', () => {
    assert.equal(verifyPeerChain([leafX(intX), intX.x509], shared).spiffeId, 'spiffe://x.test/gateway/gw');
  });

  it('refuses a leaf of x.test via the intermediate of y.test under the same root', () => {
    refusedFor(shared, [leafX(intY), intY.x509], 'CW_SVID_INVALID', 'signing-wrong-trust-domain', /^intermediate "CN=int-y": signing-wrong-trust-domain: /);
  });

  it('refuses a leaf signed directly by the SAN-less shared root, or via a SAN-less intermediate', () => {
    refusedFor(shared, [leafX(orgRoot)], 'CW_CHAIN_UNTRUSTED', 'chain-not-bound-to-trust-domain',
      /chain-not-bound-to-trust-domain: no signing certificate on the path names spiffe:\/\/x\.test; a root shared by several trust domains vouches/);
    const anonymous = buildCert({ issuer: orgRoot, ca: true, keyType: 'ec', subjectCn: 'int-anon' });
    refusedFor(shared, [leafX(anonymous), anonymous.x509], 'CW_CHAIN_UNTRUSTED', 'chain-not-bound-to-trust-domain', /chain-not-bound/);
  });

  it('accepts a SAN-less intermediate under a root that names the domain', () => {
    const anonymous = buildCert({ issuer: rootA, ca: true, keyType: 'ec', subjectCn: 'int-anon-a' });
    const leaf = buildCert({ issuer: anonymous, keyType: 'ec', uris: ['spiffe://a.test/x'] });
    assert.equal(verifyPeerChain([leaf.x509, anonymous.x509], trust).trustDomain, 'a.test');
  });

  it('applies the signing rules to every intermediate and to the root', () => {
    const withPath = buildCert({ issuer: rootA, ca: true, keyType: 'ec', uris: ['spiffe://a.test/ca'], subjectCn: 'int-path' });
    refused([buildCert({ issuer: withPath, keyType: 'ec', uris: ['spiffe://a.test/x'] }).x509, withPath.x509], 'CW_SVID_INVALID',
      /^intermediate "CN=int-path": signing-spiffe-id-has-path: /);
    const noKeyUsage = buildCert({ ca: true, keyType: 'ec', keyUsage: 'absent', uris: ['spiffe://c.test'], subjectCn: 'root-c' });
    const store = new TrustStore();
    store.set({ trustDomain: 'c.test', sequence: 1, refreshHintSeconds: 300, rootsPem: [noKeyUsage.certPem] });
    refusedFor(store, [buildCert({ issuer: noKeyUsage, keyType: 'ec', uris: ['spiffe://c.test/x'] }).x509], 'CW_SVID_INVALID', 'signing-key-usage-missing',
      /^root "CN=root-c": signing-key-usage-missing: /);
  });

  it('refuses a leaf breaking a leaf rule before looking at trust, naming the rule', () => {
    const leaf = buildCert({ issuer: rootA, keyType: 'ec', uris: ['spiffe://a.test/x'], keyUsage: { bits: ['digitalSignature', 'keyCertSign'] } });
    assert.throws(() => verifyPeerChain([leaf.x509], trust), (err) => isCausewayError(err, 'CW_SVID_INVALID') && err.details[0] === 'leaf-key-cert-sign');
  });
});
