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
