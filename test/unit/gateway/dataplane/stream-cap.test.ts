import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { endpointOf, makeWorld, publishInB, type World } from './sides.js';

const CLIENT = 'spiffe://a.test/ns/demo/sa/client';

function answered(stream: ClientHttp2Stream, withinMs: number): Promise<number | 'no answer'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('no answer'), withinMs);
    stream.once('response', (headers) => {
      clearTimeout(timer);
      resolve(Number(headers[':status']));
    });
  });
}

describe('east-west SETTINGS_MAX_CONCURRENT_STREAMS (limits.eastWest.maxConcurrentStreams)', () => {
  let world: World;
  let session: ClientHttp2Session;

  before(async () => {
    world = await makeWorld({ eastWest: { maxConcurrentStreams: 4, maxHeaderListSize: 8192 } });
    world.rulesB.push({ to: '*', from: ['spiffe://a.test/ns/demo/*'] });
    publishInB(world, 'tcpecho', [endpointOf(world.echoPort)]);
    const svid = world.a.svid.current();
    session = connect(`https://${world.gatewayB.eastWestAddress}`, {
      ca: world.b.ca.bundle().rootsPem[0]!, cert: svid.certChainPem, key: svid.keyPem,
      minVersion: 'TLSv1.3', checkServerIdentity: () => undefined,
    });
    await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
  });

  after(async () => {
    session?.destroy();
    await world?.close();
  });

  it('is advertised with the header list size, and a fifth tunnel waits until one of four closes', async () => {
    assert.equal(session.remoteSettings.maxConcurrentStreams, 4);
    assert.equal(session.remoteSettings.maxHeaderListSize, 8192);
    const open = (): ClientHttp2Stream => session.request({ ':method': 'CONNECT', ':authority': 'tcpecho.demo:8080', 'causeway-source': CLIENT }, { endStream: false });
    const first = Array.from({ length: 4 }, open);
    assert.deepEqual(await Promise.all(first.map((s) => answered(s, 10_000))), [200, 200, 200, 200]);
    const fifth = open();
    assert.equal(await answered(fifth, 500), 'no answer', 'a fifth concurrent stream must not be served');
    first[0]!.close();
    assert.equal(await answered(fifth, 10_000), 200);
    for (const s of [...first, fifth]) s.close();
    assert.equal(world.eastWestB.stats().refused.CW_REQUEST_INVALID ?? 0, 0);
  });
});

describe('outbound listener connection cap (limits.maxConnections)', () => {
  it('closes caller connections beyond the cap as they arrive, and serves again once one leaves', async () => {
    const { OutboundProxy } = await import('../../../../gateway/dataplane/outbound-proxy.js');
    const { Catalog } = await import('../../../../registry/index.js');
    const { connect } = await import('node:net');
    const catalog = new Catalog({ localCluster: 'a' });
    const proxy = new OutboundProxy({
      catalog, locality: { cloud: 'c', region: 'r', zone: 'z', cluster: 'a' }, maxConnections: 2,
      tunnels: { open: () => Promise.reject(new Error('unused')) },
    });
    const address = await proxy.listen('127.0.0.1', 0);
    const sockets: import('node:net').Socket[] = [];
    try {
      const closedEarly = (socket: import('node:net').Socket): Promise<boolean> => new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), 500);
        socket.once('close', () => { clearTimeout(timer); resolve(true); });
      });
      for (let i = 0; i < 3; i++) {
        const socket = connect(address.port, '127.0.0.1');
        socket.on('error', () => {});
        sockets.push(socket);
        await new Promise((resolve) => socket.once('connect', resolve));
      }
      assert.equal(await closedEarly(sockets[2]!), true, 'the third connection is closed');
      assert.equal(await closedEarly(sockets[0]!), false, 'the first two stay');
      sockets[0]!.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const again = connect(address.port, '127.0.0.1');
      sockets.push(again);
      again.write('GET http://nope.demo:80/ HTTP/1.1\r\nHost: nope.demo\r\n\r\n');
      again.on('error', () => {});
      const answer = await new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve('no answer'), 5000);
        again.once('data', (chunk: Buffer) => { clearTimeout(timer); resolve(chunk.toString()); });
        again.once('close', () => { clearTimeout(timer); resolve('closed'); });
      });
      assert.match(answer, /^HTTP\/1\.1 502 /);
    } finally {
      for (const socket of sockets) socket.destroy();
      await proxy.close();
    }
  });
});

describe('outbound listener: a caller that never says which protocol it speaks', () => {
  it('is closed at the headers timeout when silent, and at once when it half-closes', async () => {
    const { OutboundProxy } = await import('../../../../gateway/dataplane/outbound-proxy.js');
    const { Catalog } = await import('../../../../registry/index.js');
    const { connect } = await import('node:net');
    const proxy = new OutboundProxy({
      catalog: new Catalog({ localCluster: 'a' }), locality: { cloud: 'c', region: 'r', zone: 'z', cluster: 'a' }, headersTimeoutMs: 300,
      tunnels: { open: () => Promise.reject(new Error('unused')) },
    });
    const address = await proxy.listen('127.0.0.1', 0);
    try {
      const closedWithin = (ms: number, act: (s: import('node:net').Socket) => void): Promise<boolean> => new Promise((resolve) => {
        const socket = connect(address.port, '127.0.0.1');
        socket.on('error', () => {});
        const timer = setTimeout(() => { socket.destroy(); resolve(false); }, ms);
        socket.once('connect', () => act(socket));
        socket.once('close', () => { clearTimeout(timer); resolve(true); });
      });
      assert.equal(await closedWithin(5000, () => {}), true, 'a silent caller is closed');
      assert.equal(await closedWithin(5000, (s) => s.end()), true, 'a caller that half-closes is closed');
      assert.equal(proxy.connectionCount(), 0);
    } finally {
      await proxy.close();
    }
  });
});
