import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect, createServer } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { buildCertificate, newKeyPair, type CertificateSpec, type KeyPair } from '../../../../federation/trust/certificate-builder.js';
import { isCausewayError } from '../../../../registry/index.js';
import { makeTempDir } from '../../../helpers/paths.js';

function openssl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile('openssl', args, (err, stdout, stderr) => resolve({ code: err === null ? 0 : 1, stdout, stderr })));
}

function caOf(key: KeyPair, notAfter = new Date(Date.now() + 86400_000)): string {
  return buildCertificate({
    spkiDer: key.spkiDer, serialHex: '01aa', notBefore: new Date(Date.now() - 60_000), notAfter,
    subject: [{ type: 'organizationName', value: 'Test' }, { type: 'commonName', value: 'test root' }], selfKey: key.privateKey,
    basicConstraints: { cA: true, critical: true }, keyUsage: { bits: ['keyCertSign', 'cRLSign'], critical: true },
    subjectAltName: { uris: ['spiffe://a.test'], dns: [], critical: false },
  });
}

function leafOf(spkiDer: Buffer, issuerPem: string, issuerKey: KeyPair, bits: Array<'digitalSignature' | 'keyEncipherment'> = ['digitalSignature']): string {
  return buildCertificate({
    spkiDer, serialHex: '7f01', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3600_000), subject: [],
    issuer: { certDer: new X509Certificate(issuerPem).raw, key: issuerKey.privateKey },
    basicConstraints: { cA: false, critical: true }, keyUsage: { bits, critical: true },
    extKeyUsage: { serverAuth: true, clientAuth: true },
    subjectAltName: { uris: ['spiffe://a.test/ns/web/sa/api'], dns: ['api.internal'], critical: true },
  });
}

describe('certificate builder (X.509 v3 signed by node:crypto)', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  const ecCa = newKeyPair('ec-p256');
  const rsaCa = newKeyPair('rsa-2048');

  before(async () => {
    tmp = await makeTempDir('builder');
  });
  after(() => tmp.remove());

  it('issues leaves for EC, RSA and Ed25519 keys under EC and RSA roots that node and openssl verify', async () => {
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
    for (const [name, issuer] of [['ec', ecCa], ['rsa', rsaCa]] as const) {
      const rootPem = caOf(issuer);
      const root = new X509Certificate(rootPem);
      assert.ok(root.checkIssued(root) && root.verify(root.publicKey), `${name} root self-signed`);
      await writeFile(path.join(tmp.dir, `${name}-root.pem`), rootPem);
      for (const [subject, spki] of [['ec', newKeyPair('ec-p256').spkiDer], ['rsa', newKeyPair('rsa-2048').spkiDer], ['ed25519', ed]] as const) {
        const leafPem = leafOf(spki, rootPem, issuer);
        const leaf = new X509Certificate(leafPem);
        assert.ok(leaf.checkIssued(root) && leaf.verify(root.publicKey), `${subject} leaf under ${name} root`);
        assert.equal(leaf.subjectAltName, 'URI:spiffe://a.test/ns/web/sa/api, DNS:api.internal');
        const file = path.join(tmp.dir, `${name}-${subject}.pem`);
        await writeFile(file, leafPem);
        const verified = await openssl(['verify', '-purpose', 'sslserver', '-CAfile', path.join(tmp.dir, `${name}-root.pem`), file]);
        assert.equal(verified.code, 0, `${subject} under ${name}: ${verified.stderr}`);
      }
    }
  });

  it('encodes extensions with the criticality asked for, as openssl reads them', async () => {
    const rootPem = caOf(ecCa, new Date(Date.UTC(2060, 0, 1)));
    const leafPem = leafOf(newKeyPair('rsa-2048').spkiDer, rootPem, ecCa, ['digitalSignature', 'keyEncipherment']);
    await writeFile(path.join(tmp.dir, 'root.pem'), rootPem);
    await writeFile(path.join(tmp.dir, 'leaf.pem'), leafPem);
    const root = (await openssl(['x509', '-in', path.join(tmp.dir, 'root.pem'), '-noout', '-text'])).stdout;
    assert.match(root, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
    assert.match(root, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
    assert.match(root, /Not After : Jan  1 00:00:00 2060 GMT/, 'GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)');
    assert.match(root, /Signature Algorithm: ecdsa-with-SHA256/);
    const leaf = (await openssl(['x509', '-in', path.join(tmp.dir, 'leaf.pem'), '-noout', '-text'])).stdout;
    assert.match(leaf, /Subject: \n|Subject:\s*\n/);
    assert.match(leaf, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
    assert.match(leaf, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    assert.match(leaf, /X509v3 Extended Key Usage: \s+TLS Web Server Authentication, TLS Web Client Authentication/);
    assert.match(leaf, /X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/a\.test\/ns\/web\/sa\/api, DNS:api\.internal/);
    assert.match(leaf, /X509v3 Authority Key Identifier:/);
    // The leaf's authority key identifier is the root's subject key identifier.
    const skid = /X509v3 Subject Key Identifier: \s+([0-9A-F:]+)/.exec(root)?.[1];
    assert.ok(skid !== undefined && leaf.includes(skid));
  });

  it('signs with the issuer key type: ecdsa-with-SHA384 for P-384, Ed25519; writes pathLen and OID-named subjects', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const ed = generateKeyPairSync('ed25519');
    for (const [name, key, algorithm] of [['p384', p384, /ecdsa-with-SHA384/], ['ed25519', ed, /Signature Algorithm: ED25519/]] as const) {
      const pem = buildCertificate({
        spkiDer: key.publicKey.export({ type: 'spki', format: 'der' }), serialHex: '00ff', notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 3600_000), subject: [{ oid: '2.5.4.3', value: `${name} intermediate` }], selfKey: key.privateKey,
        basicConstraints: { cA: true, pathLen: 0, critical: true }, keyUsage: { bits: ['keyCertSign'], critical: true },
      });
      const cert = new X509Certificate(pem);
      assert.ok(cert.verify(key.publicKey) && cert.checkIssued(cert), name);
      assert.equal(cert.serialNumber.toUpperCase(), 'FF', 'the leading zero octet is dropped (DER INTEGER)');
      const file = path.join(tmp.dir, `${name}.pem`);
      await writeFile(file, pem);
      const text = (await openssl(['x509', '-in', file, '-noout', '-text'])).stdout;
      assert.match(text, algorithm);
      assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
      assert.match(text, /Subject: CN\s?=\s?\w+ intermediate/);
    }
  });

  it('refuses a spec it cannot honour with CW_INTERNAL naming the problem', () => {
    const rootPem = caOf(ecCa);
    const base: CertificateSpec = {
      spkiDer: newKeyPair('ec-p256').spkiDer, serialHex: '01', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3600_000),
      subject: [], issuer: { certDer: new X509Certificate(rootPem).raw, key: ecCa.privateKey },
      basicConstraints: { cA: false, critical: true }, keyUsage: { bits: ['digitalSignature'], critical: true },
    };
    assert.ok(new X509Certificate(buildCertificate(base)).checkIssued(new X509Certificate(rootPem)), 'the base spec is sound');
    const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey;
    const cases: Array<[string, CertificateSpec, RegExp]> = [
      ['the wrong issuer key', { ...base, issuer: { certDer: new X509Certificate(rootPem).raw, key: rsaCa.privateKey } }, /issuer key does not belong to the issuer certificate/],
      ['an issuer that is not a certificate', { ...base, issuer: { certDer: Buffer.from('nope'), key: ecCa.privateKey } }, /issuer certificate cannot be read/],
      ['no signer', { ...base, issuer: undefined }, /needs an issuer or a self-signing key/],
      ['a P-521 signer', { ...base, issuer: undefined, selfKey: p521 }, /curve secp521r1/],
      ['a public signing key', { ...base, issuer: undefined, selfKey: createPublicKey(ecCa.publicKeyPem) }, /not a private key/],
      ['an unreadable subject key', { ...base, spkiDer: Buffer.from([0x30, 0x00]) }, /subject public key cannot be read/],
      ['odd hex serial', { ...base, serialHex: 'abc' }, /is not hex bytes/],
      ['a zero serial', { ...base, serialHex: '0000' }, /serial is zero/],
      ['a 21-octet serial', { ...base, serialHex: '7f'.repeat(21) }, /longer than 20 octets/],
      ['notAfter before notBefore', { ...base, notAfter: new Date(Date.now() - 120_000) }, /notAfter is not after notBefore/],
      ['an invalid date', { ...base, notBefore: new Date(Number.NaN) }, /notBefore is not a valid date/],
      ['pathLen on a leaf', { ...base, basicConstraints: { cA: false, pathLen: 0, critical: true } }, /pathLen needs cA=true/],
      ['a subject type that is not an OID', { ...base, subject: [{ oid: 'CN', value: 'x' }] }, /not a dotted OID/],
    ];
    for (const [name, spec, reason] of cases) {
      assert.throws(() => buildCertificate(spec), (err) => isCausewayError(err, 'CW_INTERNAL') && reason.test(err.message), name);
    }
  });

  it('serves a TLS 1.3 handshake with an EC leaf it built', async () => {
    const rootPem = caOf(ecCa);
    const key = newKeyPair('ec-p256');
    const leafPem = leafOf(key.spkiDer, rootPem, ecCa);
    const server = createServer({ key: key.privateKeyPem, cert: leafPem, minVersion: 'TLSv1.3' }, (socket) => socket.end('hi'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, ca: rootPem, checkServerIdentity: () => undefined }, () => undefined);
        socket.setTimeout(10_000, () => socket.destroy(new Error('TLS handshake hung')));
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      assert.equal(answer, 'hi');
    } finally {
      server.close();
    }
    assert.equal(createPublicKey(key.publicKeyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });
});
