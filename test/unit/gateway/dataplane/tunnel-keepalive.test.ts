import assert from 'node:assert/strict';
import type { ClientHttp2Stream } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { decodeBundle, encodeBundle } from '../../../../federation/index.js';
import { GatewayLiveness } from '../../../../gateway/dataplane/gateway-liveness.js';
import { GatewayProber } from '../../../../gateway/dataplane/gateway-prober.js';
import { OutlierTracker } from '../../../../gateway/dataplane/outlier-tracker.js';
import { TunnelClient, TunnelError, type TunnelEvent } from '../../../../gateway/dataplane/tunnel-client.js';
import { waitFor } from '../../../helpers/wait-for.js';
import { startRemoteGateway, type RemoteGatewayProcess } from './eastwest-process.js';
import { echoThrough, makeWorld, type World } from './sides.js';

const CLIENT = 'spiffe://a.test/ns/demo/sa/client';

function failureOf(stream: ClientHttp2Stream): Promise<Error> {
  return new Promise((resolve) => stream.once('error', resolve));
}

describe('Tunnel sessions kept honest by PING (a remote gateway frozen with SIGSTOP)', () => {
  let world: World;
  let remote: RemoteGatewayProcess;

  before(async () => {
    world = await makeWorld();
    remote = await startRemoteGateway({ dir: `${world.tmp}/frozen`, peerTrustDomain: world.a.trustDomain, peerBundle: encodeBundle(world.a.ca.bundle()) });
    world.a.trust.set(decodeBundle(remote.trustDomain, remote.bundle));
  });

  after(async () => {
    await remote?.stop();
    await world?.close();
  });

  it('declares the session dead within about pingTimeout, fails its streams with the PING reason, and a probe brings the gateway back after SIGCONT', async (t) => {
    const events: TunnelEvent[] = [];
    const tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust, connectTimeoutMs: 1000 });
    const liveness = new GatewayLiveness();
    const outliers = new OutlierTracker();
    tunnels.onEvent((event) => {
      events.push(event);
      liveness.observe(event);
    });
    const prober = new GatewayProber({ probes: tunnels, liveness, outliers });
    prober.start();
    try {
      const first = await tunnels.open(remote.gateway, 'tcpecho.demo:8080', CLIENT);
      assert.equal(await echoThrough(first.stream, 'before'), 'beforebye');
      await waitFor('the session to answer its first PING', () => (events.some((e) => e.type === 'up') ? true : undefined));
      // A tunnel that stays open across the freeze, and a CONNECT sent into the frozen peer.
      const held = await tunnels.open(remote.gateway, 'tcpecho.demo:8080', CLIENT);
      const heldFailure = failureOf(held.stream);

      remote.freeze();
      const frozenAt = Date.now();
      const pending = tunnels.open(remote.gateway, 'tcpecho.demo:8080', CLIENT).then(() => undefined, (err: unknown) => err);
      const err = await heldFailure;
      const detectedMs = Date.now() - frozenAt;
      assert.match(err.message, /no PING answer from spiffe:\/\/f\.test\/gateway\/gw-f \(127\.0\.0\.1:\d+\) within 750 ms/);
      // Interval 250 ms + timeout 750 ms (the defaults); the bound only catches a hang (targets are the benchmark's).
      assert.ok(detectedMs < 5000, `detected after ${detectedMs} ms`);
      const refused = await pending;
      assert.ok(refused instanceof TunnelError, String(refused));
      assert.match(refused.message, /no PING answer from .* within 750 ms/);
      assert.equal(refused.status, undefined, 'no answer: counts against the gateway');
      const dead = liveness.stateOf(remote.gateway);
      assert.equal(dead.condition, 'dead');
      assert.match(dead.reason, /no PING answer/);

      // While frozen the prober's fresh sessions cannot finish their handshake.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(liveness.stateOf(remote.gateway).condition, 'dead');
      const thawedAt = Date.now();
      remote.thaw();
      const up = await waitFor('the prober to bring the gateway back', () => {
        const state = liveness.stateOf(remote.gateway);
        return state.condition === 'up' ? state : undefined;
      }, 15_000);
      assert.ok(up.changedAtMs >= thawedAt - 1000, 'changedAtMs is when it came back (the failback delay counts from it)');
      t.diagnostic(`dead ${detectedMs} ms after SIGSTOP; up ${up.changedAtMs - thawedAt} ms after SIGCONT`);
      const again = await tunnels.open(remote.gateway, 'tcpecho.demo:8080', CLIENT);
      assert.equal(await echoThrough(again.stream, 'after'), 'afterbye');
    } finally {
      remote.thaw();
      prober.close();
      await tunnels.close(100);
    }
  });
});
