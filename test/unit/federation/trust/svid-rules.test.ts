import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isCausewayError } from '../../../../registry/index.js';
import {
  CertificateAuthority, SVID_RULES, checkLeafSvid, checkSigningCertificate, readExtensions, type SvidRule,
} from '../../../../federation/index.js';
import { EKU_CLIENT_AUTH, EKU_SERVER_AUTH, OID_SUBJECT_ALT_NAME, buildCert, sanValue, type CertSpec } from '../../../helpers/certs.js';
import { makeTempDir } from '../../../helpers/paths.js';

const ID = 'spiffe://a.test/ns/x/sa/y';
// EC keys throughout (fast); key types are exercised by the positive controls.
const root = buildCert({ ca: true, keyType: 'ec', uris: ['spiffe://a.test'], subjectCn: 'root-a' });

/** A leaf shaped as our own CA issues them, with `change` applied: every rule holds unless a test breaks one. */
function leaf(change: CertSpec = {}): X509Certificate {
  return buildCert({
    issuer: root, keyType: 'ec', uris: [ID], emptySubject: true, extKeyUsage: { oids: [EKU_SERVER_AUTH, EKU_CLIENT_AUTH] }, ...change,
  }).x509;
}

/** A signing certificate (intermediate of a.test) with `change` applied. */
function signing(change: CertSpec = {}): X509Certificate {
  return buildCert({ issuer: root, keyType: 'ec', ca: true, uris: ['spiffe://a.test'], subjectCn: 'int-a', ...change }).x509;
}

const tested = new Set<SvidRule>();

function breaks(check: () => unknown, which: string, rule: SvidRule): void {
  tested.add(rule);
  assert.throws(check, (err) => {
    assert.ok(isCausewayError(err, 'CW_SVID_INVALID'), `expected CW_SVID_INVALID, got ${String(err)}`);
    assert.deepEqual(err.details, [rule]);
    assert.ok(err.message.startsWith(`${which}: ${rule}: `), err.message);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

const breaksLeaf = (cert: X509Certificate, rule: SvidRule): void => breaks(() => checkLeafSvid(cert), 'leaf', rule);
const breaksSigning = (cert: X509Certificate, rule: SvidRule): void => breaks(() => checkSigningCertificate(cert, 'a.test'), 'signing certificate', rule);

function openssl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('openssl', args, (err, stdout, stderr) => resolve({ code: err === null ? 0 : 1, stdout, stderr }));
  });
}

describe('readExtensions', () => {
  it('decodes presence, criticality and values of the four SVID extensions', () => {
    const cert = buildCert({
      issuer: root, keyType: 'ec', ca: true, basicConstraints: { cA: true, pathLen: 2 }, keyUsage: { bits: ['digitalSignature', 'keyCertSign', 'cRLSign'] },
      extKeyUsage: { oids: [EKU_CLIENT_AUTH], critical: true }, uris: ['spiffe://a.test'], dnsNames: ['a.example', 'b.example'], sanCritical: true,
    });
    const ext = readExtensions(cert.x509.raw);
    assert.deepEqual(ext.basicConstraints, { present: true, critical: true, cA: true, pathLen: 2 });
    assert.equal(ext.keyUsage.present && ext.keyUsage.critical, true);
    assert.deepEqual(Object.entries(ext.keyUsage.bits).filter(([, on]) => on).map(([name]) => name), ['digitalSignature', 'keyCertSign', 'cRLSign']);
    assert.deepEqual(ext.extKeyUsage, { present: true, critical: true, oids: [EKU_CLIENT_AUTH] });
    assert.deepEqual(ext.subjectAltName, { present: true, critical: true, uris: ['spiffe://a.test'], dnsNames: ['a.example', 'b.example'] });
    assert.equal(ext.subjectIsEmpty, false);
  });

  it('reports absent extensions and an empty subject', () => {
    const ext = readExtensions(buildCert({ keyType: 'ed25519', emptySubject: true, basicConstraints: 'absent', keyUsage: 'absent', uris: [] }).x509.raw);
    assert.equal(ext.basicConstraints.present || ext.keyUsage.present || ext.extKeyUsage.present || ext.subjectAltName.present, false);
    assert.equal(ext.basicConstraints.cA, false);
    assert.equal(ext.subjectIsEmpty, true);
  });

  it('refuses unreadable DER with CW_SVID_INVALID naming the problem', () => {
    const der = leaf().raw;
    const refused = (bytes: Buffer, reason: RegExp): void => {
      assert.throws(() => readExtensions(bytes), (err) => isCausewayError(err, 'CW_SVID_INVALID') && reason.test(err.message));
    };
    refused(Buffer.from('not a certificate'), /certificate cannot be read: the certificate is not DER/);
    refused(der.subarray(0, der.length - 10), /not DER/);
    refused(Buffer.concat([der, Buffer.from([0])]), /not DER/);
    refused(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]), /tbsCertificate/);
  });
});

describe('leaf X509-SVID rules', () => {
  it('accepts well-formed leaves of every key type, with or without the optional parts', () => {
    assert.equal(checkLeafSvid(leaf()).uri, ID);
    assert.equal(checkLeafSvid(leaf({ keyType: 'rsa' })).uri, ID); // digitalSignature + keyEncipherment (X509-SVID §4.3 MAY)
    assert.equal(checkLeafSvid(leaf({ keyType: 'ec-p384', keyUsage: { bits: ['digitalSignature', 'keyAgreement'] } })).trustDomain, 'a.test');
    assert.equal(checkLeafSvid(leaf({ keyType: 'ed25519' })).path, '/ns/x/sa/y');
    // EKU is a SHOULD; basicConstraints absent means cA=false; DNS SANs may accompany the URI SAN (§2);
    // a non-critical SAN is fine when the subject is not empty.
    checkLeafSvid(leaf({ extKeyUsage: 'absent', basicConstraints: 'absent', dnsNames: ['x.example'] }));
    checkLeafSvid(leaf({ emptySubject: false, sanCritical: false, extKeyUsage: { oids: [EKU_CLIENT_AUTH, EKU_SERVER_AUTH], critical: true } }));
  });

  it('certificate-malformed: a duplicated SAN extension (RFC 5280 §4.2)', () => {
    breaksLeaf(leaf({ extraExtensions: [{ oid: OID_SUBJECT_ALT_NAME, value: sanValue(['spiffe://b.test/evil']) }] }), 'certificate-malformed');
  });

  it('uri-san-missing: no SAN at all, or only DNS SANs', () => {
    breaksLeaf(leaf({ uris: [], emptySubject: false }), 'uri-san-missing');
    breaksLeaf(leaf({ uris: [], dnsNames: ['a.example'] }), 'uri-san-missing');
  });

  it('uri-san-multiple: two URI SANs', () => {
    breaksLeaf(leaf({ uris: [ID, 'spiffe://a.test/other'] }), 'uri-san-multiple');
  });

  it('spiffe-id-invalid: a URI that is not a SPIFFE ID', () => {
    breaksLeaf(leaf({ uris: ['https://a.test/x'] }), 'spiffe-id-invalid');
    breaksLeaf(leaf({ uris: ['spiffe://A.test/x'] }), 'spiffe-id-invalid');
  });

  it('spiffe-id-no-path: a leaf naming only its trust domain', () => {
    breaksLeaf(leaf({ uris: ['spiffe://a.test'] }), 'spiffe-id-no-path');
  });

  it('san-not-critical-empty-subject: empty subject with a non-critical SAN (RFC 5280 §4.2.1.6)', () => {
    breaksLeaf(leaf({ sanCritical: false }), 'san-not-critical-empty-subject');
  });

  it('leaf-is-ca: basicConstraints cA=true', () => {
    breaksLeaf(leaf({ basicConstraints: { cA: true } }), 'leaf-is-ca');
  });

  it('key-usage-missing and key-usage-not-critical', () => {
    breaksLeaf(leaf({ keyUsage: 'absent' }), 'key-usage-missing');
    breaksLeaf(leaf({ keyUsage: { bits: ['digitalSignature'], critical: false } }), 'key-usage-not-critical');
  });

  it('leaf-no-digital-signature, leaf-key-cert-sign, leaf-crl-sign', () => {
    breaksLeaf(leaf({ keyType: 'rsa', keyUsage: { bits: ['keyEncipherment'] } }), 'leaf-no-digital-signature');
    breaksLeaf(leaf({ keyUsage: { bits: [] } }), 'leaf-no-digital-signature');
    breaksLeaf(leaf({ keyUsage: { bits: ['digitalSignature', 'keyCertSign'] } }), 'leaf-key-cert-sign');
    breaksLeaf(leaf({ keyUsage: { bits: ['digitalSignature', 'cRLSign'] } }), 'leaf-crl-sign');
  });

  it('eku-no-server-auth and eku-no-client-auth, when an EKU extension is present', () => {
    breaksLeaf(leaf({ extKeyUsage: { oids: [EKU_CLIENT_AUTH] } }), 'eku-no-server-auth');
    breaksLeaf(leaf({ extKeyUsage: { oids: [] } }), 'eku-no-server-auth');
    breaksLeaf(leaf({ extKeyUsage: { oids: [EKU_SERVER_AUTH, '1.3.6.1.5.5.7.3.3'] } }), 'eku-no-client-auth');
  });
});

describe('signing certificate rules', () => {
  it('accepts our roots, an intermediate naming the domain, a SAN-less organisation root', () => {
    checkSigningCertificate(root.x509, 'a.test');
    checkSigningCertificate(signing(), 'a.test');
    checkSigningCertificate(buildCert({ ca: true, keyType: 'ed25519', subjectCn: 'Example Org Root' }).x509, 'a.test');
    checkSigningCertificate(signing({ keyType: 'rsa', basicConstraints: { cA: true, pathLen: 0 }, keyUsage: { bits: ['keyCertSign'] } }), 'a.test');
  });

  it('names the certificate given as `which`', () => {
    assert.throws(() => checkSigningCertificate(signing({ uris: ['spiffe://b.test'] }), 'a.test', 'intermediate "CN=int-a"'),
      (err) => isCausewayError(err, 'CW_SVID_INVALID') && err.message.startsWith('intermediate "CN=int-a": signing-wrong-trust-domain: '));
  });

  it('certificate-malformed applies to signing certificates too', () => {
    breaksSigning(signing({ extraExtensions: [{ oid: OID_SUBJECT_ALT_NAME, value: sanValue(['spiffe://b.test']) }] }), 'certificate-malformed');
  });

  it('signing-not-ca: cA=false or no basicConstraints', () => {
    breaksSigning(signing({ basicConstraints: { cA: false } }), 'signing-not-ca');
    breaksSigning(signing({ basicConstraints: 'absent' }), 'signing-not-ca');
  });

  it('signing-key-usage-missing, signing-key-usage-not-critical, signing-no-key-cert-sign', () => {
    breaksSigning(signing({ keyUsage: 'absent' }), 'signing-key-usage-missing');
    breaksSigning(signing({ keyUsage: { bits: ['keyCertSign', 'cRLSign'], critical: false } }), 'signing-key-usage-not-critical');
    breaksSigning(signing({ keyUsage: { bits: ['cRLSign', 'digitalSignature'] } }), 'signing-no-key-cert-sign');
  });

  it('signing-subject-empty: a CA with an empty subject (RFC 5280 §4.1.2.6)', () => {
    breaksSigning(signing({ emptySubject: true }), 'signing-subject-empty');
  });

  it('signing-uri-san-multiple, signing-spiffe-id-invalid, signing-spiffe-id-has-path, signing-wrong-trust-domain', () => {
    breaksSigning(signing({ uris: ['spiffe://a.test', 'spiffe://b.test'] }), 'signing-uri-san-multiple');
    breaksSigning(signing({ uris: ['https://ca.example.org'] }), 'signing-spiffe-id-invalid');
    breaksSigning(signing({ uris: ['spiffe://a.test/ca'] }), 'signing-spiffe-id-has-path');
    breaksSigning(signing({ uris: ['spiffe://b.test'] }), 'signing-wrong-trust-domain');
  });
});

describe('X509-SVIDs of our own CA', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('pass every rule and read as SVIDs to openssl', async () => {
    const tmp = await makeTempDir('svid-rules');
    cleanups.push(tmp.remove);
    const ca = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'ca'), trustDomain: 'a.test' });
    cleanups.push(async () => ca.close());
    const svid = ca.issueKeyAndSvid(ID, 600);
    const leafPem = `${svid.certChainPem.split('-----END CERTIFICATE-----')[0] ?? ''}-----END CERTIFICATE-----\n`;
    assert.equal(checkLeafSvid(new X509Certificate(leafPem)).uri, ID);
    checkSigningCertificate(new X509Certificate(ca.rootCertificatePem), 'a.test');

    const leafFile = path.join(tmp.dir, 'leaf.pem');
    const rootFile = path.join(tmp.dir, 'root.pem');
    await writeFile(leafFile, leafPem);
    await writeFile(rootFile, ca.rootCertificatePem);
    const text = await openssl(['x509', '-in', leafFile, '-text', '-noout']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    assert.doesNotMatch(text.stdout, /Certificate Sign|CRL Sign/);
    assert.match(text.stdout, /CA:FALSE/);
    assert.match(text.stdout, /X509v3 Subject Alternative Name: critical\n\s+URI:spiffe:\/\/a\.test\/ns\/x\/sa\/y\n/);
    assert.match(text.stdout, /TLS Web Server Authentication, TLS Web Client Authentication/);
    for (const purpose of ['sslclient', 'sslserver']) {
      const verified = await openssl(['verify', '-CAfile', rootFile, '-purpose', purpose, leafFile]);
      assert.equal(verified.code, 0, `${purpose}: ${verified.stdout}${verified.stderr}`);
      assert.match(verified.stdout, /: OK/);
    }
    // A control for the openssl check itself: a leaf without serverAuth fails -purpose sslserver.
    await writeFile(rootFile, root.certPem);
    await writeFile(leafFile, buildCert({ issuer: root, keyType: 'ec', uris: [ID], extKeyUsage: { oids: [EKU_CLIENT_AUTH] } }).certPem);
    assert.equal((await openssl(['verify', '-CAfile', rootFile, '-purpose', 'sslclient', leafFile])).code, 0);
    assert.notEqual((await openssl(['verify', '-CAfile', rootFile, '-purpose', 'sslserver', leafFile])).code, 0);
  });
});

describe('rule coverage', () => {
  it('every rule in SVID_RULES has a negative test above, and names are unique kebab-case', () => {
    assert.deepEqual([...tested].sort(), [...SVID_RULES].sort());
    assert.equal(new Set(SVID_RULES).size, SVID_RULES.length);
    for (const rule of SVID_RULES) assert.match(rule, /^[a-z]+(-[a-z]+)*$/);
  });
});
