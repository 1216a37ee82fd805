import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { Catalog, createLogger, isCausewayError, type CatalogChange, type GatewayRecord } from '../../../registry/index.js';
import { endpoint, locality, record } from './fixtures.js';

function feed(catalog: Catalog): (readonly CatalogChange[])[] {
  const batches: (readonly CatalogChange[])[] = [];
  catalog.onChange((changes) => batches.push(changes));
  return batches;
}

function gateway(cluster: string, name = 'gw'): GatewayRecord {
  return {
    cluster, trustDomain: `${cluster}.test`, identity: `spiffe://${cluster}.test/gateway/${name}`,
    eastWestAddress: '10.9.9.9:15443', locality: locality(cluster),
  };
}

describe('Catalog versions', () => {
  it('keeps the highest version per key: older, duplicate and reordered records are ignored', () => {
    const catalog = new Catalog({ localCluster: 'east' });
    const v3 = record('west', 'pay', 1, 3, { addresses: ['10.0.0.3'] });
    assert.equal(catalog.applyRemote([v3]).length, 1);
    assert.deepEqual(catalog.applyRemote([record('west', 'pay', 1, 2), v3]), []);
    assert.equal(catalog.get('west', 'pay.prod')?.endpoints[0]?.address, '10.0.0.3');
    // A higher epoch wins over any seq of an older epoch (a wiped data dir starts over).
    assert.equal(catalog.applyRemote([record('west', 'pay', 2, 1, { addresses: ['10.0.0.9'] })]).length, 1);
    assert.deepEqual(catalog.applyRemote([record('west', 'pay', 1, 99)]), []);
    assert.equal(catalog.get('west', 'pay.prod')?.version.epoch, 2);
  });

  it('applies the newest of several versions of one key in one batch, whatever their order', () => {
    const catalog = new Catalog({ localCluster: 'east' });
    catalog.applyRemote([record('west', 'pay', 1, 5, { addresses: ['10.0.0.5'] }), record('west', 'pay', 1, 4)]);
    assert.equal(catalog.get('west', 'pay.prod')?.version.seq, 5);
  });

  it('refuses records of the local cluster through applyRemote and applySnapshot (single writer)', () => {
    const catalog = new Catalog({ localCluster: 'east' });
    assert.deepEqual(catalog.applyRemote([record('east', 'pay', 9, 9)]), []);
    assert.deepEqual(catalog.applySnapshot('east', []), []);
    assert.equal(catalog.get('east', 'pay.prod'), undefined);
    assert.equal(catalog.applyLocal(record('east', 'pay', 1, 1)), true);
    assert.equal(catalog.applyLocal(record('east', 'pay', 1, 1)), false);
    assert.throws(() => catalog.applyLocal(record('west', 'pay', 1, 1)), (e) => isCausewayError(e, 'CW_CATALOG_INVALID'));
  });

  it('a batch with one invalid record throws CW_CATALOG_INVALID naming it and changes nothing', () => {
    const catalog = new Catalog({ localCluster: 'east' });
    const batches = feed(catalog);
    const bad = { ...record('west', 'db', 1, 1), endpoints: [endpoint('db.internal', 'west')] };
    assert.throws(() => catalog.applyRemote([record('west', 'pay', 1, 1), bad]), (e) =>
      isCausewayError(e, 'CW_CATALOG_INVALID') && e.message === 'records[1].endpoints[0].address: "db.internal" is not an IP address');
    assert.equal(catalog.get('west', 'pay.prod'), undefined);
    assert.equal(batches.length, 0);
  });

  it('stores frozen copies: the caller\'s object and the stored record are independent', () => {
    const catalog = new Catalog({ localCluster: 'east' });
    const input = record('west', 'pay', 1, 1);
    const [stored] = catalog.applyRemote([input]);
    assert.ok(stored !== undefined && Object.isFrozen(stored) && Object.isFrozen(stored.endpoints[0]?.locality));
    assert.equal(Object.isFrozen(input), false);
    assert.throws(() => { (stored.endpoints as unknown[]).push(1); }, TypeError);
  });
});

describe('Catalog convergence', () => {
  it('any delivery order of the same records (with duplicates) ends in the same state', () => {
    const all = [1, 2, 3, 4, 5].flatMap((seq) => [
      record('west', 'pay', 1, seq, { addresses: [`10.0.0.${seq}`] }),
      record('west', 'db', 1, seq * 2, { deleted: seq === 5 }),
      record('north', 'pay', seq < 3 ? 1 : 2, seq, { exported: seq % 2 === 0 }),
    ]);
    let state = 7;
    const random = (): number => { state = (state * 48271) % 2147483647; return state / 2147483647; };
    const states = Array.from({ length: 5 }, () => {
      const catalog = new Catalog({ localCluster: 'east' });
      const shuffled = [...all, ...all].map((r) => ({ r, k: random() })).sort((a, b) => a.k - b.k).map((x) => x.r);
      for (let i = 0; i < shuffled.length; i += 4) catalog.applyRemote(shuffled.slice(i, i + 4));
      return catalog.exportState();
    });
    for (const s of states) assert.deepEqual(s, states[0]);
    assert.deepEqual(states[0]?.records.map((r) => `${r.origin}/${r.name}@${r.version.epoch}.${r.version.seq}`), ['north/pay@2.5', 'west/db@1.10', 'west/pay@1.5']);
  });
});

describe('Catalog snapshots and origins', () => {
  it('a snapshot tombstones live records it does not mention, at their held version', () => {
    const catalog = new Catalog({ localCluster: 'east' });
    catalog.applyRemote([record('west', 'pay', 1, 1), record('west', 'db', 1, 2), record('north', 'pay', 1, 1)]);
    const batches = feed(catalog);
    catalog.applySnapshot('west', [record('west', 'pay', 1, 1)]);
    const db = catalog.get('west', 'db.prod');
    assert.equal(db?.deleted, true);
    assert.deepEqual(db?.endpoints, []);
    assert.equal(db?.version.seq, 2);
    assert.equal(catalog.get('west', 'pay.prod')?.deleted, false);
    assert.equal(catalog.get('north', 'pay.prod')?.deleted, false, 'other origins are untouched');
    assert.equal(batches.length, 1);
    assert.deepEqual(batches[0]?.map((c) => [c.record.name, c.record.deleted, c.previous?.deleted]), [['db', true, false]]);
    // The same version mentioned live again revives it; an older one does not.
    catalog.applyRemote([record('west', 'db', 1, 1)]);
    assert.equal(catalog.get('west', 'db.prod')?.deleted, true);
    catalog.applySnapshot('west', [record('west', 'pay', 1, 1), record('west', 'db', 1, 2)]);
    assert.equal(catalog.get('west', 'db.prod')?.deleted, false);
  });

  it('a snapshot carrying a record of another origin is refused whole', () => {
    const catalog = new Catalog({ localCluster: 'east' });
    catalog.applyRemote([record('west', 'db', 1, 1)]);
    assert.throws(() => catalog.applySnapshot('west', [record('north', 'pay', 1, 1)]), (e) => isCausewayError(e, 'CW_CATALOG_INVALID'));
    assert.equal(catalog.get('west', 'db.prod')?.deleted, false);
  });

  it('dropOrigin forgets an origin, emitting tombstones for its live records', () => {
    const catalog = new Catalog({ localCluster: 'east' });
    catalog.applyRemote([record('west', 'pay', 1, 5), record('west', 'old', 1, 1, { deleted: true }), record('north', 'pay', 1, 1)]);
    const batches = feed(catalog);
    catalog.dropOrigin('west');
    assert.deepEqual(catalog.recordsOf('west'), []);
    assert.deepEqual(batches.map((b) => b.map((c) => [c.record.origin, c.record.name, c.record.deleted])), [[['west', 'pay', true]]]);
    catalog.dropOrigin('east');
    catalog.dropOrigin('nobody');
    assert.equal(batches.length, 1, 'dropping the local cluster or an unknown origin changes nothing');
    // Forgotten means forgotten: a peer that comes back may start at any version.
    assert.equal(catalog.applyRemote([record('west', 'pay', 1, 1)]).length, 1);
  });
});

describe('Catalog reading', () => {
  it('resolve groups live endpoints by cluster, local first, and hides tombstones', () => {
    const catalog = new Catalog({ localCluster: 'east' });
    catalog.applyRemote([
      record('alpha', 'pay', 1, 1, { addresses: ['10.1.0.1'] }),
      record('west', 'pay', 1, 1, { addresses: ['10.2.0.1', '10.2.0.2'], port: 8443 }),
      record('gone', 'pay', 1, 1, { deleted: true }),
    ]);
    catalog.applyLocal(record('east', 'pay', 1, 1, { addresses: ['10.0.0.1'] }));
    const resolved = catalog.resolve('pay.prod');
    assert.ok(resolved !== undefined);
    assert.deepEqual([...resolved.clusters.keys()], ['east', 'alpha', 'west']);
    assert.deepEqual(resolved.clusters.get('west')?.map((e) => e.address), ['10.2.0.1', '10.2.0.2']);
    assert.deepEqual(resolved.ports.map((p) => p.port), [80, 8443]);
    assert.equal(resolved.name, 'pay');
    catalog.applyLocal(record('east', 'pay', 1, 2, { deleted: true }));
    assert.deepEqual([...(catalog.resolve('pay.prod')?.clusters.keys() ?? [])], ['alpha', 'west']);
    catalog.applySnapshot('alpha', []);
    catalog.applySnapshot('west', []);
    assert.equal(catalog.resolve('pay.prod'), undefined);
    assert.deepEqual(catalog.serviceKeys(), []);
  });

  it('serviceKeys lists live keys once, sorted', () => {
    const catalog = new Catalog({ localCluster: 'east' });
    catalog.applyRemote([record('west', 'pay', 1, 1), record('north', 'pay', 1, 1), record('west', 'api', 1, 1), record('west', 'zz', 1, 1, { deleted: true })]);
    assert.deepEqual(catalog.serviceKeys(), ['api.prod', 'pay.prod']);
  });

  it('gateways: set replaces by identity, validates, notifies only on change, removes per cluster', () => {
    const catalog = new Catalog({ localCluster: 'east' });
    let notified = 0;
    catalog.onGatewayChange(() => { notified += 1; });
    catalog.setGateway(gateway('west'));
    catalog.setGateway(gateway('west'));
    catalog.setGateway({ ...gateway('west'), eastWestAddress: '10.9.9.8:15443' });
    catalog.setGateway(gateway('west', 'gw2'));
    catalog.setGateway(gateway('north'));
    assert.equal(notified, 4);
    assert.deepEqual(catalog.gatewaysOf('west').map((g) => g.eastWestAddress), ['10.9.9.8:15443', '10.9.9.9:15443']);
    assert.throws(() => catalog.setGateway({ ...gateway('west'), identity: 'west-gw' }), (e) => isCausewayError(e, 'CW_CATALOG_INVALID'));
    catalog.removeGateways('west');
    assert.deepEqual(catalog.gatewaysOf('west'), []);
    assert.deepEqual(catalog.gateways().map((g) => g.cluster), ['north']);
  });
});

describe('Catalog change feed', () => {
  it('delivers one batch per apply call with increasing indexes and the replaced record', () => {
    const catalog = new Catalog({ localCluster: 'east' });
    const batches = feed(catalog);
    catalog.applyRemote([record('west', 'pay', 1, 1), record('west', 'db', 1, 1)]);
    catalog.applyRemote([record('west', 'pay', 1, 1)]);
    catalog.applyRemote([record('west', 'pay', 1, 2)]);
    assert.equal(batches.length, 2);
    assert.deepEqual(batches.flat().map((c) => c.index), [1, 2, 3]);
    assert.equal(batches[1]?.[0]?.previous?.version.seq, 1);
    assert.equal(batches[0]?.[0]?.previous, undefined);
  });

  it('a throwing listener is logged and does not stop the others; unsubscribe works', () => {
    const lines: string[] = [];
    const destination = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(chunk.toString()); cb(); } });
    const catalog = new Catalog({ localCluster: 'east', logger: createLogger({ level: 'error', destination }) });
    catalog.onChange(() => { throw new Error('listener bug'); });
    const seen: number[] = [];
    const unsubscribe = catalog.onChange((changes) => seen.push(changes.length));
    catalog.applyRemote([record('west', 'pay', 1, 1)]);
    unsubscribe();
    catalog.applyRemote([record('west', 'pay', 1, 2)]);
    assert.deepEqual(seen, [1]);
    assert.ok(lines.some((l) => l.includes('listener bug') && l.includes('"component":"catalog"')), lines.join(''));
  });

  it('a listener that applies changes does not reorder batches for the others', () => {
    const catalog = new Catalog({ localCluster: 'east' });
    catalog.onChange((changes) => {
      if (changes[0]?.record.name === 'pay') catalog.applyRemote([record('west', 'db', 1, 1)]);
    });
    const order: number[] = [];
    catalog.onChange((changes) => order.push(...changes.map((c) => c.index)));
    catalog.applyRemote([record('west', 'pay', 1, 1)]);
    assert.deepEqual(order, [1, 2]);
  });

  it('exportState / importState round-trip records (tombstones included) and gateways', () => {
    const source = new Catalog({ localCluster: 'east' });
    source.applyLocal(record('east', 'pay', 7, 3));
    source.applyRemote([record('west', 'pay', 1, 1), record('west', 'old', 1, 4, { deleted: true })]);
    source.setGateway(gateway('west'));
    const state = JSON.parse(JSON.stringify(source.exportState()));
    const restored = new Catalog({ localCluster: 'east' });
    const batches = feed(restored);
    restored.importState(state);
    assert.deepEqual(restored.exportState(), source.exportState());
    assert.equal(batches.length, 1, 'importState emits what it accepted, as one batch');
    assert.throws(() => restored.importState({ records: [{ origin: 'west' }], gateways: 'x' } as never), (e) =>
      isCausewayError(e, 'CW_CATALOG_INVALID') && e.details.includes('gateways: must be a list'));
  });
});
