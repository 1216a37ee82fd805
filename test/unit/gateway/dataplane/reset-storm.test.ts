import assert from 'node:assert/strict';
import { constants as h2, type ClientHttp2Stream } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { SvidRotator } from '../../../../federation/index.js';
import { RESET_BURST, RESETS_PER_SECOND } from '../../../../gateway/dataplane/reset-budget.js';
import { TunnelClient } from '../../../../gateway/dataplane/tunnel-client.js';
import { echoThrough, endpointOf, makeWorld, publishInB, type World } from './sides.js';

const CLIENT = 'spiffe://a.test/ns/demo/sa/client';

/**
 * GOAWAY error codes (RFC 9113 §6.8) other than NO_ERROR the session of `stream` receives. A
 * GOAWAY(NO_ERROR) is the peer's answer to our own graceful retirement of the session.
 */
function goawaysOf(stream: ClientHttp2Stream): number[] {
  const codes: number[] = [];
  stream.session?.on('goaway', (code: number) => {
    if (code !== h2.NGHTTP2_NO_ERROR) codes.push(code);
  });
  return codes;
}

/**
 * Our east-west server is a Node http2 server: nghttp2 ends a session whose client sends more
 * than 1000 RST_STREAM frames (+33/s) with GOAWAY(INTERNAL_ERROR) — the "rapid reset"
 * protection (CVE-2023-44487). Issue 9 measured what crossing it costs: a healthy gateway C
 * closed A's whole session. These tests cancel thousands of streams on one session.
 */
describe('No stream-reset storms toward a healthy peer', () => {
  let world: World;

  before(async () => {
    world = await makeWorld();
    world.rulesB.push({ to: '*', from: ['spiffe://a.test/*'] });
    publishInB(world, 'tcpecho', [endpointOf(world.echoPort)]);
  });

  after(async () => {
    await world?.close();
  });

  it('2000 cancels in a burst stay inside the reset budget; the session and its other streams live on', async () => {
    const tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    try {
      const bystander = await tunnels.open(world.gatewayB, 'tcpecho.demo:8080', CLIENT);
      const goaways = goawaysOf(bystander.stream);
      const started = Date.now();
      for (let wave = 0; wave < 10; wave++) {
        const opened = await Promise.all(Array.from({ length: 200 }, () => tunnels.open(world.gatewayB, 'tcpecho.demo:8080', CLIENT)));
        for (const { stream } of opened) tunnels.cancel(stream);
      }
      const seconds = (Date.now() - started) / 1000;
      const stats = tunnels.stats();
      // A deferred cancel may still be reset later, when the budget has a token again.
      assert.ok(stats.resetsSent + stats.resetsDeferred >= 2000, JSON.stringify(stats));
      // Per session at most the burst plus the refill; new streams moved to a fresh session first.
      assert.ok(stats.resetsDeferred > 0, 'past the budget, cancels end our side instead');
      assert.ok(stats.sessionsRotated >= 1, 'a session low on budget stops taking new streams');
      assert.ok(stats.resetsSent <= (stats.sessionsRotated + 1) * (RESET_BURST + RESETS_PER_SECOND * (seconds + 1)), JSON.stringify(stats));
      assert.deepEqual(goaways, [], 'B never ended the session with an error');
      // Regression: Node sends no PING on a session after close(); a retired session must not be taken for dead.
      assert.equal(stats.sessionsDead, 0);
      assert.equal(await echoThrough(bystander.stream, 'still here'), 'still herebye', 'the stream opened before the storm still works');
      const after = await tunnels.open(world.gatewayB, 'tcpecho.demo:8080', CLIENT);
      assert.equal(await echoThrough(after.stream, 'and new ones'), 'and new onesbye');
    } finally {
      await tunnels.close(200);
    }
  });

  it('1500 CONNECTs abandoned before their answer (callers gone) cost no reset storm; the session lives on', async () => {
    const tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    try {
      const bystander = await tunnels.open(world.gatewayB, 'tcpecho.demo:8080', CLIENT);
      const goaways = goawaysOf(bystander.stream);
      const attempts = Array.from({ length: 1500 }, () => {
        const abort = new AbortController();
        const opened = tunnels.open(world.gatewayB, 'tcpecho.demo:8080', CLIENT, { signal: abort.signal });
        abort.abort();
        return opened.then(() => 'opened', (err: unknown) => (err as { code?: string }).code);
      });
      assert.deepEqual(new Set(await Promise.all(attempts)), new Set(['CW_CLOSED']));
      // Their answers arrive and are thrown away; each stream ends by itself or within the budget.
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(goaways, []);
      assert.equal(await echoThrough(bystander.stream, 'alive'), 'alivebye');
      assert.ok(tunnels.stats().resetsSent <= 2 * RESET_BURST, JSON.stringify(tunnels.stats()));
      assert.equal(tunnels.stats().sessionsDead, 0);
    } finally {
      await tunnels.close(200);
    }
  });

  it('keeps rapid-reset protection for workload peers: a raw burst of resets ends that session', async () => {
    const workload = new SvidRotator({ ca: world.a.ca, spiffeId: CLIENT, ttlSeconds: 3600 });
    const tunnels = new TunnelClient({ svid: workload, trust: world.a.trust });
    try {
      const bystander = await tunnels.open(world.gatewayB, 'tcpecho.demo:8080', undefined);
      const broken = new Promise<Error>((resolve) => bystander.stream.once('error', resolve));
      const goaways = goawaysOf(bystander.stream);
      for (let i = 0; i < 1100 && goaways.length === 0; i++) {
        const stream = tunnels.request(world.gatewayB, { ':method': 'CONNECT', ':authority': 'tcpecho.demo:8080' });
        stream.on('error', () => {});
        await new Promise((resolve) => setImmediate(resolve));
        // Deliberately the raw reset, not tunnels.cancel(): what a misbehaving client sends.
        stream.close(h2.NGHTTP2_CANCEL);
      }
      // nghttp2 queues GOAWAY(INTERNAL_ERROR) (RFC 9113 §7) and stops reading the session: the
      // client hears the GOAWAY, or its PING goes unanswered — either way the session is over.
      const err = await broken;
      assert.match(err.message, /error code 2\b|no PING answer/);
      assert.ok(goaways.every((code) => code === h2.NGHTTP2_INTERNAL_ERROR), String(goaways));
    } finally {
      await tunnels.close(200);
      workload.close();
    }
  });
});
