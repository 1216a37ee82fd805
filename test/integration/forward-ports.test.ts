import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../registry/index.js';
import { Gateway, parseConfigText } from '../../gateway/index.js';
import { RawConnection } from '../helpers/http1-raw.js';
import { makeTempDir } from '../helpers/paths.js';
import { getJson, waitFor } from '../helpers/wait-for.js';

const LISTEN = '{ eastWest: "127.0.0.1:0", federation: "127.0.0.1:0", outbound: "127.0.0.1:0", admin: "127.0.0.1:0", identity: "127.0.0.1:0" }';
const CLIENT = 'spiffe://cluster-a.example.org/ns/demo/sa/client';

/** What the HTTP backend in B saw of a request. */
interface Seen { method: string; path: string; host: string; xfcc: string }

/**
 * Fixed local forward ports (outbound.forward): a client that knows nothing of proxies
 * connects to a port on A and reaches one service in B — an HTTP service served request by
 * request as if sent to it, a TCP service as bytes, and an unknown one refused by closing.
 */
describe('forward ports across two gateways', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let httpBackend: HttpServer;
  let tcpBackend: TcpServer;
  let a: Gateway | undefined;
  let b: Gateway | undefined;
  const portOf = (service: string): number => {
    const forward = a!.forwards.list().find((f) => f.service === service);
    if (forward === undefined) throw new Error(`no forward port for ${service}`);
    return Number(forward.listen.slice(forward.listen.lastIndexOf(':') + 1));
  };

  before(async () => {
    tmp = await makeTempDir('forward-ports');
    httpBackend = createHttpServer((req, res) => {
      req.resume();
      const seen: Seen = { method: req.method ?? '', path: req.url ?? '', host: req.headers.host ?? '', xfcc: String(req.headers['x-forwarded-client-cert'] ?? '') };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(seen));
    });
    await new Promise<void>((resolve) => httpBackend.listen(0, '127.0.0.1', resolve));
    tcpBackend = createTcpServer({ allowHalfOpen: true }, (socket) => {
      socket.on('data', (chunk: Buffer) => socket.write(chunk));
      socket.on('end', () => socket.end('bye'));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => tcpBackend.listen(0, '127.0.0.1', resolve));
    const httpPort = (httpBackend.address() as AddressInfo).port;
    const tcpPort = (tcpBackend.address() as AddressInfo).port;
    b = await Gateway.start(parseConfigText(`
cluster: cluster-b
trustDomain: cluster-b.example.org
dataDir: ${path.join(tmp.dir, 'b')}
listen: ${LISTEN}
services:
  - name: echo
    namespace: demo
    export: true
    ports: [{ name: http, port: 8080, protocol: http }]
    endpoints: [{ address: 127.0.0.1, ports: { http: ${httpPort} }, identity: "spiffe://cluster-b.example.org/ns/demo/sa/echo" }]
  - name: tcpecho
    namespace: demo
    export: true
    ports: [{ name: tcp, port: 7000, protocol: tcp }]
    endpoints: [{ address: 127.0.0.1, ports: { tcp: ${tcpPort} }, identity: "spiffe://cluster-b.example.org/ns/demo/sa/tcpecho" }]
access:
  - { to: "*", from: ["spiffe://cluster-a.example.org/ns/demo/*"] }
`), { logger: silentLogger() });
    // A knows its callers on 127.0.0.1 by source address: the forward ports' callers are identified as the listener's are.
    a = await Gateway.start(parseConfigText(`
cluster: cluster-a
trustDomain: cluster-a.example.org
dataDir: ${path.join(tmp.dir, 'a')}
listen: ${LISTEN}
outbound:
  identifyCallersBySourceAddress: true
  forward:
    - { listen: "127.0.0.1:0", service: "echo.demo:8080" }
    - { listen: "127.0.0.1:0", service: "tcpecho.demo:7000" }
    - { listen: "127.0.0.1:0", service: "nothing.demo:80" }
services:
  - name: client
    namespace: demo
    ports: [{ name: http, port: 80 }]
    endpoints: [{ address: 127.0.0.1, ports: { http: 1 }, identity: "${CLIENT}" }]
`), { logger: silentLogger() });
    await a.peers.addPeer(await b.peers.createToken({ ttlSeconds: 600 }));
    await waitFor('echo.demo and tcpecho.demo in A', () => (a!.catalog.resolve('echo.demo') !== undefined && a!.catalog.resolve('tcpecho.demo') !== undefined ? true : undefined));
  });

  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await new Promise((resolve) => httpBackend?.close(resolve));
    await new Promise((resolve) => tcpBackend?.close(resolve));
    await tmp?.remove();
  });

  it('serves an HTTP service request by request, each sent to the port\'s service whatever its Host', async () => {
    const conn = await RawConnection.open(portOf('echo.demo:8080'));
    try {
      const port = portOf('echo.demo:8080');
      conn.write(`GET /hello?x=1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      const first = await conn.readResponse();
      assert.equal(first.status, 200);
      assert.match(first.headers['causeway-route'] ?? '', /^remote cluster-b via spiffe:\/\/cluster-b\.example\.org\/gateway\/gateway -> 127\.0\.0\.1:\d+$/);
      const seen = JSON.parse(first.body.toString()) as Seen;
      assert.deepEqual([seen.method, seen.path, seen.host], ['GET', '/hello?x=1', 'echo.demo:8080']);
      assert.match(seen.xfcc, new RegExp(`URI=${CLIENT}$`), 'the caller identified by its source address reaches the backend');
      // Same connection: another Host, and absolute-form naming another service — still echo.demo.
      conn.write('POST http://tcpecho.demo:7000/other HTTP/1.1\r\nHost: tcpecho.demo:7000\r\nContent-Length: 2\r\n\r\nhi');
      const second = await conn.readResponse();
      assert.equal(second.status, 200);
      assert.deepEqual(((s: Seen) => [s.method, s.path, s.host])(JSON.parse(second.body.toString()) as Seen), ['POST', '/other', 'echo.demo:8080']);
    } finally {
      conn.destroy();
    }
    const records = a!.requests.list().filter((r) => r.via === `forward 127.0.0.1:${portOf('echo.demo:8080')}`);
    assert.deepEqual(records.map((r) => [r.method, r.service, r.status, r.source]), [
      ['CONNECT', 'echo.demo', 200, CLIENT], ['GET', 'echo.demo', 200, CLIENT], ['POST', 'echo.demo', 200, CLIENT],
    ]);
  });

  it('bridges a TCP service\'s bytes both ways, half-close included', async () => {
    const socket = connect({ host: '127.0.0.1', port: portOf('tcpecho.demo:7000'), allowHalfOpen: true });
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received === 'ping') socket.end();
    });
    socket.write('ping');
    await new Promise((resolve) => socket.once('close', resolve));
    assert.equal(received, 'pingbye');
    const record = a!.requests.list().find((r) => r.service === 'tcpecho.demo' && r.via !== undefined);
    assert.deepEqual(record && [record.method, record.status, record.port, record.source], ['CONNECT', 200, 7000, CLIENT]);
    assert.match(record?.route ?? '', /^remote cluster-b via /);
  });

  it('closes a connection to a forward port whose service is unknown, and records the refusal', async () => {
    const conn = await RawConnection.open(portOf('nothing.demo:80'));
    assert.equal(await conn.endsWithin(5000), true, 'the connection is closed');
    assert.equal(conn.unread().length, 0, 'nothing is answered');
    const record = a!.requests.list().find((r) => r.service === 'nothing.demo');
    assert.deepEqual(record && [record.status, record.code, record.via], [502, 'CW_SERVICE_UNKNOWN', `forward 127.0.0.1:${portOf('nothing.demo:80')}`]);
    const status = await getJson<{ outbound: { forwards: Array<{ listen: string; service: string; connections: number }> } }>(`http://${a!.listeners.admin}/v1/status`);
    assert.deepEqual(status.outbound.forwards.map((f) => [f.service, f.connections]), [['echo.demo:8080', 0], ['tcpecho.demo:7000', 0], ['nothing.demo:80', 0]]);
  });
});
