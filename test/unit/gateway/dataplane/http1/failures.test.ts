import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { OutboundProxy, type OutboundProxyOptions } from '../../../../../gateway/dataplane/outbound-proxy.js';
import { TunnelClient } from '../../../../../gateway/dataplane/tunnel-client.js';
import { RawConnection } from '../../../../helpers/http1-raw.js';
import { waitFor } from '../../../../helpers/wait-for.js';
import { endpointOf, makeWorld, publishInB, type World } from '../sides.js';
import { startRawBackend, type RawBackend } from './raw-backend.js';

/**
 * Failures mid-exchange (issue 7): the caller hangs up, the backend hangs up, the remote
 * gateway dies, the backend never answers. Each ends in a clean reset or a 502/504 with a
 * CW_* code, and afterwards nothing is left open anywhere: caller connections, pooled
 * upstream connections at A and B, CONNECT streams at B, sockets at the backend.
 */

const CLIENT = 'spiffe://a.test/ns/demo/sa/client';
/** Pooled connections are let go quickly, so that "nothing leaks" can wait for zero. */
const POOL = { idleTimeoutMs: 200 };

/** `raw.demo` lives in B (through the east-west listener); `rawlocal.demo` is A's own endpoint. */
const SERVICES = [['remote', 'raw.demo'], ['local', 'rawlocal.demo']] as const;

function request(service: string, path: string, id: string): string {
  return `GET http://${service}:8080${path} HTTP/1.1\r\nHost: ${service}:8080\r\nx-request-id: ${id}\r\n\r\n`;
}

interface Proxy {
  proxy: OutboundProxy;
  address: AddressInfo;
}

async function startProxy(world: World, tunnels: TunnelClient, extra: Partial<OutboundProxyOptions>): Promise<Proxy> {
  const proxy = new OutboundProxy({
    catalog: world.a.catalog, tunnels, locality: world.a.locality, callerIdentity: () => CLIENT, connectTimeoutMs: 2000, pool: POOL, ...extra,
  });
  return { proxy, address: await proxy.listen('127.0.0.1', 0) };
}

/** Everything drained: no caller connection, no pooled connection, no stream, no backend socket. */
async function nothingLeaks(world: World, proxies: OutboundProxy[], backend: RawBackend): Promise<void> {
  const counts = (): Record<string, number> => ({
    callerConnections: proxies.reduce((n, p) => n + p.connectionCount(), 0),
    poolA: proxies.reduce((n, p) => n + p.poolStats().open, 0),
    streamsB: world.eastWestB.stats().activeTunnels,
    poolB: world.eastWestB.poolStats().open,
    backendSockets: backend.open.size,
  });
  try {
    await waitFor('every connection and stream closed', () => (Object.values(counts()).every((n) => n === 0) ? true : undefined), 10_000);
  } catch (err) {
    assert.fail(`${(err as Error).message}: ${JSON.stringify(counts())}`);
  }
}

describe('HTTP/1.1 failures mid-exchange, and nothing leaks after them', () => {
  let world: World;
  let tunnels: TunnelClient;
  let backend: RawBackend;
  /** Gives up on a silent upstream after 500 ms, before B does. */
  let fast: Proxy;
  /** Waits longer than B: B's own idle timeout answers first. */
  let patient: Proxy;

  before(async () => {
    world = await makeWorld({ eastWest: { pool: POOL, idleTimeoutMs: 3000 } });
    tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    backend = await startRawBackend();
    publishInB(world, 'raw', [endpointOf(backend.port)]);
    world.a.putLocal('rawlocal', [endpointOf(backend.port)]);
    fast = await startProxy(world, tunnels, { idleTimeoutMs: 500 });
    patient = await startProxy(world, tunnels, { idleTimeoutMs: 20_000 });
  });

  after(async () => {
    await fast?.proxy.close();
    await patient?.proxy.close();
    await tunnels?.close();
    await backend?.close();
    await world?.close();
  });

  beforeEach(() => {
    world.rulesB.splice(0, world.rulesB.length, { to: '*', from: ['spiffe://a.test/ns/demo/*'] });
  });

  for (const [where, service] of SERVICES) {
    it(`${where}: the caller hangs up mid-response; the upstream side is torn down`, async () => {
      const conn = await RawConnection.open(fast.address.port);
      // A kept-alive connection first, so the failure happens on a reused upstream connection.
      conn.write(request(service, '/ok', 'first'));
      assert.equal((await conn.readResponse()).status, 200);
      const before = backend.accepted;
      conn.write(request(service, '/stream', 'streamed'));
      await waitFor('bytes of the streamed answer', () => (conn.unread().length > 200_000 ? true : undefined));
      conn.destroy();
      await nothingLeaks(world, [fast.proxy, patient.proxy], backend);
      assert.ok(backend.accepted - before <= 1);
    });

    it(`${where}: the backend hangs up mid-response; the caller's connection is cut, not left waiting`, async () => {
      const conn = await RawConnection.open(fast.address.port);
      try {
        conn.write(request(service, '/half', 'half'));
        await assert.rejects(conn.readResponse(), /connection ended before a whole response/);
        const got = conn.unread().toString('latin1');
        assert.match(got, /^HTTP\/1\.1 200 /, 'the head was already passed on');
        assert.ok(got.length < 100_000, 'the answer is short of its Content-Length: the caller can tell');
      } finally {
        conn.destroy();
      }
      await nothingLeaks(world, [fast.proxy, patient.proxy], backend);
    });

    it(`${where}: the backend accepts and never answers; A's idle timeout answers 504 CW_UPSTREAM_TIMEOUT`, async () => {
      const conn = await RawConnection.open(fast.address.port);
      try {
        const started = Date.now();
        conn.write(request(service, '/hold', 'held'));
        const reply = await conn.readResponse({ timeoutMs: 15_000 });
        assert.equal(reply.status, 504);
        assert.equal(reply.headers['causeway-error'], 'CW_UPSTREAM_TIMEOUT');
        assert.ok(Date.now() - started < 2900, `answered after ${Date.now() - started} ms: A's 500 ms, not B's 3 s`);
        assert.equal(await conn.endsWithin(5000), true, 'the connection is closed after a gateway error');
      } finally {
        conn.destroy();
      }
      await nothingLeaks(world, [fast.proxy, patient.proxy], backend);
    });
  }

  it('remote: the backend never answers and B\'s idle timeout fires first: the caller gets B\'s 504 CW_UPSTREAM_TIMEOUT', async () => {
    const conn = await RawConnection.open(patient.address.port);
    try {
      conn.write(request('raw.demo', '/hold', 'held-at-b'));
      const reply = await conn.readResponse({ timeoutMs: 15_000 });
      assert.equal(reply.status, 504);
      assert.equal(reply.headers['causeway-error'], 'CW_UPSTREAM_TIMEOUT');
    } finally {
      conn.destroy();
    }
    await nothingLeaks(world, [fast.proxy, patient.proxy], backend);
  });
});

describe('HTTP/1.1 when the remote gateway dies mid-request', () => {
  for (const reused of [false, true]) {
    it(`answers 502 with a CW_* code on a ${reused ? 'reused' : 'fresh'} stream, and leaves nothing open`, async () => {
      const world = await makeWorld({ eastWest: { pool: POOL } });
      const tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
      const backend = await startRawBackend();
      let proxy: Proxy | undefined;
      try {
        world.rulesB.push({ to: '*', from: ['spiffe://a.test/ns/demo/*'] });
        publishInB(world, 'raw', [endpointOf(backend.port)]);
        proxy = await startProxy(world, tunnels, { idleTimeoutMs: 20_000 });
        const conn = await RawConnection.open(proxy.address.port);
        try {
          if (reused) {
            conn.write(request('raw.demo', '/ok', 'first'));
            assert.equal((await conn.readResponse()).status, 200);
          }
          const held = backend.requestLines.length;
          conn.write(request('raw.demo', '/hold', 'dies'));
          await waitFor('the request at the backend', () => (backend.requestLines.length > held ? true : undefined));
          await world.eastWestB.close(0);
          const reply = await conn.readResponse({ timeoutMs: 15_000 });
          assert.equal(reply.status, 502);
          assert.match(reply.headers['causeway-error'] ?? '', /^CW_UPSTREAM_(BROKEN|CONNECT)$/);
          if (reused) {
            // The reused stream broke before any answer, so the GET was retried once on a fresh
            // stream, which B (gone) refused: a refusal of a bodiless request, answered without
            // Connection: close, and the connection really stays usable (regression: it was cut
            // right after such an answer, and the caller's next request met a closed socket).
            assert.equal(reply.headers.connection, undefined);
            conn.write(request('raw.demo', '/ok', 'after'));
            assert.equal((await conn.readResponse()).status, 502);
            assert.equal(conn.peerEnded, false);
          } else {
            assert.equal(reply.headers.connection, 'close');
            assert.equal(await conn.endsWithin(5000), true);
          }
        } finally {
          conn.destroy();
        }
        await waitFor('A drained', () => (proxy!.proxy.connectionCount() === 0 && proxy!.proxy.poolStats().open === 0 ? true : undefined), 10_000);
        await waitFor('the backend socket closed', () => (backend.open.size === 0 ? true : undefined), 10_000);
      } finally {
        await proxy?.proxy.close();
        await tunnels.close();
        await backend.close();
        await world.close();
      }
    });
  }
});
