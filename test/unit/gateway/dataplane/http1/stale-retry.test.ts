import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Catalog } from '../../../../../registry/index.js';
import { OutboundProxy } from '../../../../../gateway/dataplane/outbound-proxy.js';
import { endpointOf } from '../sides.js';

/**
 * A backend that answers the first request on each connection, keeps it alive, then drops the
 * connection when a second request arrives on it — the stale keep-alive race, made certain.
 */
function flakyBackend(): Promise<{ port: number; seen: string[]; close(): void }> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let count = 0;
    socket.on('data', (chunk: Buffer) => {
      count += 1;
      seen.push(chunk.toString('latin1').split(' ')[0]!);
      if (count === 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else socket.destroy();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    port: (server.address() as AddressInfo).port, seen,
    close: () => { server.close(); for (const s of sockets) s.destroy(); },
  })));
}

function exchange(port: number, requests: string[]): Promise<string[]> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const answers: string[] = [];
    let buffer = '';
    const next = (): void => {
      const request = requests[answers.length];
      if (request === undefined) {
        socket.destroy();
        resolve(answers);
      } else socket.write(request);
    };
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      const end = buffer.indexOf('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(buffer)?.[1] ?? 0);
      if (end >= 0 && buffer.length >= end + 4 + length) {
        answers.push(buffer.slice(0, 12));
        buffer = '';
        next();
      }
    });
    socket.on('close', () => resolve(answers));
    socket.on('error', () => {});
    next();
  });
}

describe('a request that meets a stale pooled connection', () => {
  let backend: Awaited<ReturnType<typeof flakyBackend>>;
  let proxy: OutboundProxy;
  let port: number;

  before(async () => {
    backend = await flakyBackend();
    const catalog = new Catalog({ localCluster: 'a' });
    catalog.applyLocal({
      origin: 'a', name: 'flaky', namespace: 'demo', version: { origin: 'a', epoch: 1, seq: 1 }, deleted: false, exported: false,
      ports: [{ name: 'http', port: 8080, protocol: 'http' }], endpoints: [endpointOf(backend.port)],
    });
    proxy = new OutboundProxy({
      catalog, locality: { cloud: 'c', region: 'r', zone: 'z', cluster: 'a' }, pool: { maxPerKey: 1 },
      tunnels: { open: () => Promise.reject(new Error('unused')) },
    });
    port = (await proxy.listen('127.0.0.1', 0)).port;
  });

  after(async () => {
    await proxy?.close();
    backend?.close();
  });

  it('is sent once more on a fresh connection when it is an idempotent GET', async () => {
    const get = 'GET http://flaky.demo:8080/ HTTP/1.1\r\nHost: flaky.demo\r\n\r\n';
    assert.deepEqual(await exchange(port, [get, get]), ['HTTP/1.1 200', 'HTTP/1.1 200']);
    assert.deepEqual(backend.seen.splice(0), ['GET', 'GET', 'GET'], 'the second GET reached the backend twice: stale, then fresh');
  });

  it('is answered 502 CW_UPSTREAM_BROKEN, not sent again, when it is a POST', async () => {
    const get = 'GET http://flaky.demo:8080/ HTTP/1.1\r\nHost: flaky.demo\r\n\r\n';
    const post = 'POST http://flaky.demo:8080/ HTTP/1.1\r\nHost: flaky.demo\r\nContent-Length: 2\r\n\r\nhi';
    const answers = await exchange(port, [get, post]);
    assert.deepEqual(answers, ['HTTP/1.1 200', 'HTTP/1.1 502']);
    assert.equal(backend.seen.filter((m) => m === 'POST').length, 1, 'the POST was sent once');
  });
});

describe('pooled connections have a maximum lifetime', () => {
  it('a connection past its lifetime is not reused: the next request opens a new one', async () => {
    let accepted = 0;
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      accepted += 1;
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const backendPort = (server.address() as AddressInfo).port;
    const catalog = new Catalog({ localCluster: 'a' });
    catalog.applyLocal({
      origin: 'a', name: 'old', namespace: 'demo', version: { origin: 'a', epoch: 1, seq: 1 }, deleted: false, exported: false,
      ports: [{ name: 'http', port: 8080, protocol: 'http' }], endpoints: [endpointOf(backendPort)],
    });
    const proxy = new OutboundProxy({
      catalog, locality: { cloud: 'c', region: 'r', zone: 'z', cluster: 'a' }, pool: { maxLifetimeMs: 300 },
      tunnels: { open: () => Promise.reject(new Error('unused')) },
    });
    const port = (await proxy.listen('127.0.0.1', 0)).port;
    try {
      const get = 'GET http://old.demo:8080/ HTTP/1.1\r\nHost: old.demo\r\n\r\n';
      assert.deepEqual(await exchange(port, [get, get]), ['HTTP/1.1 200', 'HTTP/1.1 200']);
      assert.equal(accepted, 1, 'reused while young');
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.deepEqual(await exchange(port, [get]), ['HTTP/1.1 200']);
      assert.equal(accepted, 2, 'a new connection once the first was past its lifetime');
    } finally {
      await proxy.close();
      server.close();
      for (const s of sockets) s.destroy();
    }
  });
});
