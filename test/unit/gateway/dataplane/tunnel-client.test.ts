import assert from 'node:assert/strict';
import dns from 'node:dns';
import { after, before, describe, it } from 'node:test';
import { TrustStore } from '../../../../federation/index.js';
import { TunnelClient, TunnelError, type TunnelEvent } from '../../../../gateway/dataplane/tunnel-client.js';
import { waitFor } from '../../../helpers/wait-for.js';
import { endpointOf, makeWorld, publishInB, type World } from './sides.js';

const CLIENT = 'spiffe://a.test/ns/demo/sa/client';

async function openFailure(promise: Promise<unknown>): Promise<TunnelError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof TunnelError, `expected a TunnelError, got ${String(err)}`);
  return err;
}

describe('TunnelClient', () => {
  let world: World;

  before(async () => {
    world = await makeWorld();
    world.rulesB.push({ to: '*', from: ['spiffe://a.test/*'] });
    publishInB(world, 'tcpecho', [endpointOf(world.echoPort)]);
  });

  after(async () => {
    await world?.close();
  });

  it('carries many tunnels over one session per gateway', async () => {
    const tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    try {
      const before = world.eastWestB.recentConnections().length;
      const opened = await Promise.all([1, 2, 3].map(() => tunnels.open(world.gatewayB, 'tcpecho.demo:8080', CLIENT)));
      assert.equal(tunnels.sessionCount(), 1);
      assert.equal(world.eastWestB.recentConnections().length, before + 1);
      for (const { stream } of opened) stream.destroy();
    } finally {
      await tunnels.close();
    }
  });

  it('after an SVID rotation, new tunnels use a new session with the new certificate while open ones keep working', async () => {
    const tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    try {
      const first = await tunnels.open(world.gatewayB, 'tcpecho.demo:8080', CLIENT);
      const oldFingerprint = world.eastWestB.recentConnections().at(-1)?.peer?.fingerprint;
      await world.a.svid.rotateNow();
      const second = await tunnels.open(world.gatewayB, 'tcpecho.demo:8080', CLIENT);
      const newFingerprint = world.eastWestB.recentConnections().at(-1)?.peer?.fingerprint;
      assert.ok(oldFingerprint !== undefined && newFingerprint !== undefined);
      assert.notEqual(newFingerprint, oldFingerprint);
      // The first tunnel, on the draining session, still carries bytes.
      const echoed = new Promise<string>((resolve) => {
        let text = '';
        first.stream.on('data', (c: Buffer) => (text += c.toString()));
        first.stream.on('end', () => resolve(text));
      });
      first.stream.end('still here');
      assert.equal(await echoed, 'still herebye');
      second.stream.destroy();
    } finally {
      await tunnels.close();
    }
  });

  it('refuses a gateway whose certificate does not carry the expected SPIFFE ID (no answer: status undefined)', async () => {
    const tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    try {
      const impostor = { ...world.gatewayB, identity: 'spiffe://b.test/gateway/someone-else' };
      const err = await openFailure(tunnels.open(impostor, 'tcpecho.demo:8080', CLIENT));
      assert.equal(err.code, 'CW_UPSTREAM_CONNECT');
      assert.equal(err.status, undefined);
      assert.equal(tunnels.sessionCount(), 0);
    } finally {
      await tunnels.close();
    }
  });

  it('refuses to dial a gateway of a trust domain it holds no bundle for', async () => {
    const onlyA = new TrustStore();
    onlyA.set(world.a.ca.bundle());
    const tunnels = new TunnelClient({ svid: world.a.svid, trust: onlyA });
    try {
      const err = await openFailure(tunnels.open(world.gatewayB, 'tcpecho.demo:8080', CLIENT));
      assert.equal(err.code, 'CW_UPSTREAM_CONNECT');
      assert.match(err.message, /b\.test/);
    } finally {
      await tunnels.close();
    }
  });

  it('never resolves a gateway address that is a name, and reports a dead address as a connect failure', async () => {
    const tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust, connectTimeoutMs: 2000 });
    const lookups: string[] = [];
    const original = dns.lookup;
    dns.lookup = ((hostname: string, ...rest: unknown[]) => {
      lookups.push(hostname);
      return (original as (...args: unknown[]) => void)(hostname, ...rest);
    }) as typeof dns.lookup;
    try {
      const named = await openFailure(tunnels.open({ ...world.gatewayB, eastWestAddress: 'gw-b.example.org:15443' }, 'tcpecho.demo:8080', CLIENT));
      assert.match(named.message, /not an IP address/);
      const dead = await openFailure(tunnels.open({ ...world.gatewayB, eastWestAddress: `127.0.0.1:${world.deadPort}` }, 'tcpecho.demo:8080', CLIENT));
      assert.equal(dead.code, 'CW_UPSTREAM_CONNECT');
      assert.equal(dead.status, undefined);
      assert.deepEqual(lookups, []);
    } finally {
      dns.lookup = original;
      await tunnels.close();
    }
  });

  it('reports a gateway dead when it cannot be dialed (refused, wrong certificate) and up when a session answers PING', async () => {
    const events: TunnelEvent[] = [];
    const tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust, connectTimeoutMs: 2000 });
    tunnels.onEvent((event) => events.push(event));
    try {
      const refused = { ...world.gatewayB, eastWestAddress: `127.0.0.1:${world.deadPort}` };
      await openFailure(tunnels.open(refused, 'tcpecho.demo:8080', CLIENT));
      const impostor = { ...world.gatewayB, identity: 'spiffe://b.test/gateway/someone-else' };
      await openFailure(tunnels.open(impostor, 'tcpecho.demo:8080', CLIENT));
      await waitFor('both reports', () => (events.length >= 2 ? true : undefined));
      assert.deepEqual(events.map((e) => [e.type, e.gateway.eastWestAddress, e.gateway.identity]), [
        ['dead', refused.eastWestAddress, refused.identity],
        ['dead', impostor.eastWestAddress, impostor.identity],
      ]);
      const [first, second] = events as Array<Extract<TunnelEvent, { type: 'dead' }>>;
      assert.match(first!.reason, /^cannot dial .*ECONNREFUSED/);
      assert.match(second!.reason, /^cannot dial .*someone-else/);
      // Not the gateway's fault: a bad address or a missing bundle reports nothing.
      await openFailure(tunnels.open({ ...world.gatewayB, eastWestAddress: 'gw-b.example.org:15443' }, 'tcpecho.demo:8080', CLIENT));
      const { stream } = await tunnels.open(world.gatewayB, 'tcpecho.demo:8080', CLIENT);
      await waitFor('the first PING answer', () => (events.length === 3 ? true : undefined));
      assert.deepEqual([events[2]?.type, events[2]?.gateway.identity], ['up', world.gatewayB.identity]);
      stream.destroy();
    } finally {
      await tunnels.close();
    }
  });

  it('rejects an open whose caller went away with CW_CLOSED, without dialing when it left before', async () => {
    const tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    try {
      const gone = await openFailure(tunnels.open(world.gatewayB, 'tcpecho.demo:8080', CLIENT, { signal: AbortSignal.abort() }));
      assert.equal(gone.code, 'CW_CLOSED');
      assert.equal(tunnels.sessionCount(), 0, 'nothing was dialed');
      const abort = new AbortController();
      const pending = tunnels.open(world.gatewayB, 'tcpecho.demo:8080', CLIENT, { signal: abort.signal });
      abort.abort();
      const left = await openFailure(pending);
      assert.equal(left.code, 'CW_CLOSED');
      assert.match(left.message, /the caller went away/);
      assert.equal(tunnels.stats().resetsSent <= 1, true, 'abandoned by END_STREAM; the 200 that follows is cancelled within the budget');
    } finally {
      await tunnels.close();
    }
  });

  it('closes idempotently; open after close fails with CW_CLOSED', async () => {
    const tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    const { stream } = await tunnels.open(world.gatewayB, 'tcpecho.demo:8080', CLIENT);
    const closed = new Promise((resolve) => stream.once('close', resolve));
    await Promise.all([tunnels.close(100), tunnels.close(100)]);
    await closed;
    assert.equal(tunnels.sessionCount(), 0);
    const err = await openFailure(tunnels.open(world.gatewayB, 'tcpecho.demo:8080', CLIENT));
    assert.equal(err.code, 'CW_CLOSED');
  });
});
