import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCausewayError } from '../../../registry/index.js';
import { CertificateAuthority } from '../../../federation/index.js';
import { secretIntermediate } from '../../../gateway/kubernetes/secret-intermediate.js';
import { buildCert, type BuiltCert } from '../../helpers/certs.js';
import { makeTempDir } from '../../helpers/paths.js';
import { KubeApiDouble } from '../../doubles/kube-api-server.js';

describe('operator intermediate from a Kubernetes Secret (real client-node against an API double)', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let api: KubeApiDouble;
  let kubeconfig = '';
  let badToken = '';
  let orgRoot: BuiltCert;
  const tls = (intermediate: BuiltCert, root: BuiltCert): Record<string, string> =>
    ({ 'tls.crt': intermediate.certPem, 'tls.key': intermediate.keyPem, 'ca.crt': root.certPem });

  before(async () => {
    tmp = await makeTempDir('secret-ca');
    api = new KubeApiDouble('sa-token');
    const server = await api.start();
    kubeconfig = path.join(tmp.dir, 'kubeconfig');
    await writeFile(kubeconfig, api.kubeconfig(server));
    badToken = path.join(tmp.dir, 'kubeconfig-bad');
    await writeFile(badToken, api.kubeconfig(server, 'wrong'));
    orgRoot = buildCert({ ca: true, subjectCn: 'Example Org Root' });
  });
  after(async () => {
    await api?.close();
    await tmp?.remove();
  });

  it('signs with the intermediate in the Secret, and adopts a renewed Secret on rotate', async () => {
    const first = buildCert({ ca: true, issuer: orgRoot, uris: ['spiffe://a.test'], subjectCn: 'a.test intermediate 1' });
    api.putSecret('causeway', 'ca-a', tls(first, orgRoot));
    const ca = await CertificateAuthority.loadOrCreate({
      dir: path.join(tmp.dir, 'ca'), trustDomain: 'a.test', intermediate: secretIntermediate({ namespace: 'causeway', name: 'ca-a', kubeconfig }),
    });
    assert.ok(api.requests.includes('GET /api/v1/namespaces/causeway/secrets/ca-a'));
    assert.deepEqual(ca.bundle().rootsPem.map((p) => new X509Certificate(p).fingerprint256), [orgRoot.x509.fingerprint256]);
    const leaf = new X509Certificate(ca.issueKeyAndSvid('spiffe://a.test/ns/web/sa/api', 600).certChainPem);
    assert.ok(leaf.checkIssued(first.x509));

    const renewed = buildCert({ ca: true, issuer: orgRoot, uris: ['spiffe://a.test'], subjectCn: 'a.test intermediate 2' });
    api.putSecret('causeway', 'ca-a', tls(renewed, orgRoot));
    const status = await ca.rotate();
    assert.deepEqual(status.authorities.map((a) => a.state), ['retiring', 'active']);
    assert.ok(new X509Certificate(ca.issueKeyAndSvid('spiffe://a.test/ns/web/sa/api', 600).certChainPem).checkIssued(renewed.x509));
    ca.close();
  });

  it('names what is wrong: a missing Secret or key, no permission, bad credentials, unusable material', async () => {
    api.putSecret('causeway', 'no-key', { 'tls.crt': orgRoot.certPem, 'ca.crt': orgRoot.certPem });
    api.putSecret('causeway', 'wrong-domain', tls(buildCert({ ca: true, issuer: orgRoot, uris: ['spiffe://b.test'] }), orgRoot));
    api.forbiddenNamespaces.add('kube-system');
    const cases: Array<[string, Parameters<typeof secretIntermediate>[0], RegExp]> = [
      ['missing', { namespace: 'causeway', name: 'nope', kubeconfig }, /Secret causeway\/nope: not found/],
      ['missing key', { namespace: 'causeway', name: 'no-key', kubeconfig }, /Secret causeway\/no-key: has no "tls\.key" key/],
      ['forbidden', { namespace: 'kube-system', name: 'ca', kubeconfig }, /forbidden: the gateway's service account needs "get"/],
      ['bad token', { namespace: 'causeway', name: 'no-key', kubeconfig: badToken }, /refused the credentials \(401\)/],
      ['no kubeconfig', { namespace: 'causeway', name: 'x', kubeconfig: path.join(tmp.dir, 'absent') }, /cannot load the Kubernetes client configuration/],
      ['wrong trust domain', { namespace: 'causeway', name: 'wrong-domain', kubeconfig }, /signing-wrong-trust-domain/],
    ];
    for (const [name, ref, reason] of cases) {
      await assert.rejects(CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, `ca-${name.replace(/ /g, '-')}`), trustDomain: 'a.test', intermediate: secretIntermediate(ref) }),
        (err) => isCausewayError(err, 'CW_CA_INIT') && reason.test(err.message), name);
    }
  });
});
