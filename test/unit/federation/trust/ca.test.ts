import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCausewayError } from '../../../../registry/index.js';
import { CertificateAuthority } from '../../../../federation/index.js';
import { makeTempDir } from '../../../helpers/paths.js';

function openssl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('openssl', args, (err, stdout, stderr) => resolve({ code: err === null ? 0 : 1, stdout, stderr }));
  });
}

describe('trust-domain CA', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let ca: CertificateAuthority;

  before(async () => {
    tmp = await makeTempDir('ca');
    ca = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'ca'), trustDomain: 'a.test' });
  });
  after(() => tmp.remove());

  it('creates the root once, key mode 0600, and reloads the same root', async () => {
    assert.equal((await stat(path.join(tmp.dir, 'ca', 'root.key'))).mode & 0o777, 0o600);
    const again = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'ca'), trustDomain: 'a.test' });
    assert.deepEqual(again.bundle(), ca.bundle());
    const root = new X509Certificate(ca.bundle().rootsPem[0] ?? '');
    assert.equal(root.ca, true);
    assert.equal(root.subjectAltName, 'URI:spiffe://a.test');
  });

  it('refuses to load a CA for a different trust domain, or a corrupt key', async () => {
    await assert.rejects(CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'ca'), trustDomain: 'b.test' }),
      (err) => isCausewayError(err, 'CW_CA_INIT') && /not of trust domain "b\.test"/.test(err.message));
    const broken = await makeTempDir('ca-broken');
    try {
      await CertificateAuthority.loadOrCreate({ dir: broken.dir, trustDomain: 'c.test' });
      await writeFile(path.join(broken.dir, 'root.key'), 'garbage');
      await assert.rejects(CertificateAuthority.loadOrCreate({ dir: broken.dir, trustDomain: 'c.test' }), (err) => isCausewayError(err, 'CW_CA_INIT'));
    } finally {
      await broken.remove();
    }
  });

  it('issues an X509-SVID that openssl verifies and reads as the spec requires', async () => {
    const svid = ca.issueKeyAndSvid('spiffe://a.test/ns/demo/sa/echo', 3600);
    const leafFile = path.join(tmp.dir, 'leaf.pem');
    await writeFile(leafFile, svid.certChainPem);
    const verify = await openssl(['verify', '-purpose', 'sslclient', '-CAfile', path.join(tmp.dir, 'ca', 'root.crt'), leafFile]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /leaf\.pem: OK/);
    const text = (await openssl(['x509', '-in', leafFile, '-noout', '-text'])).stdout;
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature\n/);
    assert.match(text, /Public Key Algorithm: id-ecPublicKey[\s\S]+NIST CURVE: P-256/);
    assert.doesNotMatch(text, /Certificate Sign|CRL Sign/);
    assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
    assert.match(text, /X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/a\.test\/ns\/demo\/sa\/echo\n/);
    const leaf = new X509Certificate(svid.certChainPem);
    assert.equal((leaf.subjectAltName ?? '').split(', ').length, 1);
    assert.ok(new Date(leaf.validTo).getTime() - Date.now() <= 3600_000 + 1000);
  });

  it('refuses to sign outside its trust domain, a path-less ID, a bad key or TTL', async () => {
    const { publicKeyPem } = { publicKeyPem: new X509Certificate(ca.bundle().rootsPem[0] ?? '').publicKey.export({ type: 'spki', format: 'pem' }).toString() };
    assert.throws(() => ca.issueSvid({ spiffeId: 'spiffe://b.test/x', publicKeyPem, ttlSeconds: 60 }), (err) => isCausewayError(err, 'CW_SVID_INVALID') && /outside trust domain/.test(err.message));
    assert.throws(() => ca.issueSvid({ spiffeId: 'spiffe://a.test', publicKeyPem, ttlSeconds: 60 }), (err) => isCausewayError(err, 'CW_SVID_INVALID'));
    assert.throws(() => ca.issueSvid({ spiffeId: 'spiffe://a.test/x', publicKeyPem: 'nope', ttlSeconds: 60 }), (err) => isCausewayError(err, 'CW_SVID_INVALID'));
    assert.throws(() => ca.issueSvid({ spiffeId: 'spiffe://a.test/x', publicKeyPem, ttlSeconds: 0 }), (err) => isCausewayError(err, 'CW_SVID_INVALID'));
    assert.throws(() => ca.issueSvid({ spiffeId: 'spiffe://a.test/../x', publicKeyPem, ttlSeconds: 60 }), (err) => isCausewayError(err, 'CW_SPIFFE_ID_INVALID'));
  });

  it('never writes the key into the root certificate or bundle', async () => {
    const key = await readFile(path.join(tmp.dir, 'ca', 'root.key'), 'utf8');
    assert.match(key, /PRIVATE KEY/);
    assert.equal(JSON.stringify(ca.bundle()).includes('PRIVATE KEY'), false);
  });
});
