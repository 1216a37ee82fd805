import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger, type Health } from '../../registry/index.js';
import { Gateway, parseConfigText } from '../../gateway/index.js';
import { DEFAULT_FAILOVER, EMPTY_POLICY_SET, type PolicySet, type PolicySource } from '../../gateway/policy/policy-set.js';
import { makeTempDir } from '../helpers/paths.js';
import { getJson, waitFor } from '../helpers/wait-for.js';

/**
 * Active health checks end to end: B checks its own endpoint of `pay.prod`, and A, peered
 * with B, sees the endpoint go unhealthy and healthy through the records the link carries.
 * B's policy set comes in as a PolicySource (what the policy store will provide).
 */
describe('active health checks travel to peers with the endpoint records', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let backend: Server;
  let status = 200;
  let a: Gateway | undefined;
  let b: Gateway | undefined;

  const policies: PolicySource = {
    current: (): PolicySet => ({
      ...EMPTY_POLICY_SET, version: 1,
      failover: new Map([['pay.prod', {
        ...DEFAULT_FAILOVER, policy: 'FailoverPolicy/pay',
        healthCheck: {
          kind: 'http', path: '/healthz', port: undefined, expectStatus: (s: number) => s >= 200 && s < 400,
          intervalMs: 50, timeoutMs: 500, healthyThreshold: 2, unhealthyThreshold: 2,
        },
      }]]),
    }),
    onChange: () => () => undefined,
  };

  const config = (cluster: string, services: string): string => `
cluster: ${cluster}
trustDomain: ${cluster}.example.org
gatewayName: gw
dataDir: ${path.join(tmp.dir, cluster)}
listen: { eastWest: "127.0.0.1:0", federation: "127.0.0.1:0", outbound: "127.0.0.1:0", admin: "127.0.0.1:0", identity: "127.0.0.1:0" }
${services}
`;
  const healthIn = (gateway: Gateway | undefined): Health | undefined => gateway?.catalog.get('cluster-b', 'pay.prod')?.endpoints[0]?.health;
  const until = (gateway: Gateway | undefined, health: Health) => (): true | undefined => (healthIn(gateway) === health ? true : undefined);

  before(async () => {
    tmp = await makeTempDir('health-checks');
    backend = createServer((_req, res) => { res.statusCode = status; res.end(); });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const port = (backend.address() as AddressInfo).port;
    b = await Gateway.start(parseConfigText(config('cluster-b', `
services:
  - name: pay
    namespace: prod
    export: true
    ports: [{ name: http, port: 80 }]
    endpoints: [{ address: 127.0.0.1, ports: { http: ${port} }, identity: "spiffe://cluster-b.example.org/ns/prod/sa/pay" }]
`)), { logger: silentLogger(), policies });
    a = await Gateway.start(parseConfigText(config('cluster-a', '')), { logger: silentLogger() });
    await a.peers.addPeer(await b.peers.createToken({ ttlSeconds: 600 }));
    await waitFor('pay.prod of cluster-b in A', until(a, 'healthy'));
  });

  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await new Promise((resolve) => backend?.close(resolve));
    await tmp?.remove();
  });

  it('A sees B\'s endpoint go unhealthy when its backend answers 503, and healthy again when it recovers', async () => {
    const before = b?.catalog.get('cluster-b', 'pay.prod')?.version.seq ?? 0;
    status = 503;
    await waitFor('unhealthy in B', until(b, 'unhealthy'));
    await waitFor('unhealthy in A', until(a, 'unhealthy'));
    assert.deepEqual(a?.catalog.get('cluster-b', 'pay.prod')?.version, b?.catalog.get('cluster-b', 'pay.prod')?.version);
    assert.equal(b?.catalog.get('cluster-b', 'pay.prod')?.version.seq, before + 1, 'one new version for the change');

    // B's status API shows the checks; A's shows the replicated health.
    const servicesOfB = await getJson<{ services: Array<{ key: string; clusters: Record<string, { endpoints: Array<Record<string, any>> }> }> }>(
      `http://${b?.listeners.admin}/v1/services`);
    const check = servicesOfB.services.find((s) => s.key === 'pay.prod')?.clusters['cluster-b']?.endpoints[0]?.check;
    assert.equal(check?.observed, 'unhealthy');
    assert.equal(check?.lastResult?.reason, 'HTTP 503');
    assert.ok(check?.consecutiveFailures >= 2);
    const servicesOfA = await getJson<{ services: Array<{ key: string; clusters: Record<string, { endpoints: Array<Record<string, any>> }> }> }>(
      `http://${a?.listeners.admin}/v1/services`);
    const remote = servicesOfA.services.find((s) => s.key === 'pay.prod')?.clusters['cluster-b']?.endpoints[0];
    assert.equal(remote?.health, 'unhealthy');
    assert.equal(remote?.check, undefined, 'A does not check another cluster\'s endpoints');

    // B's data dir keeps the observed health with the record.
    await waitFor('persisted in B', async () => {
      const saved = JSON.parse(await readFile(path.join(tmp.dir, 'cluster-b', 'state', 'catalog.json'), 'utf8'));
      const record = saved.catalog.records.find((r: { name: string }) => r.name === 'pay');
      return record?.endpoints[0]?.health === 'unhealthy' ? true : undefined;
    });

    status = 200;
    await waitFor('healthy in A', until(a, 'healthy'));
    assert.equal(b?.catalog.get('cluster-b', 'pay.prod')?.version.seq, before + 2);
  });
});
