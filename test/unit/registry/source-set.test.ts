import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Catalog, CausewayError, LocalRegistry, SourceKinds, SourceSet, StaticSource,
  type ServiceDeclaration, type Source, type SourceSink,
} from '../../../registry/index.js';

const LOCALITY = { cloud: 'c', region: 'r', zone: 'z', cluster: 'home' };

function declaration(name: string): ServiceDeclaration {
  return {
    name, namespace: 'prod', exported: true, ports: [{ name: 'http', port: 80, protocol: 'http' }],
    endpoints: [{ address: '10.0.0.1', ports: { http: 8080 }, locality: LOCALITY, kind: 'vm', identity: 'spiffe://home.test/ns/prod/sa/x', health: 'healthy', weight: 1, labels: {} }],
  };
}

/**
 * A source whose API answers when the test says so: `sync()` pushes its declarations and
 * resolves start(), as a Consul or Kubernetes source does after its first list.
 */
class LateSource implements Source {
  readonly kind = 'late';
  private sink: SourceSink | undefined;
  private resolveStart: (() => void) | undefined;
  private failure: string | undefined;
  closed = false;

  constructor(readonly name: string, private readonly declarations: ServiceDeclaration[]) {}

  start(sink: SourceSink): Promise<void> {
    this.sink = sink;
    return new Promise((resolve) => (this.resolveStart = resolve));
  }

  fail(reason: string): void {
    this.failure = reason;
  }

  lastError(): string | undefined {
    return this.failure;
  }

  sync(): void {
    this.failure = undefined;
    this.sink?.replaceSource(this.name, this.declarations);
    this.resolveStart?.();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A local registry; `restored` are records as a restarted gateway restores them from its data dir (declared by no source yet). */
function world(restored: string[] = []): { catalog: Catalog; registry: LocalRegistry } {
  const catalog = new Catalog({ localCluster: 'home' });
  restored.forEach((name, i) => {
    const d = declaration(name);
    catalog.applyLocal({ origin: 'home', version: { origin: 'home', epoch: 1, seq: i + 1 }, deleted: false, ...d });
  });
  const registry = new LocalRegistry({ catalog, version: { epoch: 1, seq: restored.length } });
  return { catalog, registry };
}

const live = (catalog: Catalog): string[] => catalog.recordsOf('home').filter((r) => !r.deleted).map((r) => r.name).sort();
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SourceSet', () => {
  it('starts every source at once and never waits for one whose API is down', async () => {
    const { catalog, registry } = world();
    const sources = new SourceSet({ registry, now: () => 1000 });
    const late = new LateSource('consul-dc1', [declaration('ledger')]);
    sources.add(new StaticSource('config', [declaration('payments')]));
    sources.add(late);
    sources.start();
    await tick();
    assert.deepEqual(live(catalog), ['payments'], 'the static source is in at once');
    late.fail('connect ECONNREFUSED 127.0.0.1:8500');
    assert.deepEqual(sources.status().map((s) => [s.name, s.kind, s.synced, s.services, s.lastError]), [
      ['config', 'static', true, 1, undefined],
      ['consul-dc1', 'late', false, 0, 'connect ECONNREFUSED 127.0.0.1:8500'],
    ]);
    late.sync();
    await sources.allSynced();
    assert.deepEqual(live(catalog), ['ledger', 'payments']);
    assert.deepEqual(sources.status().map((s) => [s.synced, s.lastSyncAtMs, s.lastError]), [[true, 1000, undefined], [true, 1000, undefined]]);
  });

  it('tombstones restored services no source declares only once every source has synced', async () => {
    const { catalog: restarted, registry: fresh } = world(['orphan', 'ledger']);
    assert.deepEqual(live(restarted), ['ledger', 'orphan']);
    const sources = new SourceSet({ registry: fresh });
    const late = new LateSource('consul-dc1', [declaration('ledger')]);
    sources.add(new StaticSource('config', []));
    sources.add(late);
    sources.start();
    await tick();
    assert.deepEqual(live(restarted), ['ledger', 'orphan'], 'an unsynced source may still declare them: nothing is swept');
    late.sync();
    await sources.allSynced();
    assert.deepEqual(live(restarted), ['ledger'], 'once all have synced, the one nobody declares is gone');
  });

  it('keeps a source that gave up unsynced, with its error, and never sweeps', async () => {
    const { registry } = world();
    const sources = new SourceSet({ registry });
    const broken: Source = {
      name: 'broken', kind: 'late', start: () => Promise.reject(new CausewayError('CW_CONFIG_INVALID', 'no such datacenter')), close: async () => {},
    };
    sources.add(broken);
    sources.start();
    await tick();
    await tick();
    assert.deepEqual(sources.status().map((s) => [s.synced, s.lastError]), [[false, 'no such datacenter']]);
  });

  it('refuses a second source of the same name, and sources added after start', () => {
    const { registry } = world();
    const sources = new SourceSet({ registry });
    sources.add(new StaticSource('config', []));
    assert.throws(() => sources.add(new StaticSource('config', [])), /already registered/);
    sources.start();
    assert.throws(() => sources.add(new StaticSource('other', [])), /before the set starts/);
  });

  it('closes every source, keeping what they declared', async () => {
    const { catalog, registry } = world();
    const sources = new SourceSet({ registry });
    const late = new LateSource('late', [declaration('ledger')]);
    sources.add(late);
    sources.start();
    late.sync();
    await sources.allSynced();
    await sources.close();
    assert.equal(late.closed, true);
    assert.deepEqual(live(catalog), ['ledger']);
  });
});

describe('SourceKinds', () => {
  it('builds a source by kind and names the known kinds for an unknown one', () => {
    const kinds = new SourceKinds();
    kinds.register('static', (name) => new StaticSource(name, []));
    assert.equal(kinds.create('static', 'config', {}).kind, 'static');
    assert.throws(() => kinds.create('zookeeper', 'zk', {}), (err: unknown) => err instanceof CausewayError && err.code === 'CW_CONFIG_INVALID' && /known: static/.test(err.message));
    assert.throws(() => kinds.register('static', (name) => new StaticSource(name, [])), /registered twice/);
  });
});
