import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { CausewayError } from '../../../../registry/index.js';
import { CertificateAuthority, SvidRotator, bundlesEqual, encodeBundle, gatewaySpiffeId } from '../../../../federation/index.js';
import {
  federationProto, parseBootstrapCredential, responseProof, type BootstrapCredential, type PeerStatus, type WireRedeemRequest, type WireRedeemResponse,
} from '../../../../federation/peering/index.js';
import { redeemBootstrap } from '../../../../federation/peering/bootstrap-redeem-client.js';
import { expiresIn, mintCredential, mintId, mintKey, mintSecret } from '../../../helpers/bootstrap-mint.js';
import { makeTempDir } from '../../../helpers/paths.js';
import { waitFor } from '../../../helpers/wait-for.js';
import { restartPeers, startSide, stopSide, type Side } from './sides.js';

async function rejects(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof CausewayError, String(err));
    assert.equal(err.code, code, err.message);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

function connected(side: Side, name: string): PeerStatus | undefined {
  const peer = side.peers.list().find((p) => p.name === name);
  return peer?.state === 'connected' ? peer : undefined;
}

/** Whoever presents the credential, as the dialled gateway sees the Redeem call. */
function requesterOf(side: Side): { cluster: string; trustDomain: string; bundleJson: string; gatewayId: string } {
  return { cluster: side.cluster, trustDomain: side.trustDomain, bundleJson: encodeBundle(side.ca.bundle()), gatewayId: side.gatewayId };
}

/** A Redeem straight from `side`, past the dialler's own local checks: what the DIALLED gateway decides. */
function presentAs(side: Side, credential: BootstrapCredential, at: Side): Promise<WireRedeemResponse> {
  return redeemBootstrap({ credential, address: at.federation, requester: requesterOf(side), timeoutMs: 5000 });
}

describe('bootstrap credentials: the gateway side', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  const keyB = mintKey();
  let a: Side;
  let b: Side;
  let y: Side;
  let noKey: Side;
  let used: BootstrapCredential;

  /** The dialled gateway's state: what a refused attempt must leave exactly as it was. */
  const stateOfB = async (): Promise<unknown> => ({ file: await b.store.load('peers'), peers: b.peers.list().map((p) => p.name), domains: b.trust.trustDomains().sort() });
  const stateOfA = async (): Promise<unknown> => ({ file: await a.store.load('peers'), peers: a.peers.list().map((p) => p.name), domains: a.trust.trustDomains().sort() });

  before(async () => {
    tmp = await makeTempDir('bootstrap');
    [a, b, y, noKey] = await Promise.all([
      startSide(tmp.dir, 'cluster-a', 'a.test'),
      startSide(tmp.dir, 'cluster-b', 'b.test', { bootstrapKey: keyB }),
      startSide(tmp.dir, 'cluster-y', 'y.test'),
      startSide(tmp.dir, 'cluster-n', 'n.test'),
    ]);
  });

  after(async () => {
    await Promise.all([a, b, y, noKey].map((side) => stopSide(side)));
    await tmp?.remove();
  });

  it('refuses credentials altered in exp, id or secret, or minted with another key — changing nothing', async () => {
    const before = await stateOfB();
    const good = parseBootstrapCredential(mintCredential({ keyHex: keyB, from: 'cluster-a', to: 'cluster-b', exp: expiresIn(600) }));
    const altered: BootstrapCredential[] = [
      { ...good, exp: good.exp + 86400 },
      { ...good, id: mintId() },
      { ...good, secret: `${good.secret.slice(0, 63)}${good.secret.endsWith('0') ? '1' : '0'}` },
      parseBootstrapCredential(mintCredential({ keyHex: mintKey(), from: 'cluster-a', to: 'cluster-b', exp: expiresIn(600) })),
    ];
    for (const credential of altered) {
      await rejects(a.peers.addBootstrapPeer(credential, b.federation), 'CW_TOKEN_TAMPERED', /proof does not match/);
    }
    assert.deepEqual(await stateOfB(), before);
    assert.equal(a.trust.get('b.test'), undefined);
    assert.deepEqual(a.peers.list(), []);
  });

  it('refuses an expired credential, at the dialler before any I/O and at the dialled gateway', async () => {
    const before = await stateOfB();
    const expired = parseBootstrapCredential(mintCredential({ keyHex: keyB, from: 'cluster-a', to: 'cluster-b', exp: expiresIn(-5) }));
    await rejects(a.peers.addBootstrapPeer(expired, b.federation), 'CW_TOKEN_EXPIRED');
    await rejects(presentAs(a, expired, b), 'CW_TOKEN_EXPIRED', /expired at/);
    assert.deepEqual(await stateOfB(), before);
  });

  it('refuses a credential for any other peer: presented by another cluster, or minted for another gateway', async () => {
    const before = await stateOfB();
    const forA = parseBootstrapCredential(mintCredential({ keyHex: keyB, from: 'cluster-a', to: 'cluster-b', exp: expiresIn(600) }));
    // Y holds A's credential: its own gateway will not present it...
    await rejects(y.peers.addBootstrapPeer(forA, b.federation), 'CW_TOKEN_WRONG_PEER', /for cluster "cluster-a" to present, not "cluster-y"/);
    // ...and B refuses it from Y even with a correct proof (Y holds the secret).
    await rejects(presentAs(y, forA, b), 'CW_TOKEN_WRONG_PEER', /minted for cluster "cluster-a" to present, not for "cluster-y"/);
    // Minted with B's key, but for a gateway named cluster-c: not for B.
    const forC = parseBootstrapCredential(mintCredential({ keyHex: keyB, from: 'cluster-a', to: 'cluster-c', exp: expiresIn(600) }));
    await rejects(a.peers.addBootstrapPeer(forC, b.federation), 'CW_TOKEN_WRONG_PEER', /for gateway "cluster-c", not this one/);
    assert.deepEqual(await stateOfB(), before);
    assert.deepEqual(y.peers.list(), []);
  });

  it('is refused by a gateway that has no bootstrap key', async () => {
    const credential = parseBootstrapCredential(mintCredential({ keyHex: keyB, from: 'cluster-a', to: 'cluster-n', exp: expiresIn(600) }));
    await rejects(a.peers.addBootstrapPeer(credential, noKey.federation), 'CW_BOOTSTRAP_DISABLED', /peering\.bootstrapKeyFile/);
    assert.deepEqual(noKey.peers.list(), []);
  });

  it('is accepted once by the named peer: both sides peered under the credential\'s names, bundles exchanged, the link up', async () => {
    used = parseBootstrapCredential(mintCredential({ keyHex: keyB, from: 'cluster-a', to: 'cluster-b', exp: expiresIn(600) }));
    const added = await a.peers.addBootstrapPeer(used, b.federation);
    assert.equal(added.name, 'cluster-b');
    assert.equal(added.role, 'dialer');
    assert.equal(added.trustDomain, 'b.test');
    assert.equal(added.federationAddress, b.federation);
    await waitFor('A connected to B', () => connected(a, 'cluster-b'));
    const fromB = await waitFor('B connected to A', () => connected(b, 'cluster-a'));
    assert.equal(fromB.role, 'acceptor');
    assert.equal(fromB.gatewayId, a.gatewayId);
    assert.ok(bundlesEqual(a.trust.get('b.test')!, b.ca.bundle()));
    assert.ok(bundlesEqual(b.trust.get('a.test')!, a.ca.bundle()));
    // The id is recorded as used with the peering, on disk, on both sides.
    const fileB = await b.store.load<{ acceptedBootstrap: Array<{ id: string; from: string }> }>('peers');
    assert.deepEqual(fileB?.acceptedBootstrap.map(({ id, from }) => ({ id, from })), [{ id: used.id, from: 'cluster-a' }]);
    const fileA = await a.store.load<{ redeemedTokens: Array<{ id: string }> }>('peers');
    assert.deepEqual(fileA?.redeemedTokens.map((t) => t.id), [used.id]);
  });

  it('refuses the used credential again: at the dialler, at the dialled gateway, and after the dialled gateway restarted', async () => {
    const beforeA = await stateOfA();
    const beforeB = await stateOfB();
    await rejects(a.peers.addBootstrapPeer(used, b.federation), 'CW_TOKEN_USED', /already used that bootstrap credential/);
    await rejects(presentAs(a, used, b), 'CW_TOKEN_USED', /already used by cluster-a/);
    await b.peers.close();
    await restartPeers(b, Number(b.federation.split(':')[1]));
    await rejects(presentAs(a, used, b), 'CW_TOKEN_USED', /already used by cluster-a/);
    assert.deepEqual(await stateOfA(), beforeA);
    assert.deepEqual(await stateOfB(), beforeB);
  });

  it('re-peers with a new credential (a new id) once the peering was removed', async () => {
    await waitFor('A re-linked to the restarted B', () => connected(a, 'cluster-b'));
    await a.peers.removePeer('cluster-b');
    await waitFor('B sees A removed', () => (b.peers.list().find((p) => p.name === 'cluster-a')?.state === 'removed' ? true : undefined));
    const fresh = parseBootstrapCredential(mintCredential({ keyHex: keyB, from: 'cluster-a', to: 'cluster-b', exp: expiresIn(600) }));
    await a.peers.addBootstrapPeer(fresh, b.federation);
    await waitFor('A connected to B again', () => connected(a, 'cluster-b'));
    await waitFor('B connected to A again', () => connected(b, 'cluster-a'));
    const fileB = await b.store.load<{ acceptedBootstrap: Array<{ id: string }>; peers: Array<{ name: string }> }>('peers');
    assert.deepEqual(fileB?.acceptedBootstrap.map((u) => u.id), [used.id, fresh.id]);
    assert.deepEqual(fileB?.peers.map((p) => p.name), ['cluster-a']);
  });
});

describe('bootstrap credentials: an answer without a valid proof', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let a: Side;
  let server: grpc.Server;
  let svid: SvidRotator;
  let address = '';
  let answer: (request: WireRedeemRequest) => WireRedeemResponse;
  const keyF = mintKey();

  before(async () => {
    tmp = await makeTempDir('bootstrap-impostor');
    a = await startSide(tmp.dir, 'cluster-a', 'a.test');
    // A stand-in for the dialled gateway (or a man in the middle in front of it), with a
    // certificate of its own: the dialler verifies no certificate, only the proof.
    const ca = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'f-ca'), trustDomain: 'f.test' });
    svid = new SvidRotator({ ca, spiffeId: gatewaySpiffeId('f.test', 'gw'), ttlSeconds: 3600 });
    const { certChainPem, keyPem } = svid.current();
    server = new grpc.Server();
    server.addService(federationProto().service, {
      Redeem: (call: grpc.ServerUnaryCall<WireRedeemRequest, WireRedeemResponse>, callback: grpc.sendUnaryData<WireRedeemResponse>) => callback(null, answer(call.request)),
      Link: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.end(),
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(certChainPem), private_key: Buffer.from(keyPem) }], false),
        (err, bound) => (err === null ? resolve(bound) : reject(err)));
    });
    address = `127.0.0.1:${port}`;
    const fBundle = encodeBundle(ca.bundle());
    // What the real cluster-f would answer, for `secret`.
    answer = (request) => {
      const secret = mintSecret({ keyHex: keyF, from: 'cluster-a', to: 'cluster-f', id: request.bootstrap!.id, exp: Number(request.bootstrap!.exp) });
      const response = { cluster: 'cluster-f', trustDomain: 'f.test', spiffeBundleJson: fBundle, gatewayId: gatewaySpiffeId('f.test', 'gw') };
      return { ...response, bootstrapProof: responseProof(secret, { nonce: request.bootstrap!.nonce, id: request.bootstrap!.id, ...response, bundleJson: fBundle }) };
    };
  });

  after(async () => {
    server?.forceShutdown();
    svid?.close();
    await stopSide(a);
    await tmp?.remove();
  });

  it('is refused by the dialler, and nothing of it is adopted', async () => {
    const honest = answer;
    const rogue = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'rogue'), trustDomain: 'f.test' });
    const tampered: Array<(request: WireRedeemRequest) => WireRedeemResponse> = [
      // A man in the middle swaps in its own bundle, keeping the real proof.
      (request) => ({ ...honest(request), spiffeBundleJson: encodeBundle(rogue.bundle()) }),
      // Or another trust domain or cluster.
      (request) => ({ ...honest(request), trustDomain: 'g.test' }),
      (request) => ({ ...honest(request), gatewayId: gatewaySpiffeId('f.test', 'other') }),
      // An impostor without the secret: any proof, or none.
      (request) => ({ ...honest(request), bootstrapProof: 'ab'.repeat(32) }),
      (request) => ({ ...honest(request), bootstrapProof: '' }),
      // A proof made for another request (a replayed answer): another nonce.
      (request) => honest({ ...request, bootstrap: { ...request.bootstrap!, nonce: '00'.repeat(16) } }),
    ];
    const credential = parseBootstrapCredential(mintCredential({ keyHex: keyF, from: 'cluster-a', to: 'cluster-f', exp: expiresIn(600) }));
    for (const respond of tampered) {
      answer = respond;
      await rejects(a.peers.addBootstrapPeer(credential, address), 'CW_PEER_UNREACHABLE', /without a valid bootstrap proof.*nothing was adopted/);
      assert.deepEqual(a.peers.list(), []);
      assert.equal(a.trust.get('f.test'), undefined);
      assert.equal(await a.store.load('peers'), undefined);
    }
    // The honest answer is taken (the credential was not spent by the refusals).
    answer = honest;
    const peered = await a.peers.addBootstrapPeer(credential, address);
    assert.equal(peered.trustDomain, 'f.test');
  });
});
