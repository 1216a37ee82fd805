import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CausewayError, type ServiceDeclaration } from '../../../../registry/index.js';
import type { PeerStatus } from '../../../../federation/peering/index.js';
import { makeTempDir } from '../../../helpers/paths.js';
import { waitFor } from '../../../helpers/wait-for.js';
import { declaration, startSide, stopSide, type Side } from './sides.js';

// exportTo over real links: A peers with B and C (A dials both). sides.ts gives each side
// cloud "test" and region "region-<cluster>", which its Hello announces.
function service(name: string, exportTo?: string[]): ServiceDeclaration {
  return { ...declaration(name, 'cluster-a', 'a.test', true), ...(exportTo === undefined ? {} : { exportTo }) };
}

function peerOf(side: Side, cluster: string): PeerStatus | undefined {
  return side.peers.list().find((p) => p.cluster === cluster);
}

describe('exportTo across peer links', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let a: Side;
  let b: Side;
  let c: Side;

  before(async () => {
    tmp = await makeTempDir('export-to');
    [a, b, c] = await Promise.all([
      startSide(tmp.dir, 'cluster-a', 'a.test'), startSide(tmp.dir, 'cluster-b', 'b.test'), startSide(tmp.dir, 'cluster-c', 'c.test'),
    ]);
    a.registry.replaceSource('config', [
      service('all'), service('only-b', ['cluster-b']), service('in-c', ['region=region-cluster-c']), service('prod', ['env=prod']),
      service('nobody', []),
    ]);
  });

  after(async () => {
    await Promise.all([stopSide(a), stopSide(b), stopSide(c)]);
    await tmp?.remove();
  });

  it('refuses labels that are no labels, peering nothing', async () => {
    await assert.rejects(a.peers.addPeer(await b.peers.createToken({ ttlSeconds: 60 }), { labels: { 'bad key': 'x' } }),
      (err: unknown) => err instanceof CausewayError && err.code === 'CW_USAGE' && /labels: "bad key" is not a label key/.test(err.message));
    await assert.rejects(b.peers.createToken({ ttlSeconds: 60, labels: { env: '' } }), /labels\.env: "" is not a label value/);
    assert.deepEqual(a.peers.list(), []);
  });

  it('each peer receives what is exported to it — by name, by announced region, by a label given at peering', async () => {
    await a.peers.addPeer(await b.peers.createToken({ ttlSeconds: 60 }));
    // C's operator labels the peering it grants (the token), A's operator the one it adds.
    await a.peers.addPeer(await c.peers.createToken({ ttlSeconds: 60, labels: { tier: 'edge' } }), { labels: { env: 'prod' } });
    await waitFor('B and C connected', () => (['cluster-b', 'cluster-c'].every((p) => peerOf(a, p)?.state === 'connected') ? true : undefined));
    await waitFor('only-b in B', () => b.catalog.resolve('only-b.prod'));
    await waitFor('in-c and prod in C', () => (c.catalog.resolve('in-c.prod') && c.catalog.resolve('prod.prod') ? true : undefined));
    await waitFor('all in B and C', () => (b.catalog.resolve('all.prod') && c.catalog.resolve('all.prod') ? true : undefined));

    // Never received at all: no record, not even a tombstone, of what is not exported to them.
    const heldBy = (side: Side): string[] => side.catalog.recordsOf('cluster-a').map((r) => r.name).sort();
    assert.deepEqual(heldBy(b), ['all', 'only-b']);
    assert.deepEqual(heldBy(c), ['all', 'in-c', 'prod']);
    assert.ok(b.catalog.recordsOf('cluster-a').every((r) => r.exportTo === undefined), 'exportTo stays with the sender');

    const toB = peerOf(a, 'cluster-b');
    const toC = peerOf(a, 'cluster-c');
    assert.deepEqual(toB?.labels, { cloud: 'test', region: 'region-cluster-b' });
    assert.deepEqual(toC?.labels, { cloud: 'test', region: 'region-cluster-c', env: 'prod' });
    assert.equal(toB?.exportedServices, 2);
    assert.equal(toC?.exportedServices, 3);
    // The same rule for the east-west listener, by the caller's trust domain.
    const onlyB = a.catalog.get('cluster-a', 'only-b.prod')!;
    assert.equal(a.peers.exportsTo(onlyB, 'b.test'), true);
    assert.equal(a.peers.exportsTo(onlyB, 'c.test'), false);
    assert.equal(a.peers.exportsTo(onlyB, 'stranger.test'), false);
    assert.equal(a.peers.exportsTo(a.catalog.get('cluster-a', 'all.prod')!, 'stranger.test'), true, 'an exportTo-less export is what it was');

    // The label C's operator put on the token is on C's record of A.
    assert.deepEqual(peerOf(c, 'cluster-a')?.labels, { cloud: 'test', region: 'region-cluster-a', tier: 'edge' });
    c.registry.upsert('config', { ...declaration('edge', 'cluster-c', 'c.test', true), exportTo: ['tier=edge'] });
    await waitFor('edge from C in A', () => a.catalog.resolve('edge.prod'));
    assert.deepEqual((await c.store.load<{ peers: Array<{ labels?: unknown }> }>('peers'))?.peers.map((p) => p.labels), [{ tier: 'edge' }]);
  });

  it('narrowing withdraws the record from the peer it left; widening sends it', async () => {
    a.registry.upsert('config', service('all', ['cluster-c']));
    await waitFor('all withdrawn from B', () => (b.catalog.get('cluster-a', 'all.prod')?.deleted === true ? true : undefined));
    assert.ok(c.catalog.resolve('all.prod'), 'C keeps it');
    a.registry.upsert('config', service('only-b', ['cluster-b', 'region=region-cluster-c']));
    await waitFor('only-b in C', () => c.catalog.resolve('only-b.prod'));
    assert.ok(b.catalog.resolve('only-b.prod'), 'B keeps it');
    const version = a.catalog.get('cluster-a', 'only-b.prod')!.version;
    await waitFor('C holds the new version', () => (c.catalog.get('cluster-a', 'only-b.prod')?.version.seq === version.seq ? true : undefined));
  });
});
