import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../registry/index.js';
import { Gateway, parseConfigText } from '../../gateway/index.js';
import { makeTempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';

describe('admin API of an in-process gateway', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let gateway: Gateway;
  let base = '';
  let token = '';
  let configText = '';
  let configFile = '';

  before(async () => {
    tmp = await makeTempDir('admin');
    configText = `
cluster: cluster-a
trustDomain: cluster-a.example.org
gatewayName: gw-1
dataDir: ${tmp.dir}
listen: { eastWest: "127.0.0.1:0", federation: "127.0.0.1:0", outbound: "127.0.0.1:0", admin: "127.0.0.1:0", identity: "127.0.0.1:0" }
services:
  - name: web
    namespace: shop
    ports: [{ name: http, port: 80 }]
    endpoints: [{ address: 127.0.0.1, ports: { http: 8080 }, identity: "spiffe://cluster-a.example.org/ns/shop/sa/web" }]
`;
    configFile = path.join(tmp.dir, 'gateway.yaml');
    await writeFile(configFile, configText);
    gateway = await Gateway.start(parseConfigText(configText, configFile), { logger: silentLogger(), configFile });
    base = `http://${gateway.listeners.admin}`;
    token = (await readFile(path.join(tmp.dir, 'admin.token'), 'utf8')).trim();
  });

  after(async () => {
    await gateway?.close();
    await tmp?.remove();
  });

  const post = (pathname: string, body: string | undefined, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${base}${pathname}`, { method: 'POST', headers, body: body ?? null });

  it('answers health and readiness', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal(await (await fetch(`${base}/readyz`)).text(), 'ready\n');
  });

  it('serves a status document with identity, listeners, bundles and services', async () => {
    const status = (await (await fetch(`${base}/v1/status`)).json()) as Record<string, any>;
    assert.equal(status.gateway.identity, 'spiffe://cluster-a.example.org/gateway/gw-1');
    assert.deepEqual(Object.keys(status.listeners).sort(), ['admin', 'eastWest', 'federation', 'identity', 'outbound']);
    assert.equal(status.bundles.length, 1);
    assert.equal(status.bundles[0].trustDomain, 'cluster-a.example.org');
    assert.equal(status.services[0].key, 'web.shop');
    assert.equal(status.services[0].clusters['cluster-a'].endpoints[0].identity, 'spiffe://cluster-a.example.org/ns/shop/sa/web');
    const config = status.sources.find((s: { name: string }) => s.name === 'config');
    assert.deepEqual({ ...config, lastSync: typeof config.lastSync }, { name: 'config', kind: 'static', synced: true, services: 1, lastSync: 'string' });
    assert.deepEqual(status.sources.map((s: { kind: string }) => s.kind).sort(), ['agent', 'static']);
  });

  it('lists the agents that registered services (GET /v1/agents, causeway agents)', async () => {
    assert.deepEqual(await (await fetch(`${base}/v1/agents`)).json(), { agents: [] });
    assert.equal((await runCli(['agents', '--admin', base])).stdout.trim(), 'no agents');
    const agent = 'spiffe://cluster-a.example.org/ns/legacy/sa/billing';
    await gateway.agents.register(agent, [{
      name: 'billing', namespace: 'legacy', exported: false, ports: [{ name: 'http', port: 80, protocol: 'http' }],
      endpoints: [{
        address: '10.9.0.1', ports: { http: 8080 }, identity: agent, kind: 'vm', health: 'healthy', weight: 1, labels: {},
        locality: { cloud: 'local', region: 'local', zone: 'local', cluster: 'cluster-a' },
      }],
    }], 'vm-7');
    const listed = (await (await fetch(`${base}/v1/agents`)).json()) as { agents: Array<{ agent: string; services: string[] }> };
    assert.deepEqual(listed.agents.map((a) => [a.agent, a.services]), [[agent, ['billing.legacy']]]);
    const table = await runCli(['agents', '--admin', base]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^AGENT\s+HOST\s+STATE\s+SERVICES/m);
    assert.match(table.stdout, new RegExp(`${agent.replaceAll('.', '\\.')}\\s+vm-7\\s+connected\\s+billing\\.legacy \\(healthy\\)`));
    await gateway.agents.deregister(agent);
  });

  it('keeps secrets in 0600 files inside a 0700 data dir', async () => {
    assert.equal((await stat(tmp.dir)).mode & 0o777, 0o700);
    assert.equal((await stat(path.join(tmp.dir, 'admin.token'))).mode & 0o777, 0o600);
    assert.equal((await stat(path.join(tmp.dir, 'ca', 'root.key'))).mode & 0o777, 0o600);
  });

  it('refuses mutations without the admin token (401) and with a wrong one', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: token }] as Array<Record<string, string>>) {
      const response = await post('/v1/peering/token', '{}', { 'content-type': 'application/json', ...headers });
      assert.equal(response.status, 401);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'CW_ADMIN_UNAUTHORIZED');
    }
  });

  it('refuses bad bodies with 400 CW_BODY_INVALID and changes nothing', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const cases: Array<[string, string, Record<string, string>, RegExp]> = [
      ['/v1/peering/token', '{"ttlSeconds": -5}', { 'content-type': 'application/json' }, /ttlSeconds/],
      ['/v1/peering/token', '{"ttlSeconds": "1h"}', { 'content-type': 'application/json' }, /ttlSeconds/],
      ['/v1/peering/token', 'not json', { 'content-type': 'application/json' }, /not JSON/],
      ['/v1/peering/token', '[]', { 'content-type': 'application/json' }, /JSON object/],
      ['/v1/peering/token', '{}', { 'content-type': 'text/plain' }, /application\/json/],
      ['/v1/peers', '{}', { 'content-type': 'application/json' }, /token: is required/],
      ['/v1/peers', `{"token": "${'x'.repeat(70 * 1024)}"}`, { 'content-type': 'application/json' }, /exceeds/],
    ];
    for (const [pathname, body, headers, message] of cases) {
      const response = await post(pathname, body, { ...auth, ...headers });
      assert.equal(response.status, 400, `${pathname} ${body.slice(0, 40)}`);
      const answer = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(answer.error.code, 'CW_BODY_INVALID');
      assert.match(answer.error.message, message);
    }
    const peers = (await (await fetch(`${base}/v1/peers`)).json()) as { peers: unknown[] };
    assert.deepEqual(peers.peers, []);
  });

  it('mints join tokens for granted identities only, and refuses bad join-token bodies', async () => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const minted = await post('/v1/join-tokens', '{"identity": "spiffe://cluster-a.example.org/ns/shop/sa/vm-1", "ttlSeconds": 600}', headers);
    assert.equal(minted.status, 201);
    const answer = (await minted.json()) as { token: string; expiresAt: string };
    assert.match(answer.token, /^cwjt1\./);
    assert.ok(Date.parse(answer.expiresAt) > Date.now());
    const cases: Array<[string, number, string]> = [
      ['{"identity": "spiffe://other.example.org/ns/x/sa/y"}', 400, 'CW_USAGE'],
      ['{"identity": "spiffe://cluster-a.example.org/gateway/gw-2"}', 400, 'CW_USAGE'],
      ['{"identity": "spiffe://cluster-a.example.org/ns/x", "ttlSeconds": 0}', 400, 'CW_USAGE'],
      ['{"ttlSeconds": 60}', 400, 'CW_BODY_INVALID'],
      ['{"identity": "spiffe://cluster-a.example.org/ns/x", "grant": "all"}', 400, 'CW_BODY_INVALID'],
    ];
    for (const [body, status, code] of cases) {
      const response = await post('/v1/join-tokens', body, headers);
      assert.equal(response.status, status, body);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, code, body);
    }
    assert.equal((await post('/v1/join-tokens', '{"identity": "spiffe://cluster-a.example.org/ns/x"}', { 'content-type': 'application/json' })).status, 401);
  });

  it('shows the CA and bundles, and starts one rotation at a time', async () => {
    const trust = (await (await fetch(`${base}/v1/trust`)).json()) as { ca: { sequence: number; authorities: Array<{ state: string }> }; bundles: Array<{ local: boolean }> };
    assert.deepEqual(trust.ca.authorities.map((a) => a.state), ['active']);
    assert.equal(trust.bundles.filter((b) => b.local).length, 1);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    assert.equal((await post('/v1/trust/rotate', '{}', { 'content-type': 'application/json' })).status, 401);
    const started = await post('/v1/trust/rotate', '{}', headers);
    assert.equal(started.status, 202);
    const status = (await started.json()) as { sequence: number; authorities: Array<{ state: string }> };
    assert.deepEqual(status.authorities.map((a) => a.state), ['active', 'prepared']);
    assert.equal(status.sequence, trust.ca.sequence + 1);
    const again = await post('/v1/trust/rotate', '{}', headers);
    assert.equal(again.status, 409);
    assert.equal(((await again.json()) as { error: { code: string } }).error.code, 'CW_CA_ROTATION');
    assert.equal(gateway.trust.get('cluster-a.example.org')?.rootsPem.length, 2, 'the new root is trusted at once');
  });

  it('refuses a malformed peering token with 400 and the token code', async () => {
    const response = await post('/v1/peers', '{"token": "cwpt1.bad"}', { authorization: `Bearer ${token}`, 'content-type': 'application/json' });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'CW_TOKEN_MALFORMED');
  });

  it('answers 404 with a code for unknown routes and peers', async () => {
    const route = await fetch(`${base}/v1/nothing`);
    assert.equal(route.status, 404);
    assert.equal(((await route.json()) as { error: { code: string } }).error.code, 'CW_NOT_FOUND');
    const peer = await fetch(`${base}/v1/peers/ghost`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal(peer.status, 404);
    assert.equal(((await peer.json()) as { error: { code: string } }).error.code, 'CW_PEER_UNKNOWN');
  });

  it('reloads services from the file, and refuses a bad file or a restart-only change whole', async () => {
    const reload = async (): Promise<{ status: number; body: any }> => {
      const response = await post('/v1/reload', undefined, { authorization: `Bearer ${token}` });
      return { status: response.status, body: await response.json() };
    };
    const serviceKeys = async (): Promise<string[]> =>
      ((await (await fetch(`${base}/v1/services`)).json()) as { services: Array<{ key: string }> }).services.map((s) => s.key);

    await writeFile(configFile, configText.replace('name: web', 'name: shop-web').replace('endpoints: [{ address: 127.0.0.1', 'endpoints: [{ address: 999.1.1.1'));
    const invalid = await reload();
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.code, 'CW_CONFIG_INVALID');
    assert.deepEqual(await serviceKeys(), ['web.shop']);

    await writeFile(configFile, configText.replace('gatewayName: gw-1', 'gatewayName: gw-2').replace('name: web', 'name: shop-web'));
    const fixed = await reload();
    assert.equal(fixed.status, 400);
    assert.match(fixed.body.error.message, /gatewayName cannot change without a restart/);
    assert.deepEqual(await serviceKeys(), ['web.shop']);

    await writeFile(configFile, configText.replace('name: web', 'name: shop-web'));
    const applied = await reload();
    assert.equal(applied.status, 200);
    assert.deepEqual(applied.body.changed, ['services']);
    assert.deepEqual(await serviceKeys(), ['shop-web.shop']);
  });
  it('answers a malformed percent-encoding in the path with 400 CW_REQUEST_INVALID, not 500', async () => {
    // Regression: decodeURIComponent threw a URIError on DELETE /v1/peers/%E0%A4%A, a 500.
    for (const [method, pathname] of [['DELETE', '/v1/peers/%E0%A4%A'], ['DELETE', '/v1/peers/%ZZ'], ['GET', '/v1/peers/%'], ['GET', '/%C0%AF']] as const) {
      const res = await fetch(`${base}${pathname}`, { method, headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 400, `${method} ${pathname}`);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'CW_REQUEST_INVALID');
      assert.match(body.error.message, /percent-encoded/);
    }
    // A well-formed encoding still reaches the route.
    const unknown = await fetch(`${base}/v1/peers/no%2Dsuch`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'CW_PEER_UNKNOWN');
  });
});
