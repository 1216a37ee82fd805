import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Catalog, LocalRegistry, endpointKey, isCausewayError, type CatalogChange } from '../../../registry/index.js';
import { declaration, endpoint } from './fixtures.js';

function setup(version = { epoch: 5, seq: 0 }): { catalog: Catalog; registry: LocalRegistry; batches: (readonly CatalogChange[])[] } {
  const catalog = new Catalog({ localCluster: 'east' });
  const registry = new LocalRegistry({ catalog, version });
  const batches: (readonly CatalogChange[])[] = [];
  catalog.onChange((changes) => batches.push(changes));
  return { catalog, registry, batches };
}

describe('LocalRegistry', () => {
  it('stamps declared services with the next local version, one batch per call', () => {
    const { catalog, registry, batches } = setup();
    assert.deepEqual(registry.nextVersion(), { origin: 'east', epoch: 5, seq: 1 });
    registry.replaceSource('config', [declaration('pay', 'east', ['10.0.0.1']), declaration('api', 'east', ['10.0.0.2'])]);
    assert.equal(batches.length, 1);
    assert.deepEqual(batches[0]?.map((c) => c.record.version.seq), [1, 2]);
    assert.deepEqual(catalog.get('east', 'pay.prod')?.version, { origin: 'east', epoch: 5, seq: 2 });
    assert.deepEqual(registry.versionState(), { epoch: 5, seq: 2 });
  });

  it('merges one key from several sources: endpoints unioned, ports unioned, exported if any exports', () => {
    const { catalog, registry } = setup();
    registry.upsert('config', declaration('pay', 'east', ['10.0.0.1', '10.0.0.2']));
    const fromAgent = declaration('pay', 'east', ['10.0.0.2', '10.0.0.3'], true);
    registry.upsert('agent', {
      ...fromAgent,
      ports: [...fromAgent.ports, { name: 'grpc', port: 9090, protocol: 'tcp' }],
      endpoints: [...fromAgent.endpoints, { ...endpoint('10.0.0.9', 'east'), ports: { http: 8080, grpc: 9091 } }],
    });
    const merged = catalog.get('east', 'pay.prod');
    assert.equal(merged?.exported, true);
    assert.deepEqual(merged?.ports.map((p) => p.name), ['http', 'grpc']);
    // Sources merge in name order ("agent" before "config"); 10.0.0.2 appears once.
    assert.deepEqual(merged?.endpoints.map((e) => e.address), ['10.0.0.2', '10.0.0.3', '10.0.0.9', '10.0.0.1']);
    registry.remove('agent', 'pay.prod');
    assert.equal(catalog.get('east', 'pay.prod')?.exported, false);
    assert.deepEqual(catalog.get('east', 'pay.prod')?.endpoints.map((e) => e.address), ['10.0.0.1', '10.0.0.2']);
  });

  it('re-declaring the same thing is free: no new version, no change', () => {
    const { registry, batches } = setup();
    registry.replaceSource('config', [declaration('pay', 'east', ['10.0.0.1'])]);
    registry.replaceSource('config', [declaration('pay', 'east', ['10.0.0.1'])]);
    registry.upsert('agent', declaration('pay', 'east', ['10.0.0.1']));
    assert.equal(batches.length, 1);
    assert.deepEqual(registry.versionState(), { epoch: 5, seq: 1 });
  });

  it('a key no source declares any more becomes a tombstone with a new version', () => {
    const { catalog, registry } = setup();
    registry.replaceSource('config', [declaration('pay', 'east', ['10.0.0.1'], true), declaration('api', 'east', ['10.0.0.2'])]);
    registry.replaceSource('config', [declaration('api', 'east', ['10.0.0.2'])]);
    const pay = catalog.get('east', 'pay.prod');
    assert.equal(pay?.deleted, true);
    assert.deepEqual(pay?.endpoints, []);
    assert.equal(pay?.version.seq, 3);
    assert.equal(catalog.get('east', 'api.prod')?.version.seq, 1, 'unchanged services keep their version');
    assert.equal(catalog.resolve('pay.prod'), undefined);
    // Declared again: live again, newer still.
    registry.upsert('config', declaration('pay', 'east', ['10.0.0.1']));
    assert.equal(catalog.get('east', 'pay.prod')?.deleted, false);
    assert.equal(catalog.get('east', 'pay.prod')?.version.seq, 4);
  });

  it('an invalid declaration throws and changes nothing', () => {
    const { catalog, registry, batches } = setup();
    registry.replaceSource('config', [declaration('pay', 'east', ['10.0.0.1'])]);
    assert.throws(() => registry.replaceSource('config', [declaration('pay', 'east', ['not-an-ip'])]), (e) => isCausewayError(e, 'CW_CATALOG_INVALID'));
    assert.throws(() => registry.replaceSource('config', [declaration('a', 'east', []), declaration('a', 'east', [])]), (e) => isCausewayError(e, 'CW_CATALOG_INVALID'));
    assert.equal(batches.length, 1);
    assert.deepEqual(registry.versionState(), { epoch: 5, seq: 1 });
    assert.equal(catalog.get('east', 'pay.prod')?.endpoints[0]?.address, '10.0.0.1');
    // The source still holds its previous declarations: re-declaring them changes nothing.
    registry.replaceSource('config', [declaration('pay', 'east', ['10.0.0.1'])]);
    assert.equal(batches.length, 1);
  });

  it('after a restore, seq continues and unchanged services are not re-versioned', () => {
    const first = setup({ epoch: 5, seq: 0 });
    first.registry.replaceSource('config', [declaration('pay', 'east', ['10.0.0.1']), declaration('gone', 'east', ['10.0.0.3'])]);
    const state = JSON.parse(JSON.stringify({ version: first.registry.versionState(), catalog: first.catalog.exportState() }));

    const catalog = new Catalog({ localCluster: 'east' });
    catalog.importState(state.catalog);
    const batches: (readonly CatalogChange[])[] = [];
    catalog.onChange((changes) => batches.push(changes));
    const registry = new LocalRegistry({ catalog, version: state.version });
    registry.replaceSource('config', [declaration('pay', 'east', ['10.0.0.1'])]);
    assert.equal(batches.length, 0, 'the static source re-declaring restored services bumps nothing');
    // "gone" was removed from the config while the gateway was down: the sweep finds it.
    const swept = registry.sweepUndeclared();
    assert.deepEqual(swept.map((r) => [r.name, r.deleted, r.version]), [['gone', true, { origin: 'east', epoch: 5, seq: 3 }]]);
    assert.deepEqual(registry.sweepUndeclared(), []);
  });

  it('never issues a version at or below one the catalog already holds', () => {
    const first = setup({ epoch: 5, seq: 0 });
    first.registry.replaceSource('config', [declaration('pay', 'east', ['10.0.0.1']), declaration('api', 'east', ['10.0.0.2'])]);
    // A counter saved behind the records (or a clock that went backwards) must not reuse versions.
    const registry = new LocalRegistry({ catalog: first.catalog, version: { epoch: 4, seq: 9 } });
    assert.deepEqual(registry.nextVersion(), { origin: 'east', epoch: 5, seq: 3 });
  });

  it('without a persisted version the epoch is the current time in ms', () => {
    const catalog = new Catalog({ localCluster: 'east' });
    assert.deepEqual(new LocalRegistry({ catalog, now: () => 1_700_000_000_123 }).versionState(), { epoch: 1_700_000_000_123, seq: 0 });
    assert.throws(() => new LocalRegistry({ catalog, version: { epoch: -1, seq: 0 } }), (e) => isCausewayError(e, 'CW_CATALOG_INVALID'));
  });

  describe('observed health (active health checks)', () => {
    const id = (address: string): string => endpointKey(endpoint(address, 'east'));
    const healthOf = (catalog: Catalog): string[] => catalog.get('east', 'pay.prod')?.endpoints.map((e) => `${e.address}=${e.health}`) ?? [];

    it('overrides the declared health; each change of effective health is one new version, a repeat is none', () => {
      const { catalog, registry, batches } = setup();
      registry.replaceSource('config', [declaration('pay', 'east', ['10.0.0.1', '10.0.0.2'], true)]);
      assert.equal(registry.setObservedHealth('pay.prod', id('10.0.0.1'), 'unhealthy'), true);
      assert.deepEqual(healthOf(catalog), ['10.0.0.1=unhealthy', '10.0.0.2=healthy']);
      assert.equal(catalog.get('east', 'pay.prod')?.version.seq, 2);
      assert.equal(registry.setObservedHealth('pay.prod', id('10.0.0.1'), 'unhealthy'), false, 'the same verdict again');
      // Observed healthy on a declared-healthy endpoint: the effective health does not change.
      assert.equal(registry.setObservedHealth('pay.prod', id('10.0.0.2'), 'healthy'), false);
      assert.equal(batches.length, 2);
      assert.equal(registry.setObservedHealth('pay.prod', id('10.0.0.1'), 'healthy'), true);
      assert.deepEqual(healthOf(catalog), ['10.0.0.1=healthy', '10.0.0.2=healthy']);
      assert.deepEqual(registry.versionState(), { epoch: 5, seq: 3 });
      // The source re-declaring the same services does not undo the verdicts or bump anything.
      registry.setObservedHealth('pay.prod', id('10.0.0.2'), 'unhealthy');
      registry.replaceSource('config', [declaration('pay', 'east', ['10.0.0.1', '10.0.0.2'], true)]);
      assert.deepEqual(healthOf(catalog), ['10.0.0.1=healthy', '10.0.0.2=unhealthy']);
      assert.deepEqual(registry.versionState(), { epoch: 5, seq: 4 });
    });

    it('a declared unhealthy (drain) always wins; declared unknown takes the verdict', () => {
      const { catalog, registry } = setup();
      const base = declaration('pay', 'east', []);
      registry.upsert('config', {
        ...base, endpoints: [endpoint('10.0.0.1', 'east', 8080, { health: 'unhealthy' }), endpoint('10.0.0.2', 'east', 8080, { health: 'unknown' })],
      });
      assert.equal(registry.setObservedHealth('pay.prod', id('10.0.0.1'), 'healthy'), false);
      assert.equal(registry.setObservedHealth('pay.prod', id('10.0.0.2'), 'healthy'), true);
      assert.deepEqual(healthOf(catalog), ['10.0.0.1=unhealthy', '10.0.0.2=healthy']);
      // The drain lifted: the verdict kept meanwhile applies at once.
      registry.upsert('config', declaration('pay', 'east', ['10.0.0.1', '10.0.0.2']));
      assert.deepEqual(healthOf(catalog), ['10.0.0.1=healthy', '10.0.0.2=healthy']);
      registry.setObservedHealth('pay.prod', id('10.0.0.1'), 'unhealthy');
      registry.upsert('config', { ...base, endpoints: [endpoint('10.0.0.1', 'east', 8080, { health: 'unhealthy' }), endpoint('10.0.0.2', 'east')] });
      assert.deepEqual(healthOf(catalog), ['10.0.0.1=unhealthy', '10.0.0.2=healthy']);
    });

    it('clearing restores the declared health; verdicts of endpoints that disappear are forgotten', () => {
      const { catalog, registry } = setup();
      registry.replaceSource('config', [declaration('pay', 'east', ['10.0.0.1', '10.0.0.2'])]);
      registry.setObservedHealth('pay.prod', id('10.0.0.1'), 'unhealthy');
      registry.setObservedHealth('pay.prod', id('10.0.0.2'), 'unhealthy');
      assert.equal(registry.setObservedHealth('pay.prod', id('10.0.0.2'), undefined), true);
      assert.deepEqual(healthOf(catalog), ['10.0.0.1=unhealthy', '10.0.0.2=healthy']);
      assert.equal(registry.clearObservedHealth('pay.prod'), true);
      assert.deepEqual(healthOf(catalog), ['10.0.0.1=healthy', '10.0.0.2=healthy']);
      assert.equal(registry.clearObservedHealth('pay.prod'), false, 'nothing left to clear');

      registry.setObservedHealth('pay.prod', id('10.0.0.1'), 'unhealthy');
      registry.replaceSource('config', [declaration('pay', 'east', ['10.0.0.2'])]);
      // 10.0.0.1 comes back (same address and ports): it starts from its declared health.
      registry.replaceSource('config', [declaration('pay', 'east', ['10.0.0.1', '10.0.0.2'])]);
      assert.deepEqual(healthOf(catalog), ['10.0.0.1=healthy', '10.0.0.2=healthy']);
      // So does a service removed and declared again.
      registry.setObservedHealth('pay.prod', id('10.0.0.1'), 'unhealthy');
      registry.replaceSource('config', []);
      registry.replaceSource('config', [declaration('pay', 'east', ['10.0.0.1'])]);
      assert.deepEqual(healthOf(catalog), ['10.0.0.1=healthy']);
    });

    it('ignores verdicts on unknown services and endpoints, and refuses a bad health value', () => {
      const { registry, batches } = setup();
      registry.replaceSource('config', [declaration('pay', 'east', ['10.0.0.1'])]);
      assert.equal(registry.setObservedHealth('nope.prod', id('10.0.0.1'), 'unhealthy'), false);
      assert.equal(registry.setObservedHealth('pay.prod', id('10.9.9.9'), 'unhealthy'), false);
      assert.equal(registry.setObservedHealth('pay.prod', id('10.9.9.9'), undefined), false);
      assert.throws(() => registry.setObservedHealth('pay.prod', id('10.0.0.1'), 'unknown' as never), (e) => isCausewayError(e, 'CW_CATALOG_INVALID'));
      assert.equal(batches.length, 1);
      // Nothing was kept for the unknown endpoint: when it appears, its declared health stands.
      registry.replaceSource('config', [declaration('pay', 'east', ['10.0.0.1', '10.9.9.9'])]);
      assert.equal(batches.length, 2);
      assert.deepEqual(registry.versionState(), { epoch: 5, seq: 2 });
    });
  });
});
