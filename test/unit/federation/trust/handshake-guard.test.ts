import assert from 'node:assert/strict';
import path from 'node:path';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CertificateAuthority, MtlsServer, SvidRotator, TrustStore, sourceKey } from '../../../../federation/index.js';
import { makeTempDir } from '../../../helpers/paths.js';
import { waitFor } from '../../../helpers/wait-for.js';

function openIdle(port: number, count: number, localAddress: string): Promise<Socket[]> {
  return Promise.all(Array.from({ length: count }, () => new Promise<Socket>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    socket.on('connect', () => resolve(socket));
    socket.on('error', () => resolve(socket));
  })));
}

const live = (sockets: Socket[]): number => sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;

describe('handshake guard', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let svid: SvidRotator;
  let server: MtlsServer;
  let port = 0;
  const sockets: Socket[] = [];

  before(async () => {
    tmp = await makeTempDir('guard');
    const ca = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'ca'), trustDomain: 'a.test' });
    const trust = new TrustStore();
    trust.set(ca.bundle());
    svid = new SvidRotator({ ca, spiffeId: 'spiffe://a.test/gateway/server', ttlSeconds: 3600 });
    server = new MtlsServer({
      svid, trust, alpn: ['h2'], onConnection: () => undefined, handshakeTimeoutMs: 60_000,
      limits: { maxPendingHandshakes: 30, maxPendingHandshakesPerSource: 10, maxConnections: 25 },
    });
    port = (await server.listen('127.0.0.1', 0)).port;
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await server.close(100);
    svid.close();
    await tmp.remove();
  });

  it('caps pending handshakes per source, then in total, then all connections', async () => {
    const first = await openIdle(port, 20, '127.0.0.2');
    sockets.push(...first);
    await waitFor('per-source cap', () => (live(first) === 10 ? true : undefined), 5000);
    const second = await openIdle(port, 10, '127.0.0.3');
    sockets.push(...second);
    await waitFor('second source admitted', () => (server.pendingHandshakes() === 20 ? true : undefined), 5000);
    // 25 connections at most: of ten more from a third source only five are held.
    const third = await openIdle(port, 10, '127.0.0.4');
    sockets.push(...third);
    await waitFor('connection cap', () => (live(third) === 5 ? true : undefined), 5000);
    assert.equal(server.pendingHandshakes(), 25);
    assert.ok(server.refusals() >= 15, `refusals: ${server.refusals()}`);
    // Room frees up as connections go.
    for (const s of first) s.destroy();
    await waitFor('released', () => (server.pendingHandshakes() === 15 ? true : undefined), 5000);
  });

  it('counts IPv4-mapped addresses as IPv4 and IPv6 by /64', () => {
    assert.equal(sourceKey('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(sourceKey('10.1.2.3'), '10.1.2.3');
    assert.equal(sourceKey('2001:db8:0:1::5'), '2001:db8:0:1::/64');
    assert.equal(sourceKey('2001:0db8:0000:0001:ffff:1:2:3'), '2001:db8:0:1::/64');
    assert.equal(sourceKey('::1'), '0:0:0:0::/64');
    assert.equal(sourceKey(undefined), 'unknown');
  });
});
