import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CausewayError } from '../../../../registry/index.js';
import { CertificateAuthority, bundlesEqual, encodeBundle } from '../../../../federation/index.js';
import { createPeeringToken, formatToken, type PeerStatus } from '../../../../federation/peering/index.js';
import { h2Probe } from '../../../helpers/h2-probe.js';
import { makeTempDir } from '../../../helpers/paths.js';
import { waitFor } from '../../../helpers/wait-for.js';
import { declaration, restartPeers, startSide, stopSide, type Side } from './sides.js';

async function rejects(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof CausewayError, String(err));
    assert.equal(err.code, code, err.message);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

function peerOf(side: Side, cluster: string): PeerStatus | undefined {
  return side.peers.list().find((p) => p.cluster === cluster);
}

function connected(side: Side, cluster: string): PeerStatus | undefined {
  const peer = peerOf(side, cluster);
  return peer?.state === 'connected' ? peer : undefined;
}

/** Nothing about a peering attempt was kept: no peer file, no trust, no status. */
async function assertNothingPersisted(side: Side, otherTrustDomain: string): Promise<void> {
  assert.equal(await side.store.load('peers'), undefined);
  assert.equal(side.trust.get(otherTrustDomain), undefined);
  assert.deepEqual(side.peers.list(), []);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('PeerManager: two gateways peered by token', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let a: Side;
  let b: Side;
  let token = '';

  before(async () => {
    tmp = await makeTempDir('peering');
    [a, b] = await Promise.all([startSide(tmp.dir, 'cluster-a', 'a.test'), startSide(tmp.dir, 'cluster-b', 'b.test')]);
  });

  after(async () => {
    await Promise.all([stopSide(a), stopSide(b)]);
    await tmp?.remove();
  });

  it('refuses bad tokens before or at redemption, persisting nothing on either side', async () => {
    await rejects(a.peers.addPeer('cwpt1.nonsense'), 'CW_TOKEN_MALFORMED');
    token = await b.peers.createToken({ ttlSeconds: 300 });
    const [prefix, payload, mac] = token.split('.') as [string, string, string];

    // Edited address without a new MAC: caught locally.
    const body = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const edited = { ...body, federationAddress: '127.0.0.1:1' };
    await rejects(a.peers.addPeer(`${prefix}.${Buffer.from(JSON.stringify(edited)).toString('base64url')}.${mac}`), 'CW_TOKEN_TAMPERED', /MAC/);

    // Extended expiry, re-MACed with the secret the token carries: only the issuer's digest catches it.
    const extended = formatToken(Buffer.from(JSON.stringify({ ...body, exp: (body.exp as number) + 86400 })), body.secret as string);
    await rejects(a.peers.addPeer(extended), 'CW_TOKEN_TAMPERED', /differs from the token this gateway minted/);

    // An unknown token id at a real issuer, and an issuer address where nothing listens.
    const bundle = encodeBundle(b.ca.bundle());
    const foreign = createPeeringToken({ cluster: 'cluster-b', trustDomain: 'b.test', federationAddress: b.federation, bundle, ttlSeconds: 60, now: Date.now() });
    await rejects(a.peers.addPeer(foreign.text), 'CW_TOKEN_UNKNOWN');
    const nowhere = createPeeringToken({
      cluster: 'cluster-b', trustDomain: 'b.test', federationAddress: `127.0.0.1:${await closedPort()}`, bundle, ttlSeconds: 60, now: Date.now(),
    });
    await rejects(a.peers.addPeer(nowhere.text), 'CW_PEER_UNREACHABLE');

    // Our own token.
    await rejects(a.peers.addPeer(await a.peers.createToken({ ttlSeconds: 60 })), 'CW_PEER_EXISTS', /own cluster/);

    await assertNothingPersisted(a, 'b.test');
    await assertNothingPersisted(b, 'a.test');
  });

  it('refuses a server whose certificate does not match the bundle in the token', async () => {
    // The token names B's address but pins another trust domain's root: B's certificate
    // cannot satisfy the pin, so nothing is redeemed.
    const rogue = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'rogue'), trustDomain: 'c.test' });
    const pinned = createPeeringToken({
      cluster: 'cluster-c', trustDomain: 'c.test', federationAddress: b.federation, bundle: encodeBundle(rogue.bundle()), ttlSeconds: 60, now: Date.now(),
    });
    await rejects(a.peers.addPeer(pinned.text), 'CW_PEER_UNREACHABLE');
    await assertNothingPersisted(a, 'c.test');
  });

  it('peers A with B: both sides list each other connected, bundles exchanged', async () => {
    const added = await a.peers.addPeer(token);
    assert.equal(added.name, 'cluster-b');
    assert.equal(added.role, 'dialer');
    assert.equal(added.federationAddress, b.federation);
    const fromA = await waitFor('A connected to B', () => connected(a, 'cluster-b'));
    const fromB = await waitFor('B connected to A', () => connected(b, 'cluster-a'));
    assert.equal(fromB.role, 'acceptor');
    assert.equal(fromA.bundleSequence, b.ca.bundle().sequence);
    assert.equal(fromB.bundleSequence, a.ca.bundle().sequence);
    assert.ok(bundlesEqual(a.trust.get('b.test')!, b.ca.bundle()), 'A holds B\'s bundle');
    assert.ok(bundlesEqual(b.trust.get('a.test')!, a.ca.bundle()), 'B holds A\'s bundle');
    assert.deepEqual((await a.store.load<{ peers: Array<{ name: string }> }>('peers'))?.peers.map((p) => p.name), ['cluster-b']);
    assert.deepEqual((await b.store.load<{ peers: Array<{ name: string }> }>('peers'))?.peers.map((p) => p.name), ['cluster-a']);
    // Each side learned the other's east-west gateway from its Hello.
    await waitFor('B\'s gateway in A', () => a.catalog.gatewaysOf('cluster-b').find((g) => g.identity === b.gatewayId));
    await waitFor('A\'s gateway in B', () => b.catalog.gatewaysOf('cluster-a').find((g) => g.identity === a.gatewayId));
    // The token is spent; a second peering with B is refused locally.
    await rejects(a.peers.addPeer(token), 'CW_PEER_EXISTS');
  });

  it('replicates exported services both ways; non-exported services never cross; removal tombstones', async () => {
    b.registry.upsert('test', declaration('secret', 'cluster-b', 'b.test', false));
    b.registry.upsert('test', declaration('pay', 'cluster-b', 'b.test', true));
    a.registry.upsert('test', declaration('web', 'cluster-a', 'a.test', true));

    const pay = await waitFor('pay.prod from B in A', () => a.catalog.resolve('pay.prod'));
    assert.deepEqual(pay.clusters.get('cluster-b')?.map((e) => e.address), ['10.0.0.1']);
    await waitFor('web.prod from A in B', () => b.catalog.resolve('web.prod'));
    // Same stream, in order: the non-exported service was processed before pay and never sent.
    assert.equal(a.catalog.get('cluster-b', 'secret.prod'), undefined);
    assert.equal(a.catalog.resolve('secret.prod'), undefined);

    // Each delta carries only the change: an endpoint added to pay.
    const withTwo = declaration('pay', 'cluster-b', 'b.test', true);
    b.registry.upsert('test', { ...withTwo, endpoints: [...withTwo.endpoints, { ...withTwo.endpoints[0]!, address: '10.0.0.2' }] });
    await waitFor('second endpoint in A', () => (a.catalog.resolve('pay.prod')?.clusters.get('cluster-b')?.length === 2 ? true : undefined));

    b.registry.remove('test', 'pay.prod');
    await waitFor('pay.prod tombstoned in A', () => (a.catalog.get('cluster-b', 'pay.prod')?.deleted === true ? true : undefined));
    assert.equal(a.catalog.resolve('pay.prod'), undefined);

    // Stopping the export of a service also withdraws it.
    a.registry.upsert('test', declaration('web', 'cluster-a', 'a.test', false));
    await waitFor('web.prod withdrawn from B', () => (b.catalog.resolve('web.prod') === undefined ? true : undefined));

    const status = await waitFor('B\'s deltas acked', () => {
      const p = peerOf(b, 'cluster-a');
      return p !== undefined && p.unacked === 0 && p.ackedDeltas >= 3 ? p : undefined;
    });
    assert.equal(status.sentDeltas, status.ackedDeltas);
    assert.equal(status.nacks, 0);
    assert.equal(typeof status.lastAckLagMs, 'number');
    assert.equal(typeof status.lastContactMs, 'number');
    assert.equal(peerOf(a, 'cluster-b')?.importedServices, 0);
    assert.equal(peerOf(b, 'cluster-a')?.exportedServices, 0);
  });

  it('re-links after A restarts on the same store, catching up by snapshot', async () => {
    await a.peers.close();
    await waitFor('B to see A gone', () => (peerOf(b, 'cluster-a')?.state === 'disconnected' ? true : undefined));
    b.registry.upsert('test', declaration('late', 'cluster-b', 'b.test', true));
    await restartPeers(a);
    await waitFor('A re-linked', () => connected(a, 'cluster-b'));
    await waitFor('B sees A again', () => connected(b, 'cluster-a'));
    await waitFor('late.prod in A', () => a.catalog.resolve('late.prod'));
    assert.equal(a.peers.list().length, 1);
    assert.ok(a.trust.get('b.test'), 'B\'s bundle restored from the store');
  });

  it('an impostor of cluster-a (another CA, same names) cannot take over B\'s live record of A', async () => {
    // Regression: an unnamed token, or one minted for another name, must not take over B's
    // existing record of cluster-a (and with it the trust root of a.test).
    const impostor = await startSide(path.join(tmp.dir, 'impostor'), 'cluster-a', 'a.test');
    try {
      const heldByB = await b.store.load('peers');
      await rejects(impostor.peers.addPeer(await b.peers.createToken({ ttlSeconds: 60 })), 'CW_PEER_EXISTS', /mint the token with --peer-name cluster-a/);
      await rejects(impostor.peers.addPeer(await b.peers.createToken({ ttlSeconds: 60, peerName: 'someone-else' })), 'CW_PEER_EXISTS');
      assert.deepEqual(await b.store.load('peers'), heldByB);
      assert.ok(connected(b, 'cluster-a'), 'B\'s link with the real A is untouched');
    } finally {
      await stopSide(impostor);
    }
  });

  it('re-peers after A removes B: B hears of it at once; the spent token is refused locally, a fresh one replaces B\'s removed record', async () => {
    await a.peers.removePeer('cluster-b');
    assert.deepEqual(a.peers.list(), []);
    assert.equal(a.trust.get('b.test'), undefined);
    assert.deepEqual(a.catalog.recordsOf('cluster-b'), []);
    // B learns over the link, not by timing out: its record of A is marked removed, a.test
    // is no longer trusted, A's services and gateways are gone — and it stays so.
    const removed = await waitFor('B sees A removed', () => {
      const p = peerOf(b, 'cluster-a');
      return p?.state === 'removed' ? p : undefined;
    }, 2000);
    assert.match(removed.lastError ?? '', /peering removed by cluster-a/);
    assert.equal(b.trust.get('a.test'), undefined);
    assert.deepEqual(b.catalog.recordsOf('cluster-a'), []);
    assert.deepEqual(b.catalog.gatewaysOf('cluster-a'), []);
    const stored = await b.store.load<{ peers: Array<{ name: string; removedAt?: number }> }>('peers');
    assert.ok(stored?.peers.find((p) => p.name === 'cluster-a')?.removedAt, 'the removal is persisted');
    const before = await a.store.load('peers');
    await rejects(a.peers.addPeer(token), 'CW_TOKEN_USED', /already redeemed/);
    assert.deepEqual(await a.store.load('peers'), before);
    const heldByB = await b.store.load('peers');

    // A store failure on B while it records the new peering leaves the token unspent.
    const named = await b.peers.createToken({ ttlSeconds: 60, peerName: 'cluster-a' });
    const save = b.store.save.bind(b.store);
    b.store.save = async (name: string, value: unknown): Promise<void> => {
      if (name === 'peers') throw new Error('injected: disk full');
      return save(name, value);
    };
    try {
      await assert.rejects(a.peers.addPeer(named), /disk full/);
    } finally {
      b.store.save = save;
    }
    assert.deepEqual(await b.store.load('peers'), heldByB);
    assert.equal(peerOf(b, 'cluster-a')?.state, 'removed', 'B keeps its removed record');
    await a.peers.addPeer(named);
    await waitFor('A re-peered', () => connected(a, 'cluster-b'));
    await waitFor('B linked to the new peering', () => connected(b, 'cluster-a'));
    assert.deepEqual(b.peers.list().map((p) => p.name), ['cluster-a']);
    await waitFor('late.prod back in A', () => a.catalog.resolve('late.prod'));
  });

  it('removePeer on B tells A over the link: A marks B removed, stops trusting it and does not redial', async () => {
    await rejects(b.peers.removePeer('nobody'), 'CW_PEER_UNKNOWN');
    await b.peers.removePeer('cluster-a');
    assert.deepEqual(b.peers.list(), []);
    assert.equal(b.trust.get('a.test'), undefined);
    assert.deepEqual(b.catalog.recordsOf('cluster-a'), []);
    assert.deepEqual(b.catalog.gatewaysOf('cluster-a'), []);
    assert.deepEqual((await b.store.load<{ peers: unknown[] }>('peers'))?.peers, []);

    const gone = await waitFor('A sees B removed', () => {
      const p = peerOf(a, 'cluster-b');
      return p?.state === 'removed' ? p : undefined;
    }, 2000);
    assert.equal(gone.role, 'dialer');
    assert.match(gone.lastError ?? '', /peering removed by cluster-b/);
    assert.equal(a.trust.get('b.test'), undefined);
    assert.deepEqual(a.catalog.recordsOf('cluster-b'), []);
    // And B refuses A's certificate from now on.
    const svid = a.svid.current();
    const probe = await h2Probe(b.federation, { caPem: b.ca.bundle().rootsPem[0]!, certPem: svid.certChainPem, keyPem: svid.keyPem }, {
      ':method': 'POST', ':path': '/causeway.federation.v1.Federation/Link', 'content-type': 'application/grpc', te: 'trailers',
    });
    assert.equal(probe.outcome, 'refused');
    assert.equal(peerOf(a, 'cluster-b')?.state, 'removed');
    // The operator's own `peer remove` deletes the removed record.
    await a.peers.removePeer('cluster-b');
    assert.deepEqual(a.peers.list(), []);
  });
});
