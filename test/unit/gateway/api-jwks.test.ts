// The service-account issuer's keys read from the API server (GET /openid/v1/jwks) through the
// real client-node against the Kubernetes API double: a key rotated in is accepted once read
// (a token naming it asks for the read, rate-limited), the API server down or a bad body keeps
// the last good key set, and until a first read tokens are refused as unavailable, not invalid.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isCausewayError } from '../../../registry/index.js';
import { ApiServerJwks, type ApiServerJwksOptions } from '../../../gateway/kubernetes/api-jwks.js';
import { KubeApiDouble } from '../../doubles/kube-api-server.js';
import { issuerKey, serviceAccountToken, type IssuerKey } from '../../helpers/service-account-jwt.js';
import { waitFor } from '../../helpers/wait-for.js';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';

const signingKey = issuerKey;
const token = (key: IssuerKey, account = 'api', issuer = ISSUER): string => serviceAccountToken(key, { issuer, namespace: 'shop', account });

describe('service account JWKS from the API server (client-node against the API double)', () => {
  let api: KubeApiDouble;
  const k1 = signingKey('k1');
  const k2 = signingKey('k2');
  const k3 = signingKey('k3');
  const k4 = signingKey('k4');
  const open: ApiServerJwks[] = [];
  const jwksReads = (): number => api.requestLog().filter((r) => r.path === '/openid/v1/jwks').length;
  const make = (options: Partial<ApiServerJwksOptions> = {}): ApiServerJwks => {
    const jwks = new ApiServerJwks({
      kubeConfig: api.kubeConfig(), issuer: ISSUER, audience: 'causeway', maxTokenTtlSeconds: 3600, minBackoffMs: 20, maxBackoffMs: 100, minKeyRefreshMs: 0, ...options,
    });
    open.push(jwks);
    return jwks;
  };

  before(async () => {
    api = new KubeApiDouble('gw-token');
    await api.start();
  });
  after(async () => {
    for (const jwks of open) jwks.close();
    await api?.close();
  });

  it('refuses tokens as unavailable (503) until the key set is read, then accepts them', async () => {
    api.setServiceAccountJwks(undefined);
    const jwks = make();
    jwks.start();
    await waitFor('the first failed read', () => jwks.status().lastError);
    await assert.rejects(jwks.verify(token(k1)), (err) => isCausewayError(err, 'CW_SA_JWKS_UNAVAILABLE') && /not found/.test(err.message));
    api.setServiceAccountJwks({ keys: [k1.jwk] });
    // A token of our issuer asks for a read itself; no need to wait for the retry.
    const account = await jwks.verify(token(k1));
    assert.deepEqual([account.namespace, account.serviceAccount], ['shop', 'api']);
    assert.deepEqual(jwks.status().keys, ['k1']);
    assert.equal(jwks.status().lastError, undefined);
  });

  it('accepts a token signed with a newly rotated key once the set is read again, reading it at most every minKeyRefreshMs', async () => {
    api.setServiceAccountJwks({ keys: [k1.jwk] });
    const jwks = make({ minKeyRefreshMs: 60_000 });
    assert.equal(await jwks.refresh(), true);
    api.setServiceAccountJwks({ keys: [k1.jwk, k2.jwk] });
    assert.equal((await jwks.verify(token(k2))).serviceAccount, 'api');
    api.setServiceAccountJwks({ keys: [k1.jwk, k2.jwk, k3.jwk] });
    const reads = jwksReads();
    // Within minKeyRefreshMs of the read a token asked for: the unknown key is refused, with no read made.
    await assert.rejects(jwks.verify(token(k3)), (err) => isCausewayError(err, 'CW_SA_TOKEN_INVALID') && /key "k3" is not in the issuer's JWKS/.test(err.message));
    assert.equal(jwksReads(), reads);

    const eager = make();
    assert.equal(await eager.refresh(), true);
    api.setServiceAccountJwks({ keys: [k2.jwk, k4.jwk] });
    const before = jwksReads();
    // Many tokens naming the new key at once share one read.
    const accounts = await Promise.all([1, 2, 3, 4, 5].map((i) => eager.verify(token(k4, `api-${i}`))));
    assert.deepEqual(accounts.map((a) => a.serviceAccount), ['api-1', 'api-2', 'api-3', 'api-4', 'api-5']);
    assert.equal(jwksReads(), before + 1);
    assert.deepEqual(eager.status().keys, ['k2', 'k4']);
    // k1 was rotated out: its token asks for one more read, and is refused.
    await assert.rejects(eager.verify(token(k1)), (err) => isCausewayError(err, 'CW_SA_TOKEN_INVALID') && /key "k1"/.test(err.message));
    assert.equal(jwksReads(), before + 2);
    // A token of another issuer never asks for a read.
    await assert.rejects(eager.verify(token(signingKey('k9'), 'api', 'https://elsewhere.example')), (err) => isCausewayError(err, 'CW_SA_TOKEN_INVALID'));
    assert.equal(jwksReads(), before + 2);
  });

  it('reads the key set again every refreshMs, without a token asking', async () => {
    api.setServiceAccountJwks({ keys: [k1.jwk] });
    const jwks = make({ refreshMs: 100 });
    jwks.start();
    await waitFor('the first read', () => (jwks.status().keys.length === 1 ? true : undefined));
    api.setServiceAccountJwks({ keys: [k1.jwk, k2.jwk] });
    await waitFor('the periodic read', () => (jwks.status().keys.includes('k2') ? true : undefined));
    jwks.close();
  });

  it('keeps the last good key set while the API server is down, and reads again once it is back', async () => {
    api.setServiceAccountJwks({ keys: [k1.jwk] });
    const jwks = make({ refreshMs: 100 });
    assert.equal(await jwks.refresh(), true);
    await api.down();
    try {
      assert.equal(await jwks.refresh(), false);
      assert.match(jwks.status().lastError ?? '', /\/openid\/v1\/jwks: .*(ECONNREFUSED|connect)/i);
      assert.deepEqual(jwks.status().keys, ['k1']);
      assert.equal((await jwks.verify(token(k1))).serviceAccount, 'api');
      await api.down('unavailable');
      assert.equal(await jwks.refresh(), false);
      assert.match(jwks.status().lastError ?? '', /the API server answered 503/);
      assert.equal((await jwks.verify(token(k1))).serviceAccount, 'api');
      api.setServiceAccountJwks({ keys: [k2.jwk] });
    } finally {
      await api.up();
    }
    // The retries (backoff, then every refreshMs) pick up the key set changed meanwhile.
    await waitFor('a read after the outage', () => (jwks.status().keys.join() === 'k2' ? true : undefined));
    assert.equal(jwks.status().lastError, undefined);
    jwks.close();
  });

  it('refuses a bad key set body and changes nothing', async () => {
    api.setServiceAccountJwks({ keys: [k1.jwk] });
    const jwks = make();
    assert.equal(await jwks.refresh(), true);
    const fetchedAt = jwks.status().fetchedAt;
    const cases: Array<[string, { keys: unknown[] }, RegExp]> = [
      ['no usable key', { keys: [{ kty: 'oct', kid: 'h', k: 'AAAA' }] }, /no usable key with a "kid"/],
      ['no keys list', { keys: 'k1' } as unknown as { keys: unknown[] }, /no "keys" list/],
      ['a broken key', { keys: [k2.jwk, { kty: 'EC', kid: 'bad', crv: 'P-256', x: 'AA', y: 'AA' }] }, /keys\[1\] is unusable/],
    ];
    for (const [name, body, reason] of cases) {
      api.setServiceAccountJwks(body);
      assert.equal(await jwks.refresh(), false, name);
      assert.match(jwks.status().lastError ?? '', reason, name);
      assert.deepEqual(jwks.status().keys, ['k1'], name);
      assert.equal(jwks.status().fetchedAt, fetchedAt, name);
      assert.equal((await jwks.verify(token(k1))).serviceAccount, 'api', name);
    }
  });

  it('names a missing grant on the non-resource URL, and warns when the API server names another issuer', async () => {
    api.setServiceAccountJwks({ keys: [k1.jwk] });
    const other = make({ issuer: 'https://oidc.example/cluster-1' });
    assert.equal(await other.refresh(), true);
    assert.equal(other.status().issuerMismatch, ISSUER);
    const refused = new ApiServerJwks({ kubeConfig: api.kubeConfig('wrong-token'), issuer: ISSUER, audience: 'causeway', maxTokenTtlSeconds: 3600 });
    open.push(refused);
    assert.equal(await refused.refresh(), false);
    assert.match(refused.status().lastError ?? '', /refused the credentials \(401\)/);
  });
});
