// The API server down when a gateway restarts: the gateway starts at once, serves the catalog it
// persisted (its peer keeps seeing the cluster's services), and says the Kubernetes source is
// not synced, with the reason; once the API server is back, the source syncs.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../registry/index.js';
import { Gateway, parseConfigText } from '../../gateway/index.js';
import { KubeApiDouble } from '../doubles/kube-api-server.js';
import { inProcessConfig } from '../helpers/in-process-config.js';
import { makeTempDir } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait-for.js';

describe('Kubernetes source: the API server down at a gateway restart', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let api: KubeApiDouble;
  let east: Gateway | undefined;
  let west: Gateway | undefined;
  let eastConfig = '';

  before(async () => {
    tmp = await makeTempDir('kube-down');
    api = new KubeApiDouble('east-token');
    await api.start();
    api.apply('services', {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'storefront', namespace: 'shop', annotations: { 'causeway.dev/export': 'true' } },
      spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    });
    api.apply('endpointslices', {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'storefront-x', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'storefront' } },
      addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], endpoints: [{ addresses: ['10.3.0.1'], conditions: { ready: true } }],
    });
    const kubeconfig = api.writeKubeconfig(path.join(tmp.dir, 'kubeconfig'));
    const configOf = (cluster: string, extra = ''): string => inProcessConfig(tmp.dir, cluster, extra);
    eastConfig = configOf('east', `sources: { kubernetes: { kubeconfig: ${kubeconfig} } }`);
    east = await Gateway.start(parseConfigText(eastConfig), { logger: silentLogger() });
    west = await Gateway.start(parseConfigText(configOf('west', '')), { logger: silentLogger() });
    await west.peers.addPeer(await east.peers.createToken({ ttlSeconds: 600 }));
    await waitFor('storefront at west', () => (west?.catalog.get('east', 'storefront.shop')?.endpoints.length === 1 ? true : undefined));
  });

  after(async () => {
    await Promise.all([east?.close(), west?.close()]);
    await api?.close();
    await tmp?.remove();
  });

  it('starts, serves its persisted catalog, and reports the source unsynced until the API is back', async () => {
    await east?.close();
    await api.down();
    const started = Date.now();
    east = await Gateway.start(parseConfigText(eastConfig), { logger: silentLogger() });
    assert.ok(Date.now() - started < 15_000, 'the start did not wait for the API server');
    assert.equal(east.catalog.get('east', 'storefront.shop')?.endpoints.length, 1, 'the persisted catalog is served');
    const source = (): { synced: boolean; lastError?: string | undefined } | undefined => east?.sources.status().find((s) => s.name === 'kubernetes');
    await waitFor('the source unsynced with a reason', () => (source()?.lastError !== undefined ? true : undefined));
    assert.equal(source()?.synced, false);
    // Nothing restored is swept while the source has not synced; the peer keeps the service.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(east.catalog.get('east', 'storefront.shop')?.deleted, false);
    await waitFor('west linked again and still holding storefront', () => (west?.catalog.get('east', 'storefront.shop')?.deleted === false ? true : undefined));
    await api.up();
    await waitFor('the source synced', () => (source()?.synced === true ? true : undefined), 30_000);
    assert.equal(east.catalog.get('east', 'storefront.shop')?.endpoints.length, 1);
  });
});
