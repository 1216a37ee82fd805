import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileStore } from '../../../registry/index.js';
import {
  CertificateAuthority, ServiceAccountTokenVerifier, SvidRotator, TrustStore, WorkloadIssuer, decodeBundle,
} from '../../../federation/index.js';
import { BUNDLE_PATH, IdentityServer } from '../../../gateway/identity/identity-server.js';
import { spiffeHttps, type SpiffeHttpsResponse } from '../../helpers/https-spiffe.js';
import { makeTempDir } from '../../helpers/paths.js';

const GATEWAY = 'spiffe://a.test/gateway/gw-a';
const VM = 'spiffe://a.test/ns/web/sa/vm-1';

function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, (err, stdout, stderr) => resolve({ code: err === null ? 0 : 1, stdout, stderr }));
  });
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('IdentityServer: SPIFFE bundle endpoint and CSR issuance', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let ca: CertificateAuthority;
  let svid: SvidRotator;
  let trust: TrustStore;
  let store: FileStore;
  let issuer: WorkloadIssuer;
  let server: IdentityServer;
  let base = '';
  let saKey: KeyObject;
  let now = Date.now();

  const roots = (): string[] => [...(trust.get('a.test')?.rootsPem ?? [])];
  const post = (body: unknown, headers: Record<string, string> = {}, creds: { certPem?: string; keyPem?: string } = {}): Promise<SpiffeHttpsResponse> =>
    spiffeHttps(`${base}/v1/svid`, {
      rootsPem: roots(), expectServerId: GATEWAY, method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...headers }, ...creds,
    });
  const errorCode = (response: SpiffeHttpsResponse): string => (JSON.parse(response.body) as { error: { code: string } }).error.code;
  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

  /** An EC P-256 key and a CSR for it (made by openssl, as a workload would), optionally asking for a URI SAN. */
  async function keyAndCsr(name: string, uri?: string, extraSan = ''): Promise<{ keyPem: string; csrPem: string }> {
    const keyFile = path.join(tmp.dir, `${name}.key`);
    const csrFile = path.join(tmp.dir, `${name}.csr`);
    assert.equal((await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile])).code, 0);
    const req = await run('openssl', ['req', '-new', '-key', keyFile, '-subj', `/CN=${name}`, ...(uri === undefined ? [] : ['-addext', `subjectAltName=URI:${uri}${extraSan}`]), '-out', csrFile]);
    assert.equal(req.code, 0, req.stderr);
    return { keyPem: await readFile(keyFile, 'utf8'), csrPem: await readFile(csrFile, 'utf8') };
  }

  function serviceAccountJwt(claims: Record<string, unknown>): string {
    const header = base64url({ alg: 'RS256', kid: 'sa-1', typ: 'JWT' });
    const payload = base64url(claims);
    return `${header}.${payload}.${sign('sha256', Buffer.from(`${header}.${payload}`), saKey).toString('base64url')}`;
  }

  before(async () => {
    tmp = await makeTempDir('identity');
    ca = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'ca'), trustDomain: 'a.test' });
    trust = new TrustStore();
    trust.set(ca.bundle());
    svid = new SvidRotator({ ca, spiffeId: GATEWAY, ttlSeconds: 3600 });
    store = new FileStore(path.join(tmp.dir, 'state'));
    const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    saKey = sa.privateKey;
    const jwk = { ...sa.publicKey.export({ format: 'jwk' }), kid: 'sa-1', use: 'sig', alg: 'RS256' };
    issuer = new WorkloadIssuer({
      ca, trust, store, address: () => server.address() === undefined ? '127.0.0.1:15017' : `127.0.0.1:${server.address()?.port}`,
      now: () => now, rateLimit: { perSecond: 1000, burst: 1000 },
      serviceAccounts: new ServiceAccountTokenVerifier({ issuer: 'https://kubernetes.default.svc', audience: 'causeway', jwks: { keys: [jwk] }, now: () => now }),
    });
    server = new IdentityServer({ trustDomain: 'a.test', svid, trust, issuer });
    const address = await server.listen('127.0.0.1', 0);
    base = `https://127.0.0.1:${address.port}`;
  });

  after(async () => {
    await server?.close();
    svid?.close();
    ca?.close();
    await store?.close();
    await tmp?.remove();
  });

  it('serves the trust bundle at /.well-known/spiffe-bundle, authenticated as the gateway (https_spiffe)', async () => {
    const answer = await spiffeHttps(`${base}${BUNDLE_PATH}`, { rootsPem: roots(), expectServerId: GATEWAY });
    assert.equal(answer.status, 200);
    assert.equal(answer.serverId, GATEWAY);
    assert.match(String(answer.headers['content-type']), /^application\/json/);
    const bundle = decodeBundle('a.test', answer.body);
    assert.deepEqual(bundle.rootsPem, roots());
    assert.equal(bundle.refreshHintSeconds, 300);
    assert.equal((JSON.parse(answer.body) as { spiffe_refresh_hint: number }).spiffe_refresh_hint, 300);
    // A client that holds another domain's roots cannot be fooled into trusting this endpoint.
    const other = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'other-ca'), trustDomain: 'a.test' });
    await assert.rejects(spiffeHttps(`${base}${BUNDLE_PATH}`, { rootsPem: other.bundle().rootsPem as string[], expectServerId: GATEWAY }));
    other.close();
  });

  it('issues an SVID for a join token once, for the granted identity, signed by the CA (openssl verify)', async () => {
    const { token } = await issuer.createJoinToken({ identity: VM, ttlSeconds: 600 });
    const { csrPem } = await keyAndCsr('vm-1', VM);
    const answer = await post({ csr: csrPem }, bearer(token));
    assert.equal(answer.status, 201, answer.body);
    const issued = JSON.parse(answer.body) as { spiffeId: string; certChainPem: string; bundle: string; expiresAt: string };
    assert.equal(issued.spiffeId, VM);
    const leaf = new X509Certificate(issued.certChainPem);
    assert.equal(leaf.subjectAltName, `URI:${VM}`);
    assert.ok(new Date(leaf.validTo).getTime() - Date.now() <= 3600_000 + 5000, 'default workload TTL is 1 h');
    await writeFile(path.join(tmp.dir, 'issued.pem'), issued.certChainPem);
    await writeFile(path.join(tmp.dir, 'root.pem'), roots().join(''));
    const verified = await run('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', path.join(tmp.dir, 'root.pem'), path.join(tmp.dir, 'issued.pem')]);
    assert.equal(verified.code, 0, verified.stderr);

    const reused = await post({ csr: csrPem }, bearer(token));
    assert.equal(reused.status, 401);
    assert.equal(errorCode(reused), 'CW_TOKEN_USED');
  });

  it('refuses an identity outside the grant, a bad CSR, and an expired token — issuing nothing and leaving the token unspent', async () => {
    const { token } = await issuer.createJoinToken({ identity: 'spiffe://a.test/ns/web/*', ttlSeconds: 60 });
    const outside = await keyAndCsr('outside', 'spiffe://a.test/ns/db/sa/admin');
    const denied = await post({ csr: outside.csrPem }, bearer(token));
    assert.equal(denied.status, 403, denied.body);
    assert.equal(errorCode(denied), 'CW_IDENTITY_NOT_GRANTED');
    const gateway = await post({ csr: outside.csrPem, spiffeId: 'spiffe://a.test/gateway/evil' }, bearer(token));
    assert.equal(gateway.status, 400, 'the CSR and the body disagree');
    const noName = await keyAndCsr('no-name');
    const pattern = await post({ csr: noName.csrPem }, bearer(token));
    assert.equal(errorCode(pattern), 'CW_IDENTITY_NOT_GRANTED', 'a pattern grant needs the identity named');
    const garbage = await post({ csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n' }, bearer(token));
    assert.equal(garbage.status, 400);
    assert.equal(errorCode(garbage), 'CW_CSR_INVALID');

    // After all that, the token still works, exactly once.
    const good = await keyAndCsr('web-1', 'spiffe://a.test/ns/web/sa/web-1');
    assert.equal((await post({ csr: good.csrPem }, bearer(token))).status, 201);

    const { token: shortLived } = await issuer.createJoinToken({ identity: VM, ttlSeconds: 1 });
    now += 2000;
    const expired = await post({ csr: good.csrPem }, bearer(shortLived));
    assert.equal(expired.status, 401);
    assert.equal(errorCode(expired), 'CW_TOKEN_EXPIRED');
  });

  it('issues only the SPIFFE ID: DNS names asked for in the CSR are dropped', async () => {
    // Regression: a workload could get *.example.com into its SVID and impersonate any host
    // to a client that checks host names against this trust domain's roots.
    const { token } = await issuer.createJoinToken({ identity: VM, ttlSeconds: 60 });
    const { csrPem } = await keyAndCsr('dns', VM, ',DNS:*.example.com,DNS:admin.internal');
    const answer = await post({ csr: csrPem }, bearer(token));
    assert.equal(answer.status, 201, answer.body);
    assert.equal(new X509Certificate((JSON.parse(answer.body) as { certChainPem: string }).certChainPem).subjectAltName, `URI:${VM}`);
  });

  it('renews by the current SVID for exactly the same identity', async () => {
    const { token } = await issuer.createJoinToken({ identity: VM, ttlSeconds: 60 });
    const first = await keyAndCsr('renew', VM);
    const issued = JSON.parse((await post({ csr: first.csrPem }, bearer(token))).body) as { certChainPem: string };
    const creds = { certPem: issued.certChainPem, keyPem: first.keyPem };
    const next = await keyAndCsr('renew-2', VM);
    const renewed = await post({ csr: next.csrPem }, {}, creds);
    assert.equal(renewed.status, 201, renewed.body);
    assert.equal((JSON.parse(renewed.body) as { spiffeId: string }).spiffeId, VM);
    const other = await keyAndCsr('renew-other', 'spiffe://a.test/ns/web/sa/vm-2');
    const refused = await post({ csr: other.csrPem }, {}, creds);
    assert.equal(refused.status, 403);
    assert.equal(errorCode(refused), 'CW_IDENTITY_NOT_GRANTED');
    const none = await post({ csr: next.csrPem });
    assert.equal(none.status, 401);
  });

  it('maps a Kubernetes service account token to spiffe://<td>/ns/<ns>/sa/<sa> and nothing else', async () => {
    const claims = {
      iss: 'https://kubernetes.default.svc', aud: ['causeway'], sub: 'system:serviceaccount:payments:api',
      exp: Math.floor(now / 1000) + 600, iat: Math.floor(now / 1000), nbf: Math.floor(now / 1000),
      'kubernetes.io': { namespace: 'payments', serviceaccount: { name: 'api', uid: 'u' } },
    };
    const { csrPem } = await keyAndCsr('k8s');
    const ok = await post({ csr: csrPem }, bearer(serviceAccountJwt(claims)));
    assert.equal(ok.status, 201, ok.body);
    assert.equal((JSON.parse(ok.body) as { spiffeId: string }).spiffeId, 'spiffe://a.test/ns/payments/sa/api');
    const other = await post({ csr: csrPem, spiffeId: 'spiffe://a.test/ns/payments/sa/admin' }, bearer(serviceAccountJwt(claims)));
    assert.equal(errorCode(other), 'CW_IDENTITY_NOT_GRANTED');
    const wrongAudience = await post({ csr: csrPem }, bearer(serviceAccountJwt({ ...claims, aud: ['vault'] })));
    assert.equal(wrongAudience.status, 401);
    assert.equal(errorCode(wrongAudience), 'CW_SA_TOKEN_INVALID');
  });

  it('refuses bad bodies with CW_BODY_INVALID and rate-limits per client with 429 and Retry-After', async () => {
    const { token } = await issuer.createJoinToken({ identity: VM, ttlSeconds: 60 });
    for (const body of ['{', '[]', { csr: 1 }, { csr: 'x', extra: true }, {}]) {
      const answer = await post(body, bearer(token));
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(errorCode(answer), 'CW_BODY_INVALID', JSON.stringify(body));
    }
    const limited = new WorkloadIssuer({ ca, trust, store, address: () => '127.0.0.1:15017', rateLimit: { perSecond: 0.01, burst: 2 } });
    const strict = new IdentityServer({ trustDomain: 'a.test', svid, trust, issuer: limited });
    const address = await strict.listen('127.0.0.1', 0);
    try {
      const statuses: number[] = [];
      let retryAfter: unknown;
      for (let i = 0; i < 3; i++) {
        const answer = await spiffeHttps(`https://127.0.0.1:${address.port}/v1/svid`, {
          rootsPem: roots(), expectServerId: GATEWAY, method: 'POST', body: '{"csr":"x"}',
          headers: { 'content-type': 'application/json', authorization: 'Bearer cwjt1.x.y' },
        });
        statuses.push(answer.status);
        retryAfter = answer.headers['retry-after'];
      }
      assert.deepEqual(statuses, [400, 400, 429]);
      assert.ok(Number(retryAfter) >= 1);
    } finally {
      await strict.close();
    }
  });
});
