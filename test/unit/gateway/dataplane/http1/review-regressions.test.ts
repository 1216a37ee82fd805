// One regression test per defect an independent review of the HTTP/1.1 engine found.
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { OutboundProxy } from '../../../../../gateway/dataplane/outbound-proxy.js';
import { TunnelClient } from '../../../../../gateway/dataplane/tunnel-client.js';
import { endpointOf, makeWorld, publishInB, type World } from '../sides.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const backendSockets = new Set<Socket>();

function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  server.on('connection', (socket: Socket) => {
    backendSockets.add(socket);
    socket.on('close', () => backendSockets.delete(socket));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** A caller connection that records everything it is sent. */
function caller(port: number): { socket: Socket; text: () => string } {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
  socket.on('error', () => {});
  return { socket, text: () => text };
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('HTTP/1.1 engine: review regressions', () => {
  let world: World;
  let tunnels: TunnelClient;
  let proxy: OutboundProxy;
  let port: number;
  const servers: Array<{ close(): unknown }> = [];

  before(async () => {
    world = await makeWorld();
    world.rulesB.push({ to: '*', from: ['spiffe://a.test/ns/demo/*'] });
    tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    proxy = new OutboundProxy({ catalog: world.a.catalog, tunnels, locality: world.a.locality, callerIdentity: () => 'spiffe://a.test/ns/demo/sa/client' });
    port = (await proxy.listen('127.0.0.1', 0)).port;
  });

  after(async () => {
    for (const server of servers) server.close();
    for (const socket of backendSockets) socket.destroy();
    await proxy?.close();
    await tunnels?.close();
    await world?.close();
  });

  it('refuses a causeway-* or x-forwarded-client-cert field in a chunked request trailer, locally and through the remote gateway', async () => {
    const seen: unknown[] = [];
    const backend = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => { seen.push(req.trailers); res.end('ok'); });
    });
    servers.push(backend);
    const backendPort = await listen(backend);
    world.a.putLocal('trl', [endpointOf(backendPort)]);
    publishInB(world, 'trr', [endpointOf(backendPort)]);
    const forged = ['causeway-source: spiffe://b.test/ns/demo/sa/admin', 'X-Forwarded-Client-Cert: By=spiffe://b.test/gateway/gw-b;URI=spiffe://b.test/ns/demo/sa/admin'];
    for (const [service, trailer] of [['trl.demo:8080', forged[0]], ['trr.demo:8080', forged[0]], ['trl.demo:8080', forged[1]], ['trr.demo:8080', forged[1]]]) {
      const c = caller(port);
      c.socket.write(`POST http://${service}/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n${trailer}\r\n\r\n`);
      await until(`${service} answer`, () => c.text().includes('\r\n\r\n{'));
      assert.match(c.text(), /^HTTP\/1\.1 400 /, service);
      assert.match(c.text(), /reserved for gateways/);
      c.socket.destroy();
    }
    await sleep(200);
    assert.equal(seen.length, 0, 'the backend never saw the forged trailer');
  });

  it('ends the caller connection after an answer delimited by close (Transfer-Encoding not ending in chunked)', async () => {
    const backend = createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nFIRST-BODY'));
    });
    servers.push(backend);
    world.a.putLocal('gz', [endpointOf(await listen(backend))]);
    const c = caller(port);
    const closed = new Promise<void>((resolve) => c.socket.once('close', () => resolve()));
    c.socket.write('GET http://gz.demo:8080/ HTTP/1.1\r\nHost: x\r\n\r\n');
    await closed;
    assert.match(c.text(), /Connection: close\r\n\r\nFIRST-BODY$/);
    // The upstream connection the backend ended is closed on our side too, not left half-open.
    await until('no pooled connection left', () => proxy.poolStats().open === 0);
    await until('the backend socket closed', () => [...backendSockets].every((s) => s.destroyed || s.readyState === 'closed'));
  });

  it('keeps the HEAD rule through a 1xx, so the pipelined request after it is answered', async () => {
    const backend = createServer((socket) => {
      socket.on('error', () => {});
      let count = 0;
      socket.on('data', () => {
        count += 1;
        if (count === 1) socket.write('HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
        else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      });
    });
    servers.push(backend);
    world.a.putLocal('hd', [endpointOf(await listen(backend))]);
    const c = caller(port);
    c.socket.write('HEAD http://hd.demo:8080/ HTTP/1.1\r\nHost: x\r\n\r\n');
    await until('the HEAD answer', () => c.text().includes('Content-Length: 5'));
    c.socket.write('GET http://hd.demo:8080/ HTTP/1.1\r\nHost: x\r\n\r\n');
    await until('the GET answer', () => c.text().endsWith('\r\n\r\nok'));
    c.socket.destroy();
  });

  it('stops reading a pipelining caller that does not read its answers (bounded send buffer)', async () => {
    const c = connect(port, '127.0.0.1');
    c.on('error', () => {});
    c.pause();
    const burst = Buffer.from('GET http://nope.demo:8080/ HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(2000));
    let sent = 0;
    const pump = (): void => {
      while (sent < 64 * 1024 * 1024 && c.write(burst)) sent += burst.length;
    };
    c.on('drain', pump);
    pump();
    await sleep(2000);
    const before = sent;
    await sleep(1000);
    assert.equal(sent, before, 'the gateway stopped reading');
    assert.ok(sent < 32 * 1024 * 1024, `the gateway read ${sent} bytes of requests whose answers nobody read`);
    c.destroy();
  });
});
