// The Consul bridge's watch at scale: a constant number of parked blocking queries however many
// services Consul holds, changes that move no check (a re-registration on a new port), node-level
// checks, Consul's per-client connection limit, and HTTPS with a CA and a client certificate —
// against the Consul API double through the real consul client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Catalog, ConsulSource, LocalRegistry, SourceSet, type ConsulSourceOptions, type Endpoint } from '../../../registry/index.js';
import { ConsulApiDouble, type ConsulApiDoubleOptions } from '../../doubles/consul-api.js';
import { makeConsulTls, type ConsulTlsFiles } from '../../helpers/consul-tls.js';
import { makeTempDir } from '../../helpers/paths.js';
import { waitFor } from '../../helpers/wait-for.js';

const LOCALITY = { cloud: 'onprem', region: 'dc1', zone: 'z', cluster: 'legacy' };

interface World {
  consul: ConsulApiDouble;
  /** host:port of the double. */
  address: string;
  catalog: Catalog;
  sources: SourceSet;
  source: ConsulSource;
  endpoints(service: string): Endpoint[];
  close(): Promise<void>;
}

/** A double with `services` services of `instances` instances each, and a source started on it. */
async function world(options: {
  services: number; instances?: number; double?: ConsulApiDoubleOptions; source?: Partial<ConsulSourceOptions>;
}): Promise<World> {
  const consul = new ConsulApiDouble({ jitter: false, ...options.double });
  const address = await consul.start();
  for (let s = 0; s < options.services; s += 1) {
    for (let i = 0; i < (options.instances ?? 1); i += 1) {
      consul.registerService({ node: `node-${s}-${i}`, address: `10.1.${s % 250}.${i + 1}`, service: `svc-${s}`, id: `svc-${s}-${i}`, port: 8080 });
    }
  }
  const catalog = new Catalog({ localCluster: 'legacy' });
  const registry = new LocalRegistry({ catalog, version: { epoch: 1, seq: 0 } });
  const source = new ConsulSource({
    name: 'consul-dc1', host: address.host, port: address.port, namespace: 'prod', meshPort: 80, exported: true, locality: LOCALITY,
    identityTemplate: 'spiffe://legacy.example.org/ns/{namespace}/sa/{service}', wait: '1s', ...options.source,
  });
  const sources = new SourceSet({ registry });
  sources.add(source);
  sources.start();
  return {
    consul, address: `${address.host}:${address.port}`, catalog, sources, source,
    endpoints: (service) => [...(catalog.get('legacy', `${service}.prod`)?.endpoints ?? [])].sort((a, b) => a.address.localeCompare(b.address)),
    close: async () => {
      await sources.close();
      await consul.close();
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('ConsulSource at scale', () => {
  it('follows 300 services with two parked blocking queries, not one per service and not by polling', { timeout: 60_000 }, async () => {
    const w = await world({ services: 300 });
    try {
      await w.sources.allSynced();
      assert.equal(w.catalog.recordsOf('legacy').length, 300);
      assert.equal(w.source.stats().serviceReads, 300, 'each service read once for the first sync');
      await waitFor('both watches parked', () => (w.consul.blockedQueries === 2 ? true : undefined));
      const from = w.consul.requestLog().length;
      const parked: number[] = [];
      for (let i = 0; i < 15; i += 1) {
        await sleep(100);
        parked.push(w.consul.blockedQueries);
      }
      assert.ok(parked.every((n) => n <= 2), `parked queries: ${parked.join(' ')}`);
      const quiet = w.consul.requestLog().slice(from);
      // 1.5 s of quiet with a 1 s wait: each watch re-asks once or twice, every time blocking.
      assert.deepEqual([...new Set(quiet.map((r) => r.path))].sort(), ['/v1/catalog/services', '/v1/health/state/any']);
      assert.ok(quiet.length <= 4, `${quiet.length} requests in 1.5 s of quiet`);
      assert.ok(quiet.every((r) => r.blocked && r.index !== undefined && r.index > 0), JSON.stringify(quiet));

      // One check change: the check list answers, and that one service is read.
      const readsBefore = w.source.stats().serviceReads;
      const logBefore = w.consul.requestLog().length;
      w.consul.setCheckStatus('node-123-0', 'service:svc-123-0', 'critical');
      await waitFor('svc-123 unhealthy', () => (w.endpoints('svc-123')[0]?.health === 'unhealthy' ? true : undefined));
      await waitFor('both watches parked again', () => (w.consul.blockedQueries === 2 ? true : undefined));
      assert.equal(w.source.stats().serviceReads - readsBefore, 1);
      const reads = w.consul.requestLog().slice(logBefore).filter((r) => r.path.startsWith('/v1/health/service/'));
      assert.deepEqual(reads.map((r) => [r.path, r.index, r.blocked]), [['/v1/health/service/svc-123', undefined, false]]);

      // Output-only writes (every agent syncs a steady check's output each check_update_interval)
      // answer the check list, and read no service.
      const logAtOutput = w.consul.requestLog().length;
      for (let s = 0; s < 50; s += 1) w.consul.setCheckOutput(`node-${s}-0`, `service:svc-${s}-0`, `200 OK at ${s}`);
      await waitFor('the check list answered', () => (w.consul.requestLog().slice(logAtOutput).some((r) => r.path === '/v1/health/state/any' && r.status === 200) ? true : undefined));
      await waitFor('both watches parked again', () => (w.consul.blockedQueries === 2 ? true : undefined));
      assert.equal(w.source.stats().serviceReads - readsBefore, 1, 'no read for an output change');
    } finally {
      await w.close();
    }
  });

  it('paces each watch to a query a second: a burst of check changes costs a check list a second, the first change answered at once', { timeout: 30_000 }, async () => {
    const w = await world({ services: 10 });
    try {
      await w.sources.allSynced();
      await waitFor('both watches parked', () => (w.consul.blockedQueries === 2 ? true : undefined));
      await sleep(1100);
      const from = w.consul.requestLog().length;
      const t0 = performance.now();
      w.consul.setCheckStatus('node-0-0', 'service:svc-0-0', 'critical');
      await waitFor('the first change', () => (w.endpoints('svc-0')[0]?.health === 'unhealthy' ? true : undefined), 20_000, 5);
      const firstMs = performance.now() - t0;
      for (let s = 1; s < 10; s += 1) {
        w.consul.setCheckStatus(`node-${s}-0`, `service:svc-${s}-0`, 'critical');
        await sleep(50);
      }
      await waitFor('every change', () => (Array.from({ length: 10 }, (_, s) => w.endpoints(`svc-${s}`)[0]?.health).every((h) => h === 'unhealthy') ? true : undefined));
      const lists = w.consul.requestLog().slice(from).filter((r) => r.path === '/v1/health/state/any' && r.status === 200);
      assert.ok(firstMs < 500, `the first change took ${firstMs.toFixed(0)} ms`);
      assert.ok(lists.length <= 3, `${lists.length} check lists for a burst of 10 changes in 0.5 s`);
    } finally {
      await w.close();
    }
  });

  it('an instance re-registered on a new port, with no check change, reaches the catalog', { timeout: 30_000 }, async () => {
    const w = await world({ services: 20, instances: 2 });
    try {
      await w.sources.allSynced();
      const refreshes = w.source.stats().fullRefreshes;
      w.consul.registerService({ node: 'node-7-1', address: '10.1.7.2', service: 'svc-7', id: 'svc-7-1', port: 9090 });
      await waitFor('the new port', () => (w.endpoints('svc-7').map((e) => e.ports.http).join() === '8080,9090' ? true : undefined));
      assert.equal(w.source.stats().fullRefreshes, refreshes + 1, 'found by reading every service again (no check said so)');
      // A service moved to another address of the same node, and a new instance (with its check).
      w.consul.registerService({ node: 'node-8-0', address: '10.1.8.1', service: 'svc-8', id: 'svc-8-0', serviceAddress: '10.9.8.1', port: 8080 });
      w.consul.registerService({ node: 'node-9-5', address: '10.1.9.6', service: 'svc-9', id: 'svc-9-5', port: 8080 });
      await waitFor('the moved address and the new instance', () => (w.endpoints('svc-8').some((e) => e.address === '10.9.8.1') && w.endpoints('svc-9').length === 3 ? true : undefined));
      w.consul.deregister('node-9-5');
      await waitFor('the instance gone', () => (w.endpoints('svc-9').length === 2 ? true : undefined));
    } finally {
      await w.close();
    }
  });

  it('a node-level check (ServiceID "") counts against every service on its node', { timeout: 30_000 }, async () => {
    const w = await world({ services: 3 });
    try {
      // A second service on node-0-0, and the node's serfHealth.
      w.consul.registerService({ node: 'node-0-0', address: '10.1.0.1', service: 'audit', id: 'audit-1', port: 7000 });
      await w.sources.allSynced();
      await waitFor('audit imported', () => (w.endpoints('audit').length === 1 ? true : undefined));
      await register(w.address, { Node: 'node-0-0', Address: '10.1.0.1', Checks: [{ CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'critical' }] });
      await waitFor('both services on node-0-0 unhealthy', () => (w.endpoints('svc-0')[0]?.health === 'unhealthy' && w.endpoints('audit')[0]?.health === 'unhealthy' ? true : undefined));
      assert.equal(w.endpoints('svc-1')[0]?.health, 'healthy', 'another node is not affected');
      await register(w.address, { Node: 'node-0-0', Address: '10.1.0.1', Checks: [{ CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing' }] });
      await waitFor('healthy again', () => (w.endpoints('svc-0')[0]?.health === 'healthy' && w.endpoints('audit')[0]?.health === 'healthy' ? true : undefined));
    } finally {
      await w.close();
    }
  });
});

/** PUT /v1/catalog/register on the double (node-level checks have no helper). */
async function register(address: string, body: unknown): Promise<void> {
  const res = await fetch(`http://${address}/v1/catalog/register`, { method: 'PUT', body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.text());
}

describe('ConsulSource and Consul\'s connection limit', () => {
  it('with http_max_conns_per_client at 10, 50 services sync without a refused connection (2 parked + 8 reads)', { timeout: 30_000 }, async () => {
    const w = await world({ services: 50, double: { maxConnsPerClient: 10 } });
    try {
      await w.sources.allSynced();
      assert.equal(w.catalog.recordsOf('legacy').length, 50);
      assert.equal(w.consul.refusedConnections, 0);
      assert.ok((w.consul.openConnections()['127.0.0.1'] ?? 0) <= 10);
    } finally {
      await w.close();
    }
  });

  it('below what it would use (a limit of 5), it is refused now and then (Consul\'s 429) and still syncs', { timeout: 60_000 }, async () => {
    const w = await world({ services: 50, double: { maxConnsPerClient: 5 } });
    try {
      await w.sources.allSynced();
      assert.equal(w.catalog.recordsOf('legacy').length, 50);
      assert.ok(w.consul.refusedConnections > 0, 'some reads were refused');
      w.consul.setCheckStatus('node-42-0', 'service:svc-42-0', 'critical');
      await waitFor('the change after the refusals', () => (w.endpoints('svc-42')[0]?.health === 'unhealthy' ? true : undefined));
    } finally {
      await w.close();
    }
  });
});

describe('ConsulSource over HTTPS', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let tls: ConsulTlsFiles;

  before(async () => {
    tmp = await makeTempDir('consul-source-tls');
    tls = makeConsulTls(tmp.dir);
  });
  after(async () => {
    await tmp?.remove();
  });

  it('syncs over HTTPS, trusting the given CA and checking the agent\'s name', { timeout: 30_000 }, async () => {
    const w = await world({
      services: 3, double: { tls: { key: tls.serverKeyPem, cert: tls.serverCertPem } },
      source: { secure: true, tls: { ca: tls.caPem, serverName: 'server.dc1.consul' } },
    });
    try {
      await w.sources.allSynced();
      assert.equal(w.catalog.recordsOf('legacy').length, 3);
    } finally {
      await w.close();
    }
    const wrongName = await world({
      services: 1, double: { tls: { key: tls.serverKeyPem, cert: tls.serverCertPem } },
      source: { secure: true, tls: { ca: tls.caPem, serverName: 'server.dc2.consul' } },
    });
    try {
      await waitFor('the name refused', () => (/server\.dc2\.consul|altnames/i.test(wrongName.source.lastError() ?? '') ? true : undefined));
      assert.equal(wrongName.sources.status()[0]?.synced, false);
    } finally {
      await wrongName.close();
    }
  });

  it('with verify_incoming, syncs with a client certificate from the CA and is refused without one', { timeout: 30_000 }, async () => {
    const double = { tls: { key: tls.serverKeyPem, cert: tls.serverCertPem, ca: tls.caPem, verifyIncoming: true } };
    const anonymous = await world({ services: 2, double, source: { secure: true, tls: { ca: tls.caPem, serverName: 'server.dc1.consul' } } });
    try {
      await waitFor('the handshake refused', () => (anonymous.source.lastError() !== undefined ? true : undefined));
      assert.equal(anonymous.sources.status()[0]?.synced, false);
      assert.equal(anonymous.consul.requestLog().length, 0, 'no request got through');
    } finally {
      await anonymous.close();
    }
    const withCert = await world({
      services: 2, double,
      source: { secure: true, tls: { ca: tls.caPem, cert: tls.clientCertPem, key: tls.clientKeyPem, serverName: 'server.dc1.consul' } },
    });
    try {
      await withCert.sources.allSynced();
      assert.equal(withCert.catalog.recordsOf('legacy').length, 2);
    } finally {
      await withCert.close();
    }
  });
});
