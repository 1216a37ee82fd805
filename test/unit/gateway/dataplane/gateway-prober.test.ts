import assert from 'node:assert/strict';
import { constants as h2 } from 'node:http2';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { GatewayRecord } from '../../../../registry/index.js';
import { SvidRotator } from '../../../../federation/index.js';
import { EastWestServer } from '../../../../gateway/dataplane/eastwest-server.js';
import { GatewayLiveness } from '../../../../gateway/dataplane/gateway-liveness.js';
import { GatewayProber } from '../../../../gateway/dataplane/gateway-prober.js';
import { OutlierTracker, outlierKey } from '../../../../gateway/dataplane/outlier-tracker.js';
import { CAUSEWAY_PROBE } from '../../../../gateway/dataplane/probe.js';
import { TunnelClient } from '../../../../gateway/dataplane/tunnel-client.js';
import type { CompiledOutlierDetection } from '../../../../gateway/policy/policy-set.js';
import { waitFor } from '../../../helpers/wait-for.js';
import { endpointOf, freePort, makeWorld, publishInB, type World } from './sides.js';

const WORKLOAD = 'spiffe://a.test/ns/demo/sa/client';

async function listenOn(port: number): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

describe('Probes: the east-west answer, dead gateways and ejected services brought back', () => {
  let world: World;
  let refusingPort: number;

  before(async () => {
    world = await makeWorld();
    // No access rule at all: a.test may call nothing in b.test — probes need none.
    world.rulesB.splice(0);
    refusingPort = await freePort();
    publishInB(world, 'tcpecho', [endpointOf(world.echoPort)]);
    publishInB(world, 'refusing', [endpointOf(refusingPort), endpointOf(world.deadPort)]);
    publishInB(world, 'down', [endpointOf(world.echoPort, { health: 'unhealthy' })]);
    publishInB(world, 'hidden', [endpointOf(world.echoPort)], { exported: false });
  });

  after(async () => {
    await world?.close();
  });

  it('answers a gateway 200 when one healthy endpoint accepts, 503 with causeway-error otherwise, without consulting access policy', async () => {
    const tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    try {
      const reached = await tunnels.probeService(world.gatewayB, 'tcpecho.demo:8080');
      assert.deepEqual(reached, { ok: true, detail: `tcpecho.demo:8080 reached at 127.0.0.1:${world.echoPort}` });
      const cases: Array<[string, number, RegExp]> = [
        ['refusing.demo:8080', 503, /503 CW_UPSTREAM_CONNECT \(refusing\.demo:8080: no endpoint accepted a connection: .*ECONNREFUSED/],
        ['down.demo:8080', 503, /503 CW_NO_HEALTHY_ENDPOINT/],
        ['nothing.demo:8080', 404, /404 CW_SERVICE_UNKNOWN/],
        ['tcpecho.demo:9999', 404, /404 CW_SERVICE_UNKNOWN \(tcpecho\.demo has no port 9999\)/],
        // Not exported: invisible to another trust domain, probe or not.
        ['hidden.demo:8080', 404, /404 CW_SERVICE_UNKNOWN/],
        ['tcpecho:8080', 400, /400 CW_REQUEST_INVALID \(bad :authority/],
      ];
      for (const [authority, status, reason] of cases) {
        const outcome = await tunnels.probeService(world.gatewayB, authority);
        assert.equal(outcome.ok, false, authority);
        if (outcome.ok) continue;
        assert.deepEqual([outcome.reachable, outcome.status], [true, status], authority);
        assert.match(outcome.reason, reason);
      }
      // A probe with another value than 1 is malformed.
      const odd = tunnels.request(world.gatewayB, { ':method': 'CONNECT', ':authority': 'tcpecho.demo:8080', [CAUSEWAY_PROBE]: 'yes' });
      const oddStatus = await new Promise<number>((resolve) => odd.once('response', (headers) => resolve(Number(headers[':status']))));
      odd.resume();
      assert.equal(oddStatus, 400);
      assert.equal(tunnels.sessionCount(), 1, 'every probe on the one session, none of them reset it');
    } finally {
      await tunnels.close(100);
    }
  });

  it('answers a workload (not a gateway) 403', async () => {
    const workload = new SvidRotator({ ca: world.a.ca, spiffeId: WORKLOAD, ttlSeconds: 3600 });
    const tunnels = new TunnelClient({ svid: workload, trust: world.a.trust });
    try {
      // The workload dials B's listener with its own certificate (as an agent's sidecar would).
      const outcome = await tunnels.probeService(world.gatewayB, 'tcpecho.demo:8080');
      assert.equal(outcome.ok, false);
      if (!outcome.ok) {
        assert.equal(outcome.status, 403);
        assert.match(outcome.reason, /403 CW_ACCESS_DENIED \(spiffe:\/\/a\.test\/ns\/demo\/sa\/client is not a gateway; only gateways may probe\)/);
      }
    } finally {
      await tunnels.close(100);
      workload.close();
    }
  });

  it('a connect-refused gateway is dead, and comes back once a server listens on its port again', async () => {
    const port = await freePort();
    const gateway: GatewayRecord = { ...world.gatewayB, eastWestAddress: `127.0.0.1:${port}` };
    const tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust, connectTimeoutMs: 1000 });
    const liveness = new GatewayLiveness();
    tunnels.onEvent((event) => liveness.observe(event));
    const prober = new GatewayProber({ probes: tunnels, liveness, outliers: new OutlierTracker(), initialDelayMs: 100, maxDelayMs: 400 });
    prober.start();
    let revived: EastWestServer | undefined;
    try {
      await assert.rejects(tunnels.open(gateway, 'tcpecho.demo:8080', undefined), /ECONNREFUSED/);
      const dead = liveness.stateOf(gateway);
      assert.equal(dead.condition, 'dead');
      assert.match(dead.reason, /cannot dial .*ECONNREFUSED/);
      // Probes keep failing while nothing listens; the gateway stays dead (no timer brings it back).
      await new Promise((resolve) => setTimeout(resolve, 800));
      assert.equal(liveness.stateOf(gateway).condition, 'dead');
      revived = new EastWestServer({
        svid: world.b.svid, trust: world.b.trust, catalog: world.b.catalog, localTrustDomain: world.b.trustDomain, access: () => [],
      });
      await revived.listen('127.0.0.1', port);
      const up = await waitFor('the prober to find the gateway again', () => {
        const state = liveness.stateOf(gateway);
        return state.condition === 'up' ? state : undefined;
      });
      assert.ok(up.changedAtMs > 0);
    } finally {
      prober.close();
      await tunnels.close(100);
      await revived?.close(100);
    }
  });

  it('an ejected (gateway, service) stays out past its ejection time while probes fail (probed again soon, no doubling), and a successful probe brings it back', async () => {
    const detection: CompiledOutlierDetection = { consecutiveFailures: 2, ejectionMs: 200, maxEjectionMs: 10_000, maxEjectedPercent: 100 };
    const tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    const liveness = new GatewayLiveness();
    const outliers = new OutlierTracker();
    const prober = new GatewayProber({ probes: tunnels, liveness, outliers });
    prober.start();
    const refusing = outlierKey(world.gatewayB, 'refusing.demo', 8080);
    const echo = outlierKey(world.gatewayB, 'tcpecho.demo', 8080);
    let listener: Server | undefined;
    try {
      outliers.recordFailure(refusing, detection);
      outliers.recordFailure(refusing, detection);
      assert.equal(outliers.isEjected(refusing), true);
      assert.equal(outliers.isEjected(echo), false, 'the same gateway still carries its other services');
      const reejected = await waitFor('a failed probe to re-eject it', () => {
        const state = outliers.state(refusing);
        return state?.lastProbe !== undefined ? state : undefined;
      });
      assert.equal(reejected.lastProbe?.ok, false);
      assert.match(reejected.lastProbe?.detail ?? '', /503 CW_UPSTREAM_CONNECT/);
      assert.equal(reejected.ejections, 1, 'a failed probe is no relapse');
      assert.equal((reejected.ejectedUntil ?? 0) - (reejected.lastProbe?.atMs ?? 0), 200, 'due again after min(PROBE_RETRY_MS, ejectionTime), from the probe');
      assert.equal(outliers.isEjected(refusing), true);
      // The endpoint comes back; the next probe (not live traffic) restores the key.
      listener = await listenOn(refusingPort);
      const restored = await waitFor('a successful probe', () => (outliers.isEjected(refusing) ? undefined : outliers.state(refusing)));
      assert.equal(restored?.condition, 'ok');
      assert.equal(restored?.lastProbe?.ok, true);
      assert.match(restored?.lastProbe?.detail ?? '', new RegExp(`refusing\\.demo:8080 reached at 127\\.0\\.0\\.1:${refusingPort}`));
    } finally {
      prober.close();
      await tunnels.close(100);
      await new Promise<void>((resolve) => (listener === undefined ? resolve() : listener.close(() => resolve())));
    }
  });

  it('does not probe a service through a gateway that is dead, and forgets a gateway the catalog no longer lists', async () => {
    const tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    const liveness = new GatewayLiveness();
    const outliers = new OutlierTracker();
    const gone: GatewayRecord = { ...world.gatewayB, eastWestAddress: `127.0.0.1:${world.deadPort}` };
    let asked = 0;
    const probes = {
      probeGateway: async () => { asked += 1; return { ok: false as const, reachable: false, reason: 'refused' }; },
      probeService: async () => { asked += 1; return { ok: true as const, detail: 'reached' }; },
    };
    const prober = new GatewayProber({ probes, liveness, outliers, known: () => false, initialDelayMs: 50, maxDelayMs: 100 });
    try {
      const key = outlierKey(gone, 'tcpecho.demo', 8080);
      outliers.recordFailure(key, { consecutiveFailures: 1, ejectionMs: 10, maxEjectionMs: 10, maxEjectedPercent: 100 });
      liveness.markDead(gone, 'no PING answer');
      prober.start();
      await waitFor('the gateway to be forgotten', () => (liveness.stateOf(gone).condition === 'up' ? true : undefined));
      assert.equal(asked, 0, 'neither the gateway nor the service through it was probed');
      assert.equal(outliers.isEjected(key), false, 'its outlier state went with it');
    } finally {
      prober.close();
      await tunnels.close(100);
    }
  });

  it('a probe sent with END_STREAM is answered the same way: the stream ends without RST_STREAM', async () => {
    const tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    try {
      const stream = tunnels.request(world.gatewayB, { ':method': 'CONNECT', ':authority': 'tcpecho.demo:8080', [CAUSEWAY_PROBE]: '1' });
      stream.end();
      stream.resume();
      await new Promise((resolve) => stream.once('close', resolve));
      assert.equal(stream.rstCode, h2.NGHTTP2_NO_ERROR);
    } finally {
      await tunnels.close(100);
    }
  });
});
