import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Catalog, LocalRegistry, type CatalogChange, type ExportPeer, type ServiceDeclaration, type ServiceRecord } from '../../../../registry/index.js';
import { toWireRecord } from '../../../../federation/peering/frames.js';
import { deltaRecords, snapshotRecords } from '../../../../federation/peering/replication.js';
import { declaration } from './sides.js';

// The export filter of one link (docs/protocol.md, "What crosses a link"): A's records as
// its links to B (region eu-west-1) and to C (region us-east1, labelled env=prod by A's
// operator) would send them.
const B: ExportPeer = { name: 'cluster-b', cluster: 'cluster-b', labels: { cloud: 'aws', region: 'eu-west-1' } };
const C: ExportPeer = { name: 'cluster-c', cluster: 'cluster-c', labels: { cloud: 'aws', region: 'us-east1', env: 'prod' } };

function service(name: string, exportTo?: string[], exported = true): ServiceDeclaration {
  return { ...declaration(name, 'cluster-a', 'a.test', exported), ...(exportTo === undefined ? {} : { exportTo }) };
}

/** A's catalog and registry, with every change batch kept, as a link's subscription sees them. */
function clusterA(): { catalog: Catalog; registry: LocalRegistry; next(): readonly CatalogChange[] } {
  const catalog = new Catalog({ localCluster: 'cluster-a' });
  const registry = new LocalRegistry({ catalog, version: { epoch: 1, seq: 0 } });
  const batches: (readonly CatalogChange[])[] = [];
  catalog.onChange((changes) => batches.push(changes));
  return { catalog, registry, next: () => batches.splice(0).flat() };
}

const keys = (records: readonly ServiceRecord[]): string[] => records.map((r) => `${r.name}${r.deleted ? ' (deleted)' : ''}`).sort();

describe('replication: what crosses the link to one peer', () => {
  it('a snapshot holds the records exported to that peer, and only those', () => {
    const a = clusterA();
    a.registry.replaceSource('config', [
      service('all'), service('only-b', ['cluster-b']), service('eu', ['region=eu-west-1']), service('prod', ['env=prod']),
      service('nobody', []), service('local', undefined, false),
    ]);
    a.catalog.applyRemote([{ ...a.catalog.get('cluster-a', 'all.prod')!, origin: 'cluster-d', version: { origin: 'cluster-d', epoch: 1, seq: 1 } }]);
    assert.deepEqual(keys(snapshotRecords(a.catalog, B)), ['all', 'eu', 'only-b']);
    assert.deepEqual(keys(snapshotRecords(a.catalog, C)), ['all', 'prod']);
  });

  it('a delta sends a change only to the peers it is exported to', () => {
    const a = clusterA();
    a.registry.replaceSource('config', [service('all'), service('only-b', ['cluster-b'])]);
    const changes = a.next();
    assert.deepEqual(keys(deltaRecords(changes, 'cluster-a', B)), ['all', 'only-b']);
    assert.deepEqual(keys(deltaRecords(changes, 'cluster-a', C)), ['all']);
    // An endpoint change of only-b: B hears of it, C hears nothing at all.
    a.registry.replaceSource('config', [service('all'), { ...service('only-b', ['cluster-b']), endpoints: declaration('only-b', 'cluster-a', 'a.test', true, '10.0.0.7').endpoints }]);
    const moved = a.next();
    assert.deepEqual(keys(deltaRecords(moved, 'cluster-a', B)), ['only-b']);
    assert.deepEqual(deltaRecords(moved, 'cluster-a', C), []);
    // Removed: the tombstone goes where the record went.
    a.registry.replaceSource('config', [service('all')]);
    const removed = a.next();
    assert.deepEqual(keys(deltaRecords(removed, 'cluster-a', B)), ['only-b (deleted)']);
    assert.deepEqual(deltaRecords(removed, 'cluster-a', C), []);
  });

  it('narrowing exportTo tombstones the record to the peers it left, at its new version; widening sends it', () => {
    const a = clusterA();
    a.registry.replaceSource('config', [service('pay')]);
    a.next();
    a.registry.replaceSource('config', [service('pay', ['cluster-b'])]);
    const narrowed = a.next();
    const seq = a.catalog.get('cluster-a', 'pay.prod')!.version.seq;
    const [toB] = deltaRecords(narrowed, 'cluster-a', B);
    assert.equal(toB?.deleted, false);
    assert.equal(toB?.version.seq, seq);
    const [toC, ...more] = deltaRecords(narrowed, 'cluster-a', C);
    assert.equal(more.length, 0);
    assert.equal(toC?.deleted, true);
    assert.deepEqual(toC?.endpoints, []);
    assert.equal(toC?.version.seq, seq, 'the tombstone carries the new version: it outranks what C holds');
    // C's next snapshot (a reconnect) leaves pay out: C's applySnapshot drops it.
    assert.deepEqual(keys(snapshotRecords(a.catalog, C)), []);

    a.registry.replaceSource('config', [service('pay', ['cluster-b', 'env=prod'])]);
    const widened = a.next();
    assert.deepEqual(keys(deltaRecords(widened, 'cluster-a', C)), ['pay']);
    assert.equal(deltaRecords(widened, 'cluster-a', C)[0]?.version.seq, a.catalog.get('cluster-a', 'pay.prod')!.version.seq);
    assert.deepEqual(keys(deltaRecords(widened, 'cluster-a', B)), ['pay']);

    // Not exported any more: a tombstone to every peer that had it.
    a.registry.replaceSource('config', [service('pay', undefined, false)]);
    const withdrawn = a.next();
    assert.deepEqual(keys(deltaRecords(withdrawn, 'cluster-a', B)), ['pay (deleted)']);
    assert.deepEqual(keys(deltaRecords(withdrawn, 'cluster-a', C)), ['pay (deleted)']);
    // A change of a record a peer never had sends it nothing.
    a.registry.replaceSource('config', [service('pay', [])]);
    assert.deepEqual(deltaRecords(a.next(), 'cluster-a', C), []);
  });

  it('exportTo never crosses: the wire record has no field for it', () => {
    const a = clusterA();
    a.registry.replaceSource('config', [service('pay', ['cluster-b'])]);
    const [sent] = snapshotRecords(a.catalog, B);
    assert.deepEqual(sent?.exportTo, ['cluster-b'], 'the local record has it');
    const wire = toWireRecord(sent!);
    assert.equal('exportTo' in wire, false);
    assert.ok(!JSON.stringify(wire).includes('cluster-b'), JSON.stringify(wire));
  });

  it('stays cheap: a catalog of 5,000 records, filtered for 50 peers in well under a second', () => {
    const a = clusterA();
    a.registry.replaceSource('config', Array.from({ length: 5000 }, (_, i) => service(`s${i}`, i % 2 === 0 ? undefined : [`cluster-${i % 7}`, 'region=eu-west-1'])));
    const changes = a.next();
    const started = process.hrtime.bigint();
    let sent = 0;
    for (let p = 0; p < 50; p++) {
      const peer: ExportPeer = { name: `cluster-${p}`, cluster: `cluster-${p}`, labels: { region: p % 2 === 0 ? 'eu-west-1' : 'us-east1' } };
      sent += snapshotRecords(a.catalog, peer).length + deltaRecords(changes, 'cluster-a', peer).length;
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(sent > 0);
    assert.ok(ms < 1000, `${ms} ms`);
  });
});
