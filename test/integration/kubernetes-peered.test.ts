// A Kubernetes cluster joins by itself: gateway "east" reads its Services and EndpointSlices from
// the API double (sources.kubernetes with a kubeconfig), and its peers see only what is exported,
// only where it is exported to. "south" is never sent the Service annotated for "west" alone: its
// link's own log of the records it received says so (filtered at the sender, not hidden).
import assert from 'node:assert/strict';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger, silentLogger } from '../../registry/index.js';
import { Gateway, parseConfigText } from '../../gateway/index.js';
import { KubeApiDouble } from '../doubles/kube-api-server.js';
import { inProcessConfig } from '../helpers/in-process-config.js';
import { makeTempDir } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait-for.js';

function service(name: string, annotations: Record<string, string>): Parameters<KubeApiDouble['apply']>[1] {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop', annotations }, spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } };
}

function slice(name: string, ips: string[]): Parameters<KubeApiDouble['apply']>[1] {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${name}-x`, namespace: 'shop', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  };
}

describe('Kubernetes source in a federation: export per peer', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let api: KubeApiDouble;
  let east: Gateway | undefined;
  let west: Gateway | undefined;
  let south: Gateway | undefined;
  const southLog: string[] = [];

  const configOf = (cluster: string, extra = ''): string => inProcessConfig(tmp.dir, cluster, extra);
  const seenBy = (gateway: Gateway | undefined, key: string): number | undefined => {
    const record = gateway?.catalog.get('east', key);
    return record === undefined || record.deleted ? undefined : record.endpoints.length;
  };
  /** Every record key south's links logged as received (debug "link records received"). */
  const receivedBySouth = (): string[] => southLog.flatMap((line) => {
    const entry = JSON.parse(line) as { msg?: string; records?: string[] };
    return entry.msg === 'link records received' ? entry.records ?? [] : [];
  });

  before(async () => {
    tmp = await makeTempDir('kube-peered');
    api = new KubeApiDouble('east-token');
    await api.start();
    api.apply('services', service('storefront', { 'causeway.dev/export': 'true' }));
    api.apply('services', service('ledger', { 'causeway.dev/export': 'west' }));
    api.apply('services', service('admin', {}));
    for (const name of ['storefront', 'ledger', 'admin']) api.apply('endpointslices', slice(name, ['10.3.0.1']));
    const kubeconfig = api.writeKubeconfig(path.join(tmp.dir, 'kubeconfig'));
    east = await Gateway.start(parseConfigText(configOf('east', `sources: { kubernetes: { kubeconfig: ${kubeconfig}, serviceImports: true } }`)), { logger: silentLogger() });
    west = await Gateway.start(parseConfigText(configOf('west')), { logger: silentLogger() });
    const sink = new Writable({ write(chunk: Buffer, _encoding, done) { southLog.push(...chunk.toString().split('\n').filter((l) => l !== '')); done(); } });
    // south offers one service of its own, which east writes as a ServiceImport.
    south = await Gateway.start(parseConfigText(configOf('south', `services:
  - name: reports
    namespace: shop
    export: true
    ports: [{ name: http, port: 80 }]
    endpoints: [{ address: 10.9.0.1, ports: { http: 8080 }, identity: "spiffe://south.example.org/ns/shop/sa/reports" }]
`)), { logger: createLogger({ level: 'debug', destination: sink }) });
    await west.peers.addPeer(await east.peers.createToken({ ttlSeconds: 600 }));
    await south.peers.addPeer(await east.peers.createToken({ ttlSeconds: 600 }));
  });

  after(async () => {
    await Promise.all([east?.close(), west?.close(), south?.close()]);
    await api?.close();
    await tmp?.remove();
  });

  it('exports what the annotation says, to whom it says: west gets both, south only storefront, nobody gets admin', async () => {
    await waitFor('storefront at both peers', () => (seenBy(west, 'storefront.shop') === 1 && seenBy(south, 'storefront.shop') === 1 ? true : undefined));
    await waitFor('ledger at west', () => (seenBy(west, 'ledger.shop') === 1 ? true : undefined));
    assert.equal(seenBy(south, 'ledger.shop'), undefined);
    assert.equal(seenBy(west, 'admin.shop'), undefined);
    assert.equal(east?.catalog.get('east', 'admin.shop')?.exported, false);
    const received = receivedBySouth();
    assert.ok(received.includes('storefront.shop'), `south received ${received.join(', ')}`);
    assert.ok(!received.some((key) => key.startsWith('ledger.') || key.startsWith('admin.')), `south received ${received.join(', ')}`);
  });

  it('endpoint changes in Kubernetes reach the peers; a Service deleted there is deleted at the peers', async () => {
    api.apply('endpointslices', slice('storefront', ['10.3.0.1', '10.3.0.2', '10.3.0.3']));
    await waitFor('three storefront endpoints at south', () => (seenBy(south, 'storefront.shop') === 3 ? true : undefined));
    api.delete('services', 'shop', 'storefront');
    await waitFor('storefront gone at west and south', () => (seenBy(west, 'storefront.shop') === undefined && seenBy(south, 'storefront.shop') === undefined ? true : undefined));
  });

  it('narrowing the annotation withdraws the service from the peer no longer named', async () => {
    api.modify('services', 'shop', 'ledger', (s) => {
      s.metadata.annotations = { 'causeway.dev/export': 'south' };
    });
    await waitFor('ledger at south, gone from west', () => (seenBy(south, 'ledger.shop') === 1 && seenBy(west, 'ledger.shop') === undefined ? true : undefined));
  });
  it('services imported from peers show up as MCS ServiceImports in the cluster (opt-in), with the clusters serving them', async () => {
    const imported = await waitFor('the ServiceImport of reports.shop', () => {
      const object = api.object('serviceimports', 'shop', 'reports') as { metadata: { labels?: Record<string, string> }; spec?: { type?: string; ports?: unknown[] }; status?: { clusters?: Array<{ cluster: string }> } } | undefined;
      return object?.status?.clusters?.length === 1 ? object : undefined;
    });
    assert.deepEqual([imported.spec?.type, imported.spec?.ports, imported.status?.clusters, imported.metadata.labels?.['app.kubernetes.io/managed-by']],
      ['ClusterSetIP', [{ name: 'http', port: 80, protocol: 'TCP', appProtocol: 'http' }], [{ cluster: 'south' }], 'causeway']);
    assert.equal(api.object('serviceimports', 'shop', 'storefront'), undefined, 'a local service is not a ServiceImport');
    await south?.peers.removePeer('east');
    await waitFor('the ServiceImport deleted with the peer', () => (api.object('serviceimports', 'shop', 'reports') === undefined ? true : undefined));
  });
});
