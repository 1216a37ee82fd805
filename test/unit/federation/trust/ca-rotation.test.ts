import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { access, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCausewayError } from '../../../../registry/index.js';
import { CertificateAuthority, type CaEvent } from '../../../../federation/index.js';
import { buildCert, type BuiltCert } from '../../../helpers/certs.js';
import { makeTempDir } from '../../../helpers/paths.js';

function openssl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('openssl', args, (err, stdout, stderr) => resolve({ code: err === null ? 0 : 1, stdout, stderr }));
  });
}

function issuerOf(ca: CertificateAuthority): X509Certificate {
  const svid = ca.issueKeyAndSvid('spiffe://a.test/ns/x/sa/y', 600);
  const leaf = new X509Certificate(svid.certChainPem);
  const root = ca.bundle().rootsPem.map((pem) => new X509Certificate(pem)).find((r) => leaf.checkIssued(r) && leaf.verify(r.publicKey));
  assert.ok(root, 'the leaf chains to a root of the bundle');
  return root;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}

describe('CA rotation (self-managed roots)', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let now = Date.now();
  const clock = (): number => now;
  const options = (dir: string): Parameters<typeof CertificateAuthority.loadOrCreate>[0] => ({
    dir, trustDomain: 'a.test', now: clock, publishWindowSeconds: 60, maxSvidTtlSeconds: 3600,
  });

  before(async () => {
    tmp = await makeTempDir('ca-rotation');
  });
  after(() => tmp.remove());

  it('publishes the new root before it signs, switches after the publish window, retires the old root after maxSvidTtl', async () => {
    const dir = path.join(tmp.dir, 'ca');
    const ca = await CertificateAuthority.loadOrCreate(options(dir));
    const events: CaEvent[] = [];
    ca.onChange((e) => events.push(e));
    const first = ca.bundle();
    assert.equal(first.rootsPem.length, 1);
    const oldRoot = issuerOf(ca);

    const status = await ca.rotate();
    assert.deepEqual(status.authorities.map((a) => a.state), ['active', 'prepared']);
    const published = ca.bundle();
    assert.equal(published.rootsPem.length, 2, 'the new root is in the bundle');
    assert.equal(published.sequence, first.sequence + 1, 'a higher spiffe_sequence');
    assert.deepEqual(events, ['bundle']);
    assert.equal(issuerOf(ca).fingerprint256, oldRoot.fingerprint256, 'the old root still signs during the publish window');
    await assert.rejects(ca.rotate(), (err) => isCausewayError(err, 'CW_CA_ROTATION') && /already in progress/.test(err.message));

    now += 61_000;
    await ca.advance();
    assert.deepEqual(events, ['bundle', 'activated']);
    const newRoot = issuerOf(ca);
    assert.notEqual(newRoot.fingerprint256, oldRoot.fingerprint256, 'the new root signs after the window');
    assert.equal(ca.bundle().rootsPem.length, 2, 'the old root stays while its SVIDs may live');
    assert.equal(ca.bundle().sequence, published.sequence, 'activation does not change the bundle');

    // A restart mid-rotation keeps every step taken.
    ca.close();
    const restarted = await CertificateAuthority.loadOrCreate(options(dir));
    assert.deepEqual(restarted.status().authorities.map((a) => a.state), ['retiring', 'active']);
    assert.equal(issuerOf(restarted).fingerprint256, newRoot.fingerprint256);

    now += 3600_000 + 1000;
    await restarted.advance();
    const final = restarted.bundle();
    assert.equal(final.rootsPem.length, 1);
    assert.equal(new X509Certificate(final.rootsPem[0] ?? '').fingerprint256, newRoot.fingerprint256);
    assert.equal(final.sequence, published.sequence + 1, 'retiring a root bumps the sequence again');
    assert.equal(await exists(path.join(dir, 'root.key')), false, 'the retired key is deleted');
    restarted.close();
  });

  it('changes nothing when its state cannot be saved: no new root, no event, and the next try works', async () => {
    const dir = path.join(tmp.dir, 'save-fails');
    const ca = await CertificateAuthority.loadOrCreate(options(dir));
    const events: CaEvent[] = [];
    ca.onChange((e) => events.push(e));
    const before = { bundle: ca.bundle(), status: ca.status() };
    // A directory where the state file should be: the atomic rename fails (regression: the
    // CA used to adopt the new root in memory anyway, and later sign under it unannounced).
    await rm(path.join(dir, 'authorities.json'));
    await mkdir(path.join(dir, 'authorities.json'));
    await assert.rejects(ca.rotate(), (err) => isCausewayError(err, 'CW_CA_ROTATION') && /nothing changed/.test(err.message));
    assert.deepEqual(ca.bundle(), before.bundle);
    assert.deepEqual(ca.status(), before.status);
    assert.deepEqual(events, []);
    await rm(path.join(dir, 'authorities.json'), { recursive: true });
    assert.deepEqual((await ca.rotate()).authorities.map((a) => a.state), ['active', 'prepared']);
    assert.deepEqual(events, ['bundle']);
    ca.close();
    // The key written for the failed attempt is not referred to by anything: gone at the next start.
    (await CertificateAuthority.loadOrCreate(options(dir))).close();
    const keys = (await readdir(dir)).filter((f) => f.endsWith('.key'));
    assert.deepEqual(keys.sort(), ['root-2.key', 'root.key'].sort());
  });

  it('replaces an expired active root at start instead of refusing to load', async () => {
    const dir = path.join(tmp.dir, 'expired');
    const young = await CertificateAuthority.loadOrCreate({ ...options(dir), rootTtlDays: 1 });
    const oldRoot = issuerOf(young).fingerprint256;
    young.close();
    now += 2 * 86400_000;
    const ca = await CertificateAuthority.loadOrCreate(options(dir));
    assert.notEqual(issuerOf(ca).fingerprint256, oldRoot);
    assert.deepEqual(ca.status().authorities.map((a) => a.state), ['retiring', 'active']);
    ca.close();
  });

  it('refuses a corrupt state file, naming it, and changes nothing', async () => {
    const dir = path.join(tmp.dir, 'corrupt');
    (await CertificateAuthority.loadOrCreate(options(dir))).close();
    await writeFile(path.join(dir, 'authorities.json'), JSON.stringify({ version: 1, trustDomain: 'a.test', sequence: 1, nextId: 2, authorities: [] }));
    await assert.rejects(CertificateAuthority.loadOrCreate(options(dir)), (err) => isCausewayError(err, 'CW_CA_INIT') && /exactly one authority must be active/.test(err.message));
    await writeFile(path.join(dir, 'authorities.json'), '{');
    await assert.rejects(CertificateAuthority.loadOrCreate(options(dir)), (err) => isCausewayError(err, 'CW_CA_INIT') && /authorities\.json: is not JSON/.test(err.message));
  });
});

describe('CA with an operator-supplied intermediate', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let orgRoot: BuiltCert;
  const files = (dir: string): { certFile: string; keyFile: string; rootsFile: string } => ({
    certFile: path.join(dir, 'int.crt'), keyFile: path.join(dir, 'int.key'), rootsFile: path.join(dir, 'roots.crt'),
  });
  const supply = async (dir: string, intermediate: BuiltCert, root: BuiltCert): Promise<void> => {
    await writeFile(files(dir).certFile, intermediate.certPem);
    await writeFile(files(dir).keyFile, intermediate.keyPem);
    await writeFile(files(dir).rootsFile, root.certPem);
  };

  before(async () => {
    tmp = await makeTempDir('ca-intermediate');
    orgRoot = buildCert({ ca: true, subjectCn: 'Example Org Root' });
  });
  after(() => tmp.remove());

  it('signs SVIDs whose chain carries the intermediate; the bundle is the organisation root; openssl agrees', async () => {
    const intermediate = buildCert({ ca: true, issuer: orgRoot, uris: ['spiffe://a.test'], subjectCn: 'a.test intermediate' });
    await supply(tmp.dir, intermediate, orgRoot);
    const ca = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'ca'), trustDomain: 'a.test', intermediate: files(tmp.dir) });
    assert.deepEqual(ca.bundle().rootsPem.map((p) => new X509Certificate(p).fingerprint256), [orgRoot.x509.fingerprint256]);
    const svid = ca.issueKeyAndSvid('spiffe://a.test/ns/demo/sa/web', 600);
    const chain = svid.certChainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    assert.equal(chain.length, 2, 'leaf then intermediate');
    await writeFile(path.join(tmp.dir, 'leaf.pem'), chain[0] ?? '');
    await writeFile(path.join(tmp.dir, 'chain.pem'), chain[1] ?? '');
    const verify = await openssl(['verify', '-CAfile', files(tmp.dir).rootsFile, '-untrusted', path.join(tmp.dir, 'chain.pem'), path.join(tmp.dir, 'leaf.pem')]);
    assert.equal(verify.code, 0, verify.stderr);

    // A new intermediate under the same organisation root signs at once: every peer already trusts that root.
    const next = buildCert({ ca: true, issuer: orgRoot, uris: ['spiffe://a.test'], subjectCn: 'a.test intermediate 2' });
    await supply(tmp.dir, next, orgRoot);
    const sequence = ca.bundle().sequence;
    const status = await ca.rotate();
    assert.deepEqual(status.authorities.map((a) => a.state), ['retiring', 'active']);
    assert.equal(ca.bundle().sequence, sequence, 'same roots, same bundle');
    assert.ok(ca.issueKeyAndSvid('spiffe://a.test/ns/demo/sa/web', 600).certChainPem.includes(next.certPem.trim().split('\n')[1] ?? '-'));
    await assert.rejects(ca.rotate(), (err) => isCausewayError(err, 'CW_CA_ROTATION') && /already in use/.test(err.message));

    // Under a new organisation root it waits for the publish window like a new self-managed root.
    const newOrg = buildCert({ ca: true, subjectCn: 'Example Org Root 2' });
    await supply(tmp.dir, buildCert({ ca: true, issuer: newOrg, uris: ['spiffe://a.test'], subjectCn: 'a.test intermediate 3' }), newOrg);
    const moved = await ca.rotate();
    assert.equal(moved.authorities.at(-1)?.state, 'prepared');
    assert.equal(ca.bundle().rootsPem.length, 2);
    assert.equal(ca.bundle().sequence, sequence + 1);
    ca.close();
  });

  it('keeps the publish window when new material under a still-prepared root arrives at a restart', async () => {
    const dir = path.join(tmp.dir, 'restart-window');
    await mkdir(dir, { recursive: true });
    let now = Date.now();
    const opts = { dir: path.join(dir, 'ca'), trustDomain: 'a.test', intermediate: files(dir), publishWindowSeconds: 300, now: () => now };
    await supply(dir, buildCert({ ca: true, issuer: orgRoot, uris: ['spiffe://a.test'], subjectCn: 'i1' }), orgRoot);
    const first = await CertificateAuthority.loadOrCreate(opts);
    const newOrg = buildCert({ ca: true, subjectCn: 'Example Org Root 3' });
    await supply(dir, buildCert({ ca: true, issuer: newOrg, uris: ['spiffe://a.test'], subjectCn: 'i2' }), newOrg);
    const prepared = (await first.rotate()).authorities.at(-1);
    assert.equal(prepared?.state, 'prepared');
    first.close();
    // Regression: the restart took i3's root as already trusted (it was only published 10 s
    // ago by the prepared i2) and let i3 sign at once, and later i2 took over from i3.
    now += 10_000;
    await supply(dir, buildCert({ ca: true, issuer: newOrg, uris: ['spiffe://a.test'], subjectCn: 'i3' }), newOrg);
    const restarted = await CertificateAuthority.loadOrCreate(opts);
    const authorities = restarted.status().authorities;
    assert.deepEqual(authorities.map((a) => a.state), ['active', 'prepared'], 'i2 superseded, i3 waits');
    assert.match(authorities[1]?.subject ?? '', /i3/);
    assert.equal(authorities[1]?.activateAt, prepared?.activateAt, 'i3 keeps the window i2 started');
    restarted.close();
  });

  it('refuses unusable intermediates, naming what is wrong', async () => {
    const cases: Array<[string, BuiltCert, BuiltCert, RegExp]> = [
      ['no SPIFFE ID', buildCert({ ca: true, issuer: orgRoot }), orgRoot, /must carry exactly the URI SAN spiffe:\/\/b\.test, it has none/],
      ['another trust domain', buildCert({ ca: true, issuer: orgRoot, uris: ['spiffe://other.test'] }), orgRoot, /signing-wrong-trust-domain/],
      ['not a CA', buildCert({ issuer: orgRoot, uris: ['spiffe://b.test'] }), orgRoot, /signing-not-ca/],
      ['under another root', buildCert({ ca: true, issuer: buildCert({ ca: true }), uris: ['spiffe://b.test'] }), orgRoot, /does not chain to the given root/],
    ];
    for (const [name, intermediate, root, reason] of cases) {
      const dir = path.join(tmp.dir, name.replace(/ /g, '-'));
      await mkdir(dir, { recursive: true });
      await supply(dir, intermediate, root);
      await assert.rejects(CertificateAuthority.loadOrCreate({ dir: path.join(dir, 'ca'), trustDomain: 'b.test', intermediate: files(dir) }),
        (err) => isCausewayError(err, 'CW_CA_INIT') && reason.test(err.message), name);
    }
    const dir = path.join(tmp.dir, 'mismatched-key');
    await mkdir(dir, { recursive: true });
    await supply(dir, buildCert({ ca: true, issuer: orgRoot, uris: ['spiffe://b.test'] }), orgRoot);
    await writeFile(files(dir).keyFile, buildCert({}).keyPem);
    await assert.rejects(CertificateAuthority.loadOrCreate({ dir: path.join(dir, 'ca'), trustDomain: 'b.test', intermediate: files(dir) }),
      (err) => isCausewayError(err, 'CW_CA_INIT') && /key does not match/.test(err.message));
  });
});
