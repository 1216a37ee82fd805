import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GatewayRecord } from '../../../../registry/index.js';
import type { PeerState } from '../../../../federation/index.js';
import { GatewayLiveness } from '../../../../gateway/dataplane/gateway-liveness.js';
import { makeTempDir } from '../../../helpers/paths.js';
import { waitFor } from '../../../helpers/wait-for.js';
import { startSide, stopSide, type Side } from '../../federation/peering/sides.js';

const gw = (cluster: string, n = 1): GatewayRecord => ({
  cluster, trustDomain: `${cluster}.test`, identity: `spiffe://${cluster}.test/gateway/gw-${n}`, eastWestAddress: `10.0.0.${n}:15443`,
  locality: { cloud: 'c', region: 'r', zone: 'z', cluster },
});

describe('GatewayLiveness', () => {
  it('is up with changedAtMs 0 until something fails; dead wins over link-down; changedAtMs marks each change', () => {
    let now = 1000;
    const liveness = new GatewayLiveness({ now: () => now });
    const b1 = gw('b', 1);
    const b2 = gw('b', 2);
    assert.deepEqual(liveness.stateOf(b1), { condition: 'up', reason: 'no failure seen', changedAtMs: 0 });
    liveness.setLink('b', true, 'connected');
    assert.equal(liveness.stateOf(b1).changedAtMs, 0, 'a link first seen connected is no change');

    now = 2000;
    liveness.observe({ type: 'dead', gateway: b1, reason: 'no PING answer from b1 within 1000 ms' });
    assert.deepEqual(liveness.stateOf(b1), { condition: 'dead', reason: 'no PING answer from b1 within 1000 ms', changedAtMs: 2000 });
    assert.equal(liveness.stateOf(b2).condition, 'up', 'per gateway, not per cluster');
    now = 2500;
    liveness.markDead(b1, 'cannot dial b1: connect ECONNREFUSED');
    assert.deepEqual(liveness.stateOf(b1), { condition: 'dead', reason: 'cannot dial b1: connect ECONNREFUSED', changedAtMs: 2000 }, 'the newest reason, the first time');

    now = 3000;
    liveness.setLink('b', false, 'no message for 15000 ms');
    assert.equal(liveness.stateOf(b1).condition, 'dead');
    assert.deepEqual(liveness.stateOf(b2), { condition: 'link-down', reason: 'no message for 15000 ms', changedAtMs: 3000 });

    now = 4000;
    liveness.observe({ type: 'up', gateway: b1 });
    assert.equal(liveness.stateOf(b1).condition, 'link-down', 'alive, but its link is still down');
    now = 5000;
    liveness.setLink('b', true, 'connected');
    assert.deepEqual(liveness.stateOf(b1), { condition: 'up', reason: 'answering', changedAtMs: 5000 });
    assert.deepEqual(liveness.deadGateways(), []);
    assert.deepEqual(liveness.snapshot([b1]).map((v) => [v.gateway, v.cluster, v.condition]), [[b1.identity, 'b', 'up']]);
  });

  it('reports changes to listeners and forgets gateways and clusters', () => {
    const liveness = new GatewayLiveness();
    let changes = 0;
    const off = liveness.onChange(() => (changes += 1));
    const b1 = gw('b');
    liveness.markDead(b1, 'x');
    liveness.markDead(b1, 'y');
    liveness.markUp(b1, 'probe');
    liveness.markUp(b1, 'again');
    assert.equal(changes, 2, 'only changes of condition');
    liveness.markDead(b1, 'x');
    assert.deepEqual(liveness.deadGateways(), [b1]);
    liveness.forget(b1);
    assert.deepEqual(liveness.deadGateways(), []);
    liveness.setLink('b', false, 'down');
    liveness.forgetCluster('b');
    assert.equal(liveness.stateOf(b1).condition, 'up');
    off();
    liveness.markDead(b1, 'x');
    assert.equal(changes, 6);
  });
});

describe('GatewayLiveness fed by PeerManager link state', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let a: Side;
  let b: Side;

  before(async () => {
    tmp = await makeTempDir('liveness');
    [a, b] = await Promise.all([startSide(tmp.dir, 'cluster-a', 'a.test'), startSide(tmp.dir, 'cluster-b', 'b.test')]);
  });

  after(async () => {
    await Promise.all([stopSide(a), stopSide(b)]);
    await tmp?.remove();
  });

  it('a federation link that goes down makes the cluster\'s gateways link-down', async () => {
    const liveness = new GatewayLiveness();
    const seen: Array<[string, PeerState]> = [];
    const off = a.peers.onLinkState((cluster, state, error) => {
      seen.push([cluster, state]);
      if (state !== 'connecting' && state !== 'removed') liveness.setLink(cluster, state === 'connected', error ?? state);
    });
    try {
      await a.peers.addPeer(await b.peers.createToken({ ttlSeconds: 300 }));
      const gatewayB = await waitFor('B\'s gateway record over the link', () => a.catalog.gatewaysOf('cluster-b')[0]);
      await waitFor('the link up', () => (seen.some(([, s]) => s === 'connected') ? true : undefined));
      assert.equal(liveness.stateOf(gatewayB).condition, 'up');

      await b.peers.close();
      const down = await waitFor('link-down', () => {
        const state = liveness.stateOf(gatewayB);
        return state.condition === 'link-down' ? state : undefined;
      });
      assert.ok(down.reason.length > 0, 'with the link\'s last error');
      assert.ok(down.changedAtMs > 0);

      assert.deepEqual(seen.slice(0, 2), [['cluster-b', 'connected'], ['cluster-b', 'disconnected']]);
    } finally {
      off();
    }
  });
});
