// The Kubernetes source against the Kubernetes API double, through the real client-node
// informers: Services and EndpointSlices created, scaled, made not-ready and deleted; pods'
// service accounts as identities, nodes' topology; exports by annotation and by ServiceExport;
// a 410 in the middle of a watch; the API server down at start.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Catalog, LocalRegistry, SourceSet, createKubernetesSource, type Endpoint, type KubernetesSource } from '../../registry/index.js';
import { KubeApiDouble } from '../doubles/kube-api-server.js';
import { waitFor } from '../helpers/wait-for.js';

const TD = 'east.example.org';
const LOCALITY = { cloud: 'aws', region: 'us-east-1', zone: 'us-east-1a', cluster: 'east' };
const TOKEN = 'gateway-sa-token';

function serviceObject(name: string, annotations: Record<string, string> = {}): Parameters<KubeApiDouble['apply']>[1] {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: 'prod', annotations },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 8000 }] },
  };
}

function sliceObject(service: string, endpoints: Array<{ ip: string; pod: string; ready?: boolean; terminating?: boolean; node?: string }>, suffix = 'a'): Parameters<KubeApiDouble['apply']>[1] {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${service}-${suffix}`, namespace: 'prod', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8000, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip], conditions: { ready: e.ready ?? true, serving: true, terminating: e.terminating ?? false },
      targetRef: { kind: 'Pod', name: e.pod, namespace: 'prod' }, ...(e.node === undefined ? {} : { nodeName: e.node }),
    })),
  };
}

function podObject(name: string, serviceAccount: string, labels: Record<string, string> = {}): Parameters<KubeApiDouble['apply']>[1] {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'prod', labels },
    spec: { serviceAccountName: serviceAccount, containers: [{ name: 'app', image: 'app:1' }] },
  };
}

interface World {
  api: KubeApiDouble;
  catalog: Catalog;
  sources: SourceSet;
  source: KubernetesSource;
  endpoints(service: string): Endpoint[];
  close(): Promise<void>;
}

async function world(api: KubeApiDouble): Promise<World> {
  const catalog = new Catalog({ localCluster: 'east' });
  const registry = new LocalRegistry({ catalog, version: { epoch: 1, seq: 0 } });
  const source = await createKubernetesSource({
    name: 'kubernetes', kubeConfig: api.kubeConfig(), trustDomain: TD, locality: LOCALITY, minBackoffMs: 100, maxBackoffMs: 500,
  });
  const sources = new SourceSet({ registry });
  sources.add(source);
  sources.start();
  return {
    api, catalog, sources, source,
    endpoints: (service) => [...(catalog.get('east', `${service}.prod`)?.endpoints ?? [])].sort((a, b) => a.address.localeCompare(b.address)),
    close: async () => {
      await sources.close();
    },
  };
}

const statusOf = (w: World): { synced: boolean; lastError?: string | undefined } => {
  const entry = w.sources.status().find((s) => s.name === 'kubernetes');
  assert.ok(entry !== undefined);
  return entry;
};

describe('Kubernetes source (client-node informers against the API double)', () => {
  let api: KubeApiDouble;
  let w: World;

  before(async () => {
    api = new KubeApiDouble(TOKEN);
    await api.start();
    api.apply('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', labels: { 'topology.kubernetes.io/region': 'us-east-1', 'topology.kubernetes.io/zone': 'us-east-1b' } } });
    api.apply('pods', podObject('pay-1', 'payments', { version: 'v1' }));
    api.apply('pods', podObject('pay-2', 'payments', { version: 'v2' }));
    api.apply('services', serviceObject('payments', { 'causeway.dev/export': 'true' }));
    api.apply('services', serviceObject('internal'));
    api.apply('endpointslices', sliceObject('payments', [{ ip: '10.1.0.1', pod: 'pay-1', node: 'node-1' }, { ip: '10.1.0.2', pod: 'pay-2' }]));
    w = await world(api);
    await w.sources.allSynced();
  });

  after(async () => {
    await w?.close();
    await api?.close();
  });

  it('imports Services with their endpoints, identities from service accounts and zones from nodes; export only where asked', () => {
    const payments = w.catalog.get('east', 'payments.prod');
    assert.ok(payments !== undefined);
    assert.equal(payments.exported, true);
    assert.deepEqual(payments.ports, [{ name: 'http', port: 8080, protocol: 'http' }]);
    assert.deepEqual(w.endpoints('payments').map((e) => [e.address, e.ports.http, e.health, e.identity, e.locality.zone, e.labels.version]), [
      ['10.1.0.1', 8000, 'healthy', `spiffe://${TD}/ns/prod/sa/payments`, 'us-east-1b', 'v1'],
      ['10.1.0.2', 8000, 'healthy', `spiffe://${TD}/ns/prod/sa/payments`, 'us-east-1a', 'v2'],
    ]);
    assert.equal(w.catalog.get('east', 'internal.prod')?.exported, false, 'not exported without the annotation or a ServiceExport');
    assert.equal(statusOf(w).synced, true);
    // Informers: one list each, then watches — never polling.
    const services = api.requestLog({ resource: 'services' });
    assert.equal(services.filter((r) => !r.watch && r.method === 'GET').length, 1);
    assert.ok(services.some((r) => r.watch));
  });

  it('follows a scale-up, a pod turning not-ready, and a scale-down', async () => {
    api.apply('pods', podObject('pay-3', 'payments'));
    api.apply('endpointslices', sliceObject('payments', [
      { ip: '10.1.0.1', pod: 'pay-1', node: 'node-1' }, { ip: '10.1.0.2', pod: 'pay-2' }, { ip: '10.1.0.3', pod: 'pay-3' },
    ]));
    await waitFor('three endpoints', () => (w.endpoints('payments').length === 3 ? true : undefined));
    api.apply('endpointslices', sliceObject('payments', [
      { ip: '10.1.0.1', pod: 'pay-1', node: 'node-1' }, { ip: '10.1.0.2', pod: 'pay-2', ready: false, terminating: true }, { ip: '10.1.0.3', pod: 'pay-3' },
    ]));
    await waitFor('10.1.0.2 unhealthy', () => (w.endpoints('payments').find((e) => e.address === '10.1.0.2')?.health === 'unhealthy' ? true : undefined));
    api.apply('endpointslices', sliceObject('payments', [{ ip: '10.1.0.1', pod: 'pay-1', node: 'node-1' }]));
    await waitFor('one endpoint', () => (w.endpoints('payments').length === 1 ? true : undefined));
  });

  it('an endpoint whose pod arrives later gets it identity then; a pod that changes account changes it', async () => {
    api.apply('endpointslices', sliceObject('payments', [{ ip: '10.1.0.1', pod: 'pay-1', node: 'node-1' }, { ip: '10.1.0.9', pod: 'late' }]));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(w.endpoints('payments').some((e) => e.address === '10.1.0.9'), false, 'no endpoint without its pod (its identity is unknown)');
    api.apply('pods', podObject('late', 'batch'));
    await waitFor('the late endpoint', () => (w.endpoints('payments').find((e) => e.address === '10.1.0.9')?.identity === `spiffe://${TD}/ns/prod/sa/batch` ? true : undefined));
  });

  it('exports by ServiceExport, and to the peers an annotation names', async () => {
    api.apply('serviceexports', { apiVersion: 'multicluster.x-k8s.io/v1alpha1', kind: 'ServiceExport', metadata: { name: 'internal', namespace: 'prod' } });
    await waitFor('internal exported', () => (w.catalog.get('east', 'internal.prod')?.exported === true ? true : undefined));
    api.delete('serviceexports', 'prod', 'internal');
    await waitFor('internal not exported', () => (w.catalog.get('east', 'internal.prod')?.exported === false ? true : undefined));
    api.modify('services', 'prod', 'payments', (s) => {
      s.metadata.annotations = { 'causeway.dev/export': 'west, region=eu-west-1' };
    });
    await waitFor('payments exported to west only', () => (JSON.stringify(w.catalog.get('east', 'payments.prod')?.exportTo) === '["region=eu-west-1","west"]' ? true : undefined));
  });

  it('tells owners what became of their export: ServiceExport conditions, a Warning Event for a refused annotation', async () => {
    api.apply('serviceexports', { apiVersion: 'multicluster.x-k8s.io/v1alpha1', kind: 'ServiceExport', metadata: { name: 'internal', namespace: 'prod' } });
    api.apply('serviceexports', { apiVersion: 'multicluster.x-k8s.io/v1alpha1', kind: 'ServiceExport', metadata: { name: 'ghost', namespace: 'prod' } });
    const conditionsOf = (name: string): Record<string, { status: string; reason: string; message: string }> => Object.fromEntries(
      ((api.object('serviceexports', 'prod', name) as { status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } } | undefined)
        ?.status?.conditions ?? []).map((c) => [c.type, c]));
    await waitFor('internal Valid and Exported', () => (conditionsOf('internal')['causeway.dev/Exported']?.status === 'True' ? true : undefined));
    assert.deepEqual([conditionsOf('internal').Valid?.status, conditionsOf('internal')['causeway.dev/Exported']?.message], ['True', 'exported to every peer']);
    await waitFor('ghost not valid', () => (conditionsOf('ghost').Valid?.reason === 'NoService' ? true : undefined));
    assert.equal(conditionsOf('ghost').Valid?.status, 'False');
    api.delete('serviceexports', 'prod', 'internal');
    api.delete('serviceexports', 'prod', 'ghost');
    api.apply('services', serviceObject('badexport', { 'causeway.dev/export': 'west, Not_A_Peer' }));
    const warning = await waitFor('the Warning Event', () => (api.list('events', 'prod') as Array<{ reason?: string; message?: string; type?: string; involvedObject?: { name?: string } }>)
      .find((e) => e.reason === 'ExportRefused' && e.involvedObject?.name === 'badexport'));
    assert.equal(warning.type, 'Warning');
    assert.match(warning.message ?? '', /Not_A_Peer/);
    assert.equal(w.catalog.get('east', 'badexport.prod')?.exported, false);
    assert.match(w.source.lastError() ?? '', /service badexport\.prod: not exported/);
    api.delete('services', 'prod', 'badexport');
  });

  it('a 410 in the middle of a watch re-lists: nothing duplicated, nothing lost', async () => {
    const relistsBefore = api.requestLog({ resource: 'endpointslices' }).filter((r) => !r.watch).length;
    api.compact();
    api.apply('pods', podObject('pay-4', 'payments'));
    api.apply('endpointslices', sliceObject('payments', [{ ip: '10.1.0.1', pod: 'pay-1', node: 'node-1' }, { ip: '10.1.0.4', pod: 'pay-4' }]));
    await waitFor('the change after the 410', () => (w.endpoints('payments').map((e) => e.address).join() === '10.1.0.1,10.1.0.4' ? true : undefined));
    assert.ok(api.requestLog({ resource: 'endpointslices' }).filter((r) => !r.watch).length > relistsBefore, 'the informer listed again');
    assert.deepEqual(w.endpoints('payments').map((e) => e.address), ['10.1.0.1', '10.1.0.4']);
  });

  it('a deleted Service leaves the catalog (a tombstone for its peers)', async () => {
    api.delete('services', 'prod', 'internal');
    await waitFor('internal gone', () => (w.catalog.get('east', 'internal.prod')?.deleted === true || w.catalog.get('east', 'internal.prod') === undefined ? true : undefined));
  });

  it('the watch dropped (API server restart): it reconnects and catches up', async () => {
    api.dropWatches({ abrupt: true });
    api.apply('services', serviceObject('newcomer', { 'causeway.dev/export': 'true' }));
    await waitFor('newcomer after the reconnect', () => (w.catalog.get('east', 'newcomer.prod') !== undefined ? true : undefined));
  });
});

describe('Kubernetes source with the API server down at start', () => {
  it('stays unsynced with the reason, serves nothing stale as synced, and syncs once the API is up', async () => {
    const api = new KubeApiDouble(TOKEN);
    await api.start();
    api.apply('services', serviceObject('payments', { 'causeway.dev/export': 'true' }));
    await api.down('unavailable');
    const w = await world(api);
    try {
      await waitFor('the reason in the status', () => (statusOf(w).lastError !== undefined ? true : undefined));
      assert.equal(statusOf(w).synced, false);
      assert.match(statusOf(w).lastError ?? '', /services: HTTP 503/);
      await api.up();
      await w.sources.allSynced();
      assert.equal(w.catalog.get('east', 'payments.prod')?.exported, true);
      await waitFor('the error cleared', () => (w.source.lastError() === undefined ? true : undefined));
    } finally {
      await w.close();
      await api.close();
    }
  });

  it('a token the API server refuses is named in the status', async () => {
    const api = new KubeApiDouble(TOKEN);
    await api.start();
    const catalog = new Catalog({ localCluster: 'east' });
    const sources = new SourceSet({ registry: new LocalRegistry({ catalog, version: { epoch: 1, seq: 0 } }) });
    sources.add(await createKubernetesSource({ name: 'kubernetes', kubeConfig: api.kubeConfig('wrong-token'), trustDomain: TD, locality: LOCALITY, minBackoffMs: 100, maxBackoffMs: 500 }));
    sources.start();
    try {
      await waitFor('401 in the status', () => (/401/.test(sources.status().find((s) => s.name === 'kubernetes')?.lastError ?? '') ? true : undefined));
      assert.equal(sources.status().find((s) => s.name === 'kubernetes')?.synced, false);
    } finally {
      await sources.close();
      await api.close();
    }
  });
});
