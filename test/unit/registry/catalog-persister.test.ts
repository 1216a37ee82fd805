import assert from 'node:assert/strict';
import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  Catalog, CatalogPersister, FileStore, LocalRegistry, StaticSource, isCausewayError, type Store,
} from '../../../registry/index.js';
import { makeTempDir } from '../../helpers/paths.js';
import { declaration, record } from './fixtures.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => { for (const c of cleanups) await c(); });

async function tempDir(): Promise<string> {
  const { dir, remove } = await makeTempDir('persist');
  cleanups.push(remove);
  return dir;
}

/** The gateway's start-up order: store → catalog → restore → LocalRegistry → start → sources. */
async function boot(dir: string, services: ReturnType<typeof declaration>[]) {
  const store = new FileStore(dir);
  const catalog = new Catalog({ localCluster: 'east' });
  const persister = new CatalogPersister({ store, catalog, debounceMs: 5 });
  const restored = await persister.restore();
  const registry = new LocalRegistry({ catalog, version: restored });
  persister.start(registry);
  const source = new StaticSource('config', services);
  await source.start(registry);
  registry.sweepUndeclared();
  return {
    store, catalog, registry, persister, source, restored,
    async shutdown(): Promise<void> {
      await source.close();
      await persister.close();
      await store.close();
    },
  };
}

describe('CatalogPersister', () => {
  it('round-trips local records, learned records, gateways and the version counter through a restart', async () => {
    const dir = await tempDir();
    const first = await boot(dir, [declaration('pay', 'east', ['10.0.0.1'], true)]);
    assert.equal(first.restored, undefined);
    first.catalog.applyRemote([record('west', 'db', 1, 4), record('west', 'old', 1, 2, { deleted: true })]);
    first.catalog.setGateway({
      cluster: 'west', trustDomain: 'west.test', identity: 'spiffe://west.test/gateway/gw', eastWestAddress: '10.9.0.1:15443',
      locality: { cloud: 'aws', region: 'r', zone: 'z', cluster: 'west' },
    });
    first.source.update([declaration('pay', 'east', ['10.0.0.1', '10.0.0.2'], true)]);
    const before = first.catalog.exportState();
    const version = first.registry.versionState();
    await first.shutdown();
    assert.equal((await stat(path.join(dir, 'catalog.json'))).mode & 0o777, 0o600);

    const second = await boot(dir, [declaration('pay', 'east', ['10.0.0.1', '10.0.0.2'], true)]);
    assert.deepEqual(second.restored, version);
    assert.deepEqual(second.catalog.exportState(), before, 'unchanged config: nothing re-versioned');
    assert.equal(second.catalog.resolve('db.prod')?.clusters.get('west')?.length, 1, 'serves learned state before any peer answers');
    assert.equal(second.catalog.gatewaysOf('west').length, 1);
    second.source.update([]);
    assert.deepEqual(second.catalog.get('east', 'pay.prod')?.version, { origin: 'east', epoch: version.epoch, seq: version.seq + 1 });
    await second.shutdown();
  });

  it('saves a burst of changes in few writes and flush() writes what is pending', async () => {
    const dir = await tempDir();
    let saves = 0;
    const inner = new FileStore(dir);
    const counting: Store = {
      load: (name) => inner.load(name), remove: (name) => inner.remove(name), close: () => inner.close(),
      save: (name, value) => { saves += 1; return inner.save(name, value); },
    };
    const catalog = new Catalog({ localCluster: 'east' });
    const persister = new CatalogPersister({ store: counting, catalog, debounceMs: 10_000 });
    const registry = new LocalRegistry({ catalog, version: { epoch: 3, seq: 0 } });
    persister.start(registry);
    for (let seq = 1; seq <= 20; seq++) catalog.applyRemote([record('west', 'pay', 1, seq)]);
    assert.equal(saves, 0, 'debounced');
    await persister.flush();
    assert.equal(saves, 1);
    await persister.flush();
    assert.equal(saves, 1, 'nothing pending, nothing written');
    await persister.close();
    await persister.close();
    const saved = await inner.load<{ catalog: { records: { version: { seq: number } }[] } }>('catalog');
    assert.equal(saved?.catalog.records[0]?.version.seq, 20);
    await inner.close();
  });

  it('a malformed state file is CW_STORE_CORRUPT naming the problem, and imports nothing', async () => {
    const dir = await tempDir();
    const good = JSON.stringify({ version: { epoch: 1, seq: 1 }, catalog: { records: [record('west', 'db', 1, 1)], gateways: [] } });
    const bad = JSON.stringify({ version: { epoch: 1, seq: -1 }, catalog: { records: [record('west', 'db', 1, 1), { origin: 'west' }], gateways: [] } });
    for (const [text, expected] of [
      [bad, 'version.seq: -1 is not a non-negative integer'],
      [good.replace('"10.0.0.1"', '"db.internal"'), 'catalog.records[0].endpoints[0].address: "db.internal" is not an IP address'],
      ['[1, 2]', 'expected {"version": {...}, "catalog": {...}}'],
    ] as const) {
      await writeFile(path.join(dir, 'catalog.json'), text);
      const store = new FileStore(dir);
      const catalog = new Catalog({ localCluster: 'east' });
      await assert.rejects(new CatalogPersister({ store, catalog }).restore(), (e) =>
        isCausewayError(e, 'CW_STORE_CORRUPT') && e.message === `catalog: ${expected}`);
      assert.deepEqual([...catalog.records()], []);
      await store.close();
    }
    assert.deepEqual((await readdir(dir)).sort(), ['catalog.json']);
  });
});

describe('StaticSource', () => {
  it('pushes its declarations on start and on update, keeps its own copy, and ignores updates after close', async () => {
    const catalog = new Catalog({ localCluster: 'east' });
    const registry = new LocalRegistry({ catalog, version: { epoch: 1, seq: 0 } });
    const services = [declaration('pay', 'east', ['10.0.0.1'])];
    const source = new StaticSource('config', services);
    (services as unknown[]).push(declaration('api', 'east', ['10.0.0.2']));
    await source.start(registry);
    assert.deepEqual(catalog.serviceKeys(), ['pay.prod']);
    assert.throws(() => source.update([declaration('pay', 'east', ['nope'])]), (e) => isCausewayError(e, 'CW_CATALOG_INVALID'));
    source.update([declaration('api', 'east', ['10.0.0.2'])]);
    assert.deepEqual(catalog.serviceKeys(), ['api.prod']);
    await source.close();
    await source.close();
    source.update([]);
    assert.deepEqual(catalog.serviceKeys(), ['api.prod'], 'closing does not withdraw the services');
  });
});
