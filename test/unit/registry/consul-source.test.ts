import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Catalog, ConsulSource, LocalRegistry, SourceSet, type Endpoint } from '../../../registry/index.js';
import { ConsulApiDouble } from '../../doubles/consul-api.js';
import { waitFor } from '../../helpers/wait-for.js';

const LOCALITY = { cloud: 'onprem', region: 'dc1', zone: 'z', cluster: 'legacy' };

/**
 * The Consul bridge's import side against the Consul HTTP API double (test/doubles), driven by
 * the real `consul` client: what Consul's catalog holds, and how its checks stand, is what the
 * local registry declares — followed with blocking queries.
 */
describe('ConsulSource', () => {
  let consul: ConsulApiDouble;
  let address: { host: string; port: number };

  before(async () => {
    consul = new ConsulApiDouble({ jitter: false, token: 'secret-token' });
    address = await consul.start();
    consul.registerService({ node: 'vm-1', address: '10.1.0.1', service: 'payments', id: 'payments-1', port: 8080, meta: { version: 'v1' } });
    consul.registerService({
      node: 'vm-2', address: '10.1.0.2', service: 'payments', id: 'payments-2', port: 8080,
      nodeMeta: { 'causeway-region': 'dc1-east' }, checks: [{ checkId: 'http', status: 'critical' }],
    });
    consul.registerService({ node: 'vm-3', address: '10.1.0.3', service: 'Legacy_App', port: 9000 });
  });

  after(async () => {
    await consul?.close();
  });

  function world(token: string | undefined): { catalog: Catalog; sources: SourceSet; source: ConsulSource } {
    const catalog = new Catalog({ localCluster: 'legacy' });
    const registry = new LocalRegistry({ catalog, version: { epoch: 1, seq: 0 } });
    const source = new ConsulSource({
      name: 'consul-dc1', host: address.host, port: address.port, ...(token === undefined ? {} : { token }),
      namespace: 'prod', meshPort: 80, exported: true, locality: LOCALITY,
      identityTemplate: 'spiffe://legacy.example.org/ns/{namespace}/sa/{service}', wait: '1s',
    });
    const sources = new SourceSet({ registry });
    sources.add(source);
    sources.start();
    return { catalog, sources, source };
  }

  const endpointsOf = (catalog: Catalog, key: string): Endpoint[] => [...(catalog.get('legacy', key)?.endpoints ?? [])].sort((a, b) => a.address.localeCompare(b.address));

  it('imports services and instance health, follows changes with blocking queries, and leaves out names a mesh cannot carry', async () => {
    const { catalog, sources, source } = world('secret-token');
    try {
      await sources.allSynced();
      const payments = endpointsOf(catalog, 'payments.prod');
      assert.deepEqual(payments.map((e) => [e.address, e.ports.http, e.health, e.locality.region, e.identity]), [
        ['10.1.0.1', 8080, 'healthy', 'dc1', 'spiffe://legacy.example.org/ns/prod/sa/payments'],
        ['10.1.0.2', 8080, 'unhealthy', 'dc1-east', 'spiffe://legacy.example.org/ns/prod/sa/payments'],
      ]);
      assert.equal(payments[0]?.labels.version, 'v1');
      assert.equal(catalog.get('legacy', 'payments.prod')?.ports[0]?.port, 80);
      assert.match(source.lastError() ?? '', /Legacy_App/);

      consul.setCheckStatus('vm-2', 'http', 'passing');
      await waitFor('vm-2 healthy', () => (endpointsOf(catalog, 'payments.prod')[1]?.health === 'healthy' ? true : undefined));
      consul.registerService({ node: 'vm-4', address: '10.1.0.4', service: 'ledger', port: 7000 });
      await waitFor('ledger imported', () => (endpointsOf(catalog, 'ledger.prod').length === 1 ? true : undefined));
      consul.deregister('vm-4');
      await waitFor('ledger removed', () => (catalog.get('legacy', 'ledger.prod')?.deleted === true ? true : undefined));

      // An index that goes backwards (a restored snapshot): the client starts over and keeps up.
      consul.resetIndex(1);
      consul.setCheckStatus('vm-1', 'service:payments-1', 'critical');
      await waitFor('vm-1 unhealthy after the index reset', () => (endpointsOf(catalog, 'payments.prod')[0]?.health === 'unhealthy' ? true : undefined));

      // Blocking, not polling: with nothing changing, queries wait out their 1 s wait.
      const before = consul.requestLog().length;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const idle = consul.requestLog().slice(before);
      assert.ok(idle.length <= 3 * 2 + 2, `${idle.length} requests in 1.5 s of quiet`);
      assert.ok(consul.requestLog().some((r) => r.blocked && r.index !== undefined), 'queries carried an index and blocked');
    } finally {
      await sources.close();
    }
  });

  it('without the ACL token: nothing imported, the source unsynced with Consul\'s refusal as its error', async () => {
    const { catalog, sources } = world(undefined);
    try {
      await waitFor('the refusal', () => (sources.status()[0]?.lastError !== undefined ? true : undefined));
      const [status] = sources.status();
      assert.equal(status?.synced, false);
      assert.match(status?.lastError ?? '', /Permission denied|403/);
      assert.equal(catalog.recordsOf('legacy').length, 0);
    } finally {
      await sources.close();
    }
  });
});
