// Trust material from the API server, through a whole gateway against the Kubernetes API double:
// trust.intermediate.secret is followed for renewals (a renewal under a new root is published
// first and signs — the gateway's own SVID and workload SVIDs — after the one-second publish
// window; a bad renewal is refused, changes nothing and shows in /v1/status), and
// issuance.kubernetes without jwksFile reads /openid/v1/jwks, accepting a rotated-in key.
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCausewayError, silentLogger } from '../../registry/index.js';
import { buildCsr } from '../../federation/index.js';
import { Gateway, parseConfigText } from '../../gateway/index.js';
import { KubeApiDouble } from '../doubles/kube-api-server.js';
import { buildCert, type BuiltCert } from '../helpers/certs.js';
import { makeTempDir } from '../helpers/paths.js';
import { issuerKey, serviceAccountToken, type IssuerKey } from '../helpers/service-account-jwt.js';
import { getJson, waitFor } from '../helpers/wait-for.js';

const TD = 'east.example.org';
const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const NS = 'causeway-system';
const NAME = 'causeway-ca';

const root = (cn: string): BuiltCert => buildCert({ ca: true, keyType: 'ec', subjectCn: cn });
const intermediate = (issuer: BuiltCert, cn: string): BuiltCert => buildCert({ ca: true, keyType: 'ec', issuer, uris: [`spiffe://${TD}`], subjectCn: cn });
const tls = (i: BuiltCert, r: BuiltCert): Record<string, string> => ({ 'tls.crt': i.certPem, 'tls.key': i.keyPem, 'ca.crt': r.certPem });

const signingKey = issuerKey;
const saToken = (key: IssuerKey, account: string): string => serviceAccountToken(key, { issuer: ISSUER, namespace: 'shop', account });

interface TrustStatus {
  intermediate?: { state: string; watch: { state: string }; lastRefusal?: { code: string; reason: string } };
  serviceAccountJwks?: { keys: string[]; lastError?: string };
}

describe('trust material from the API server: the CA Secret followed, the JWKS read', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let api: KubeApiDouble;
  let gateway: Gateway | undefined;
  const orgRoot = root('Org Root 1');
  const first = intermediate(orgRoot, 'east intermediate 1');
  const k1 = signingKey('k1');
  const trustStatus = async (): Promise<TrustStatus> => (await getJson<{ trust: TrustStatus }>(`http://${gateway?.listeners.admin ?? ''}/v1/status`)).trust;
  /** A workload SVID issued for a service account token (the issuer's path behind POST /v1/svid). */
  const issueFor = async (jwt: string, account: string): Promise<X509Certificate> => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const issued = await gateway!.issuer.issue({ csrPem: buildCsr(key, `spiffe://${TD}/ns/shop/sa/${account}`), credential: { kind: 'service-account', jwt }, client: '127.0.0.1' });
    return new X509Certificate(issued.certChainPem);
  };

  before(async () => {
    tmp = await makeTempDir('kube-trust');
    api = new KubeApiDouble('east-token');
    await api.start();
    api.putSecret(NS, NAME, tls(first, orgRoot));
    api.setServiceAccountJwks({ keys: [k1.jwk] });
    const kubeconfig = api.writeKubeconfig(path.join(tmp.dir, 'kubeconfig'));
    gateway = await Gateway.start(parseConfigText(`
cluster: east
trustDomain: ${TD}
gatewayName: gw
dataDir: ${path.join(tmp.dir, 'east')}
listen: { eastWest: "127.0.0.1:0", federation: "127.0.0.1:0", outbound: "127.0.0.1:0", admin: "127.0.0.1:0", identity: "127.0.0.1:0" }
trust:
  publishWindow: 1s
  bundleRefreshHint: 1s
  intermediate: { secret: { namespace: ${NS}, name: ${NAME} }, kubeconfig: ${kubeconfig} }
issuance:
  kubernetes: { issuer: ${ISSUER}, audience: causeway, kubeconfig: ${kubeconfig} }
`), { logger: silentLogger() });
  });
  after(async () => {
    await gateway?.close();
    await api?.close();
    await tmp?.remove();
  });

  it('shows both sources in /v1/status: the Secret watched and current, the JWKS read', async () => {
    const trust = await waitFor('both sources', async () => {
      const t = await trustStatus();
      return t.intermediate?.watch.state === 'watching' && t.serviceAccountJwks?.keys.length === 1 ? t : undefined;
    });
    assert.equal(trust.intermediate?.state, 'current');
    assert.deepEqual(trust.serviceAccountJwks?.keys, ['k1']);
    assert.ok(new X509Certificate(gateway!.svid.current().certChainPem).checkIssued(first.x509));
  });

  it('adopts a renewed Secret under a new root: published at once, signing after the publish window, without trust rotate', async () => {
    const local = (): { sequence: number; roots: string[] } => {
      const bundle = gateway!.trust.get(TD);
      return { sequence: bundle?.sequence ?? 0, roots: (bundle?.rootsPem ?? []).map((p) => new X509Certificate(p).fingerprint256) };
    };
    const sequence = local().sequence;
    const newRoot = root('Org Root 2');
    const renewed = intermediate(newRoot, 'east intermediate 2');
    api.putSecret(NS, NAME, tls(renewed, newRoot));
    await waitFor('the new root in the trust store', () => (local().sequence === sequence + 1 ? true : undefined));
    assert.deepEqual(local().roots.sort(), [orgRoot.x509.fingerprint256, newRoot.x509.fingerprint256].sort());
    assert.ok((await issueFor(saToken(k1, 'web'), 'web')).checkIssued(first.x509), 'within the publish window the old intermediate still signs');
    await waitFor('the gateway SVID under the renewed intermediate', () => (new X509Certificate(gateway!.svid.current().certChainPem).checkIssued(renewed.x509) ? true : undefined), 15_000);
    assert.ok((await issueFor(saToken(k1, 'web'), 'web')).checkIssued(renewed.x509));
    assert.equal((await trustStatus()).intermediate?.state, 'current');
  });

  it('refuses a bad renewal: nothing changes, and /v1/status says why', async () => {
    const before = gateway!.ca.status();
    const stray = intermediate(orgRoot, 'east intermediate 3');
    api.putSecret(NS, NAME, { ...tls(stray, orgRoot), 'tls.key': intermediate(orgRoot, 'another').keyPem });
    const trust = await waitFor('the refusal', async () => {
      const t = await trustStatus();
      return t.intermediate?.state === 'refused' ? t : undefined;
    });
    assert.equal(trust.intermediate?.lastRefusal?.code, 'CW_CA_RENEWAL_REFUSED');
    assert.match(trust.intermediate?.lastRefusal?.reason ?? '', /Secret causeway-system\/causeway-ca: the key does not match the signing certificate/);
    assert.deepEqual(gateway!.ca.status(), before);
  });

  it('accepts a token signed with a key rotated into the API server\'s JWKS, reading it when the token names it', async () => {
    const k2 = signingKey('k2');
    api.setServiceAccountJwks({ keys: [k1.jwk, k2.jwk] });
    const reads = api.requestLog().filter((r) => r.path === '/openid/v1/jwks').length;
    assert.match((await issueFor(saToken(k2, 'api'), 'api')).subjectAltName ?? '', /ns\/shop\/sa\/api/);
    assert.equal(api.requestLog().filter((r) => r.path === '/openid/v1/jwks').length, reads + 1);
    // A key the API server does not publish stays refused (and, read just now, is not read again for 30 s).
    await assert.rejects(issueFor(saToken(signingKey('k3'), 'api'), 'api'), (err) => isCausewayError(err, 'CW_SA_TOKEN_INVALID') && /key "k3"/.test(err.message));
    assert.equal(api.requestLog().filter((r) => r.path === '/openid/v1/jwks').length, reads + 1);
    assert.deepEqual((await trustStatus()).serviceAccountJwks?.keys, ['k1', 'k2']);
  });
});
