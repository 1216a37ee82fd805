// The CA follows the Secret its intermediate comes from (trust.intermediate.secret) through the
// real client-node against the Kubernetes API double: GET, then a watch by name from its
// resourceVersion, with nothing but get and watch (no list). A renewal under the same root signs
// at once; one under a new root is published first and signs after the publish window; a bad one
// is refused whole and changes nothing; the watch survives dropped connections and a 410.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CertificateAuthority } from '../../../federation/index.js';
import { CaSecretRenewals } from '../../../gateway/kubernetes/ca-secret-renewals.js';
import { secretIntermediate } from '../../../gateway/kubernetes/secret-intermediate.js';
import { buildCert, type BuiltCert } from '../../helpers/certs.js';
import { makeTempDir } from '../../helpers/paths.js';
import { waitFor } from '../../helpers/wait-for.js';
import { KubeApiDouble } from '../../doubles/kube-api-server.js';

const TD = 'renew.test';
const NS = 'causeway-system';
const NAME = 'causeway-ca';
const WORKLOAD = `spiffe://${TD}/ns/web/sa/api`;

const root = (cn: string): BuiltCert => buildCert({ ca: true, keyType: 'ec', subjectCn: cn });
const intermediate = (issuer: BuiltCert, cn: string, uris = [`spiffe://${TD}`]): BuiltCert => buildCert({ ca: true, keyType: 'ec', issuer, uris, subjectCn: cn });
const tls = (i: BuiltCert, r: BuiltCert): Record<string, string> => ({ 'tls.crt': i.certPem, 'tls.key': i.keyPem, 'ca.crt': r.certPem });
const fingerprints = (ca: CertificateAuthority): string[] => ca.bundle().rootsPem.map((pem) => new X509Certificate(pem).fingerprint256);
const signedBy = (ca: CertificateAuthority, issuer: BuiltCert): boolean => new X509Certificate(ca.issueKeyAndSvid(WORKLOAD, 600).certChainPem).checkIssued(issuer.x509);

describe('CA renewals from a watched Secret (client-node against the API double)', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let api: KubeApiDouble;
  let kubeconfig = '';
  let orgRoot: BuiltCert;
  let ca: CertificateAuthority;
  let renewals: CaSecretRenewals;
  let current: BuiltCert;
  let run = 0;

  before(async () => {
    tmp = await makeTempDir('ca-renewals');
    api = new KubeApiDouble('gw-token');
    await api.start();
    kubeconfig = api.writeKubeconfig(path.join(tmp.dir, 'kubeconfig'));
    orgRoot = root('Org Root 1');
  });
  after(async () => {
    await api?.close();
    await tmp?.remove();
  });

  /** A CA signing from the Secret, with renewals followed; a one-second publish window. */
  beforeEach(async () => {
    await renewals?.close();
    ca?.close();
    run += 1;
    current = intermediate(orgRoot, `intermediate ${run}.0`);
    api.putSecret(NS, NAME, tls(current, orgRoot));
    const ref = { namespace: NS, name: NAME, kubeconfig };
    ca = await CertificateAuthority.loadOrCreate({
      dir: path.join(tmp.dir, `ca-${run}`), trustDomain: TD, intermediate: secretIntermediate(ref), publishWindowSeconds: 1, maxSvidTtlSeconds: 3600,
    });
    api.clearRequestLog();
    renewals = new CaSecretRenewals({ ca, ref, kubeConfig: api.kubeConfig(), watch: { minBackoffMs: 20, maxBackoffMs: 100 } });
    renewals.start();
    await waitFor('the watch', () => (renewals.status().watch.state === 'watching' && renewals.status().state === 'current' ? true : undefined));
  });
  after(async () => {
    await renewals?.close();
    ca?.close();
  });

  const newestAuthority = (): { id: number; state: string } | undefined => ca.status().authorities.reduce<{ id: number; state: string } | undefined>((a, b) => (a === undefined || b.id > a.id ? b : a), undefined);

  it('reads the Secret with get, then watches it by name from its resourceVersion: no list', () => {
    const log = api.requestLog({ resource: 'secrets' });
    assert.deepEqual(log.map((r) => r.verb), ['get', 'watch']);
    const [get, watch] = log;
    assert.equal(get?.path, `/api/v1/namespaces/${NS}/secrets/${NAME}`);
    assert.equal(watch?.path, `/api/v1/namespaces/${NS}/secrets`);
    assert.equal(watch?.query.fieldSelector, `metadata.name=${NAME}`);
    assert.equal(watch?.query.resourceVersion, api.object('secrets', NS, NAME)?.metadata.resourceVersion);
    assert.equal(watch?.query.allowWatchBookmarks, 'true');
    assert.ok(Number(watch?.query.timeoutSeconds) > 0);
  });

  it('adopts a renewal under the same root at once: nothing to publish, so the bundle and its sequence stay', async () => {
    const sequence = ca.bundle().sequence;
    const renewed = intermediate(orgRoot, `intermediate ${run}.1`);
    api.putSecret(NS, NAME, tls(renewed, orgRoot));
    await waitFor('the renewal', () => (renewals.status().lastRenewal !== undefined ? true : undefined));
    assert.deepEqual(ca.status().authorities.map((a) => a.state), ['retiring', 'active']);
    assert.equal(renewals.status().lastRenewal?.state, 'active');
    assert.equal(ca.bundle().sequence, sequence);
    assert.deepEqual(fingerprints(ca), [orgRoot.x509.fingerprint256]);
    assert.ok(signedBy(ca, renewed));
  });

  it('publishes a renewal under a new root at once and signs with it only after the publish window', async () => {
    const sequence = ca.bundle().sequence;
    const newRoot = root('Org Root 2');
    const renewed = intermediate(newRoot, `intermediate ${run}.1`);
    api.putSecret(NS, NAME, tls(renewed, newRoot));
    await waitFor('the renewal', () => (renewals.status().lastRenewal !== undefined ? true : undefined));
    assert.equal(ca.bundle().sequence, sequence + 1);
    assert.deepEqual(fingerprints(ca), [orgRoot.x509.fingerprint256, newRoot.x509.fingerprint256]);
    assert.equal(renewals.status().lastRenewal?.state, 'prepared');
    assert.ok(renewals.status().lastRenewal?.signsFrom !== undefined);
    assert.ok(signedBy(ca, current), 'the new intermediate does not sign before its root is published for the window');
    await waitFor('the new intermediate signing', () => (newestAuthority()?.state === 'active' ? true : undefined), 10_000);
    assert.ok(signedBy(ca, renewed));
    assert.deepEqual(fingerprints(ca), [newRoot.x509.fingerprint256, orgRoot.x509.fingerprint256], 'the old root stays published, retiring');
  });

  it('refuses a bad renewal whole, naming what is wrong, and changes nothing; a good one after it is adopted', async () => {
    const before = ca.status();
    const other = root('Somebody Else');
    const fine = intermediate(orgRoot, `intermediate ${run}.bad`);
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['not PEM', { ...tls(fine, orgRoot), 'tls.crt': 'not a certificate' }, /tls\.crt holds no PEM certificate/],
      ['key not matching', { ...tls(fine, orgRoot), 'tls.key': intermediate(orgRoot, 'x').keyPem }, /the key does not match the signing certificate/],
      ['not chaining to ca.crt', tls(intermediate(other, 'elsewhere'), orgRoot), /does not chain to the given root/],
      ['wrong URI SAN', tls(intermediate(orgRoot, 'wrong', ['spiffe://other.test']), orgRoot), /spiffe:\/\/renew\.test/],
      ['a key missing', { 'tls.crt': fine.certPem, 'ca.crt': orgRoot.certPem }, /has no "tls\.key" key/],
    ];
    for (const [name, data, reason] of cases) {
      const refusals = renewals.status().lastRefusal?.at;
      api.putSecret(NS, NAME, data);
      const status = await waitFor(name, () => {
        const s = renewals.status();
        return s.state === 'refused' && s.lastRefusal?.at !== refusals && reason.test(s.lastRefusal?.reason ?? '') ? s : undefined;
      });
      assert.equal(status.lastRefusal?.code, 'CW_CA_RENEWAL_REFUSED', name);
      assert.match(status.lastRefusal?.reason ?? '', new RegExp(`Secret ${NS}/${NAME}`), name);
      assert.deepEqual(ca.status(), before, `${name}: the CA is unchanged`);
      assert.ok(signedBy(ca, current), name);
      // Let the timestamps of two refusals differ.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    api.putSecret(NS, NAME, tls(fine, orgRoot));
    await waitFor('the good renewal', () => (renewals.status().state === 'current' && renewals.status().lastRenewal !== undefined ? true : undefined));
    assert.ok(signedBy(ca, fine));
  });

  it('ignores a change to the Secret\'s labels or annotations', async () => {
    const before = ca.status();
    const seen = api.revision;
    api.modify('secrets', NS, NAME, (s) => {
      s.metadata.annotations = { 'cert-manager.io/certificate-name': 'causeway-ca' };
    });
    await waitFor('the watch to see the change', () => (renewals.status().watch.resourceVersion === String(api.revision) && api.revision > seen ? true : undefined));
    assert.deepEqual(ca.status(), before);
    assert.equal(renewals.status().lastRenewal, undefined);
  });

  it('survives dropped watches (graceful and abrupt) and a 410, reading the Secret again after the 410', async () => {
    const adopt = async (what: string, cn: string): Promise<void> => {
      const renewed = intermediate(orgRoot, cn);
      api.putSecret(NS, NAME, tls(renewed, orgRoot));
      await waitFor(what, () => (signedBy(ca, renewed) ? true : undefined));
    };
    const watches = (): number => api.requestLog({ resource: 'secrets', verb: 'watch' }).length;
    const gets = (): number => api.requestLog({ resource: 'secrets', verb: 'get' }).length;

    let before = watches();
    assert.ok(api.dropWatches({ resource: 'secrets' }) >= 1);
    await waitFor('a new watch after a graceful end', () => (watches() > before && api.openWatches('secrets') === 1 ? true : undefined));
    await adopt('a renewal after a graceful end', `intermediate ${run}.g`);

    before = watches();
    assert.ok(api.dropWatches({ resource: 'secrets', abrupt: true }) >= 1);
    await waitFor('a new watch after an abrupt drop', () => (watches() > before && api.openWatches('secrets') === 1 ? true : undefined));
    await adopt('a renewal after an abrupt drop', `intermediate ${run}.a`);

    const getsBefore = gets();
    before = watches();
    assert.ok(api.compact() >= 1);
    await waitFor('a GET and a new watch after the 410', () => (gets() > getsBefore && watches() > before && api.openWatches('secrets') === 1 ? true : undefined));
    // Started again from the current state: an object's own resourceVersion may be older than the history.
    assert.equal(api.requestLog({ resource: 'secrets', verb: 'watch' }).at(-1)?.query.resourceVersion, undefined);
    await adopt('a renewal after the 410', `intermediate ${run}.c`);
    assert.equal(api.requestLog({ verb: 'list' }).length, 0);
  });

  it('changes nothing when the Secret is deleted, and adopts it when it comes back renewed', async () => {
    const before = ca.status();
    api.delete('secrets', NS, NAME);
    await waitFor('the deletion', () => (renewals.status().state === 'deleted' ? true : undefined));
    assert.equal(renewals.status().watch.exists, false);
    assert.deepEqual(ca.status(), before);
    assert.ok(signedBy(ca, current));
    const renewed = intermediate(orgRoot, `intermediate ${run}.r`);
    api.putSecret(NS, NAME, tls(renewed, orgRoot));
    await waitFor('the re-created Secret', () => (renewals.status().state === 'current' && signedBy(ca, renewed) ? true : undefined));
  });

  it('retries with backoff while the API server is down, and catches up with a renewal made meanwhile', async () => {
    await api.down();
    await waitFor('the failure', () => (renewals.status().watch.state === 'retrying' ? true : undefined));
    assert.match(renewals.status().watch.lastError ?? '', /ECONNREFUSED|socket|connect/i);
    const renewed = intermediate(orgRoot, `intermediate ${run}.d`);
    api.putSecret(NS, NAME, tls(renewed, orgRoot));
    await api.up();
    await waitFor('the renewal made while it was down', () => (signedBy(ca, renewed) ? true : undefined));
    assert.equal(renewals.status().watch.lastError, undefined);
  });
});
