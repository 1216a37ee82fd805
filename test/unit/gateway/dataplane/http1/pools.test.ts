import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { OutboundProxy, type OutboundProxyOptions } from '../../../../../gateway/dataplane/outbound-proxy.js';
import { OutlierTracker, outlierKey } from '../../../../../gateway/dataplane/outlier-tracker.js';
import { TunnelClient } from '../../../../../gateway/dataplane/tunnel-client.js';
import { waitFor } from '../../../../helpers/wait-for.js';
import { endpointOf, makeWorld, publishInB, type World } from '../sides.js';
import { startRawBackend, type RawBackend } from './raw-backend.js';

/**
 * Keep-alive pools and per-request decisions on reused connections (issue 7): the connections
 * opened to a backend under load stay within `pool.maxPerKey` (counted where they are accepted),
 * a withdrawn access rule resets the streams it no longer allows and refuses the next request
 * on a kept-alive caller connection, and a 5xx answered on a reused stream still counts for
 * outlier detection.
 */

const CLIENT = 'spiffe://a.test/ns/demo/sa/client';
const MAX_A = 4;
const MAX_B = 3;

interface Reply {
  status: number;
  body: string;
  code: string | undefined;
  reused: boolean;
}

function get(proxy: AddressInfo, agent: Agent, service: string, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxy.port, agent, path: `http://${service}:8080${path}`, headers: { host: `${service}:8080` }, timeout: 20_000 });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${path}`)));
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, code: res.headers['causeway-error'] as string | undefined, reused: req.reusedSocket }));
    });
    req.end();
  });
}

describe('upstream pools and per-request decisions on reused connections', () => {
  let world: World;
  let tunnels: TunnelClient;
  /** Behind B (raw.demo) and A's own endpoint (rawlocal.demo), counted apart. */
  let backendB: RawBackend;
  let backendA: RawBackend;
  const proxies: OutboundProxy[] = [];

  async function startProxy(extra: Partial<OutboundProxyOptions> = {}): Promise<AddressInfo> {
    const proxy = new OutboundProxy({ catalog: world.a.catalog, tunnels, locality: world.a.locality, callerIdentity: () => CLIENT, connectTimeoutMs: 2000, ...extra });
    proxies.push(proxy);
    return proxy.listen('127.0.0.1', 0);
  }

  before(async () => {
    world = await makeWorld({ eastWest: { pool: { maxPerKey: MAX_B } } });
    tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    backendB = await startRawBackend();
    backendA = await startRawBackend();
    publishInB(world, 'raw', [endpointOf(backendB.port)]);
    world.a.putLocal('rawlocal', [endpointOf(backendA.port)]);
  });

  after(async () => {
    for (const proxy of proxies) await proxy.close();
    await tunnels?.close();
    await backendA?.close();
    await backendB?.close();
    await world?.close();
  });

  beforeEach(() => {
    world.rulesB.splice(0, world.rulesB.length, { to: '*', from: ['spiffe://a.test/ns/demo/*'] });
  });

  it(`opens at most pool.maxPerKey connections to each backend under 64 concurrent callers (A: ${MAX_A}, B: ${MAX_B})`, async () => {
    const address = await startProxy({ pool: { maxPerKey: MAX_A } });
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const streamsBefore = world.eastWestB.stats().tunnelsOpened;
    const wrong: string[] = [];
    let next = 0;
    const total = 2000;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const n = next++;
        const service = n % 2 === 0 ? 'raw.demo' : 'rawlocal.demo';
        const reply = await get(address, agent, service, `/n/${n}`);
        if (reply.status !== 200 || reply.body !== `seen GET /n/${n} HTTP/1.1`) wrong.push(`${n}: ${reply.status} ${reply.body.slice(0, 200)}`);
      }
    };
    try {
      await Promise.all(Array.from({ length: 64 }, worker));
    } finally {
      agent.destroy();
    }
    assert.deepEqual(wrong.slice(0, 5), []);
    assert.equal(backendB.requestLines.filter((l) => l.startsWith('GET /n/')).length, total / 2);
    assert.ok(backendB.accepted <= MAX_B, `B opened ${backendB.accepted} connections to its backend (limit ${MAX_B})`);
    assert.ok(backendA.accepted <= MAX_A, `A opened ${backendA.accepted} connections to its local backend (limit ${MAX_A})`);
    const streams = world.eastWestB.stats().tunnelsOpened - streamsBefore;
    assert.ok(streams <= MAX_A, `A opened ${streams} streams to B (limit ${MAX_A})`);
    // Pooled, not one per request: the limit was reached and reused.
    assert.ok(backendB.accepted >= 1 && streams >= 1);
  });

  it('resets the open streams a withdrawn rule no longer allows; the next request on the kept-alive caller connection is refused 403', async () => {
    const address = await startProxy();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(address, agent, 'raw.demo', '/before');
      assert.equal(first.status, 200);
      assert.ok(world.eastWestB.stats().activeTunnels >= 1);
      assert.equal(world.eastWestB.recheckAccess(), 0, 'nothing changed yet: nothing reset');

      world.rulesB.splice(0, world.rulesB.length, { to: 'other.demo', from: ['spiffe://a.test/ns/demo/*'] });
      assert.ok(world.eastWestB.recheckAccess() >= 1, 'the open stream was reset');
      await waitFor('B\'s streams closed', () => (world.eastWestB.stats().activeTunnels === 0 ? true : undefined));

      const seen = backendB.requestLines.length;
      const refused = await get(address, agent, 'raw.demo', '/after');
      assert.equal(refused.status, 403, refused.body);
      assert.equal(refused.code, 'CW_ACCESS_DENIED');
      assert.equal(refused.reused, true, 'asked on the same kept-alive caller connection');
      assert.equal(backendB.requestLines.length, seen, 'the backend saw nothing of it');

      // The caller's connection is still usable, and a restored rule serves it again.
      world.rulesB.splice(0, world.rulesB.length, { to: '*', from: ['spiffe://a.test/ns/demo/*'] });
      const again = await get(address, agent, 'raw.demo', '/restored');
      assert.deepEqual([again.status, again.reused], [200, true]);
    } finally {
      agent.destroy();
    }
  });

  it('counts a 5xx answered on a reused stream for outlier detection, each response on its own', async () => {
    // Default outlier detection: three in a row eject (gateway, service port).
    const outliers = new OutlierTracker();
    const address = await startProxy({ outliers });
    const key = outlierKey(world.gatewayB, 'raw.demo', 8080);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const failures = (): number => outliers.state(key)?.consecutiveFailures ?? 0;
    try {
      assert.equal((await get(address, agent, 'raw.demo', '/status/200')).status, 200);
      const streams = world.eastWestB.stats().tunnelsOpened;
      for (const expected of [1, 2]) {
        assert.equal((await get(address, agent, 'raw.demo', '/status/503')).status, 503);
        assert.equal(failures(), expected);
      }
      // A success on the same stream resets the count (Envoy's consecutive-5xx detector).
      assert.equal((await get(address, agent, 'raw.demo', '/status/200')).status, 200);
      assert.equal(failures(), 0);
      for (let i = 0; i < 3; i++) assert.equal((await get(address, agent, 'raw.demo', '/status/502')).status, 502);
      assert.equal(outliers.isEjected(key), true, 'three 5xx in a row eject B\'s gateway');
      assert.equal(world.eastWestB.stats().tunnelsOpened, streams, 'every one of them on the same pooled stream');
      // 4xx answers are the caller's problem, not the gateway's.
      outliers.forget(world.gatewayB);
      for (let i = 0; i < 3; i++) assert.equal((await get(address, agent, 'raw.demo', '/status/404')).status, 404);
      assert.equal(outliers.isEjected(key), false);
    } finally {
      agent.destroy();
    }
  });
});
