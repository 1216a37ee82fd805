import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { spawnGateway, type GatewayProcess } from '../../gateway/index.js';
import { RawConnection } from '../helpers/http1-raw.js';
import { makeTempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { getJson, waitFor } from '../helpers/wait-for.js';

/**
 * HTTP/1.1 through two gateway processes (issue 7, "Tests that must exist"): a caller at A's
 * outbound listener reaches alpha.demo (a backend in cluster-a, A's own endpoint) and
 * beta.demo (a backend in cluster-b, through B), interleaved on the same keep-alive client
 * connections. Every answer carries the id of the request it answers, so an answer delivered
 * to the wrong request fails the test.
 */

const CLIENT = 'spiffe://cluster-a.causeway.test/ns/demo/sa/client';

interface Backend {
  cluster: string;
  port: number;
  /** TCP connections accepted so far. */
  accepted: number;
  requests: number;
  /** Requests waiting on /hold, released by `release()`. */
  held: Array<() => void>;
  close(): Promise<void>;
}

interface Answer {
  cluster: string;
  id: string | undefined;
  method: string;
  path: string;
  bytes: number;
  sha256: string;
  te: string | undefined;
  /** x-forwarded-client-cert as the backend received it: the verified caller, from the endpoint's own gateway. */
  xfcc: string | undefined;
}

/** A backend that answers every request with what it received and the caller's request id. */
async function startBackend(cluster: string, host: string): Promise<Backend> {
  const sockets = new Set<Socket>();
  const backend: Backend = { cluster, port: 0, accepted: 0, requests: 0, held: [], close: async () => undefined };
  const server: Server = createServer((req, res) => {
    backend.requests += 1;
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    const url = new URL(req.url ?? '/', 'http://backend');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
      if (url.pathname === '/echo') kept.push(chunk);
    });
    req.on('end', () => {
      const id = req.headers['x-request-id'] as string | undefined;
      const sha256 = hash.digest('hex');
      const tag = { 'x-request-id': id ?? '', 'x-backend': cluster };
      switch (url.pathname) {
        case '/status/204':
        case '/status/304':
          res.writeHead(Number(url.pathname.slice(8)), { ...tag, etag: '"v1"' });
          res.end();
          return;
        case '/echo': {
          const body = Buffer.concat(kept);
          res.writeHead(200, { ...tag, 'content-type': 'application/octet-stream', 'content-length': body.length });
          res.end(body);
          return;
        }
        case '/chunked': {
          // No Content-Length: node frames it chunked. Several writes, several chunks.
          res.writeHead(200, { ...tag, 'content-type': 'text/plain' });
          let n = 0;
          const next = (): void => {
            if (n === 5) {
              res.end(`end ${id ?? ''}\n`);
              return;
            }
            res.write(`part ${n++} of ${id ?? ''}\n`);
            setImmediate(next);
          };
          next();
          return;
        }
        case '/trailer':
          res.writeHead(200, { ...tag, 'content-type': 'text/plain', trailer: 'x-body-sha256' });
          res.write(`body of ${id ?? ''}\n`);
          res.addTrailers({ 'x-body-sha256': sha256 });
          res.end();
          return;
        case '/hold':
          backend.held.push(() => {
            res.writeHead(200, tag);
            res.end('released');
          });
          return;
        default: {
          const answer: Answer = {
            cluster, id, method: req.method ?? '', path: req.url ?? '', bytes, sha256,
            te: req.headers['transfer-encoding'], xfcc: req.headers['x-forwarded-client-cert'] as string | undefined,
          };
          const body = JSON.stringify(answer);
          res.writeHead(200, { ...tag, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        }
      }
    });
  });
  server.keepAliveTimeout = 10_000;
  server.on('connection', (socket: Socket) => {
    backend.accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  backend.port = (server.address() as AddressInfo).port;
  backend.close = () => new Promise<void>((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  });
  return backend;
}

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['--silent', '--show-error', '--max-time', '30', ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  trailers: NodeJS.Dict<string>;
  body: Buffer;
  socket: Socket;
}

describe('HTTP/1.1 through two gateway processes', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let alpha: Backend;
  let beta: Backend;
  let a: GatewayProcess | undefined;
  let b: GatewayProcess | undefined;
  let proxyPort = 0;

  /** One request to A's outbound listener, absolute-form, on `agent`'s keep-alive connections. */
  const send = (agent: Agent, service: 'alpha' | 'beta', target: string, options: { method?: string; id?: string; headers?: Record<string, string>; body?: Buffer | Buffer[] } = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { host: `${service}.demo:8080`, ...options.headers };
      if (options.id !== undefined) headers['x-request-id'] = options.id;
      if (Buffer.isBuffer(options.body)) headers['content-length'] = String(options.body.length);
      const req = httpRequest({ host: '127.0.0.1', port: proxyPort, agent, method: options.method ?? 'GET', path: `http://${service}.demo:8080${target}`, headers, timeout: 30_000 });
      req.on('timeout', () => req.destroy(new Error(`no answer to ${target}`)));
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, body: Buffer.concat(chunks), socket: req.socket as Socket }));
      });
      const body = options.body;
      if (Array.isArray(body)) {
        // Several writes without a Content-Length: node sends them chunked.
        for (const part of body) req.write(part);
      } else if (body !== undefined) {
        req.write(body);
      }
      req.end();
    });

  before(async () => {
    tmp = await makeTempDir('dataplane-http');
    // alpha's endpoint address is not 127.0.0.1: the caller is identified by source address,
    // and an address shared by two identities identifies nobody.
    alpha = await startBackend('cluster-a', '127.0.0.2');
    beta = await startBackend('cluster-b', '127.0.0.1');
    const listen = { admin: '127.0.0.1:0', outbound: '127.0.0.1:0', federation: '127.0.0.1:0', eastWest: '127.0.0.1:0', identity: '127.0.0.1:0' };
    const configA = {
      cluster: 'cluster-a', trustDomain: 'cluster-a.causeway.test', gatewayName: 'gw-a',
      locality: { cloud: 'local', region: 'region-a', zone: 'zone-1' }, dataDir: path.join(tmp.dir, 'cluster-a'), listen,
      outbound: { identifyCallersBySourceAddress: true },
      services: [
        { name: 'client', namespace: 'demo', ports: [{ name: 'http', port: 80 }],
          endpoints: [{ address: '127.0.0.1', ports: { http: 1 }, identity: CLIENT, kind: 'vm' }] },
        { name: 'alpha', namespace: 'demo', ports: [{ name: 'http', port: 8080 }],
          endpoints: [{ address: '127.0.0.2', ports: { http: alpha.port }, identity: 'spiffe://cluster-a.causeway.test/ns/demo/sa/alpha', kind: 'vm' }] },
      ],
      logLevel: 'warn',
    };
    const configB = {
      cluster: 'cluster-b', trustDomain: 'cluster-b.causeway.test', gatewayName: 'gw-b',
      locality: { cloud: 'local', region: 'region-b', zone: 'zone-1' }, dataDir: path.join(tmp.dir, 'cluster-b'), listen,
      services: [{
        name: 'beta', namespace: 'demo', export: true, ports: [{ name: 'http', port: 8080 }],
        endpoints: [{ address: '127.0.0.1', ports: { http: beta.port }, identity: 'spiffe://cluster-b.causeway.test/ns/demo/sa/beta', kind: 'vm' }],
      }],
      access: [{ to: 'beta.demo', from: ['spiffe://cluster-a.causeway.test/ns/demo/*'] }],
      logLevel: 'warn',
    };
    const files = { a: path.join(tmp.dir, 'a.yaml'), b: path.join(tmp.dir, 'b.yaml') };
    await writeFile(files.a, stringify(configA));
    await writeFile(files.b, stringify(configB));
    const spawnOptions = (name: string): Parameters<typeof spawnGateway>[1] => ({ logFile: path.join(tmp.dir, `${name}.log`) });
    b = await spawnGateway(files.b, spawnOptions('b'));
    a = await spawnGateway(files.a, spawnOptions('a'));
    proxyPort = Number(a.listeners.outbound.split(':').at(-1));
    const token = await runCli(['peer', 'token', '--config', files.b]);
    assert.equal(token.code, 0, token.stderr);
    const added = await runCli(['peer', 'add', token.stdout.trim(), '--config', files.a]);
    assert.equal(added.code, 0, added.stderr);
    await waitFor('beta.demo from cluster-b in A', async () => {
      const { services } = await getJson<{ services: Array<{ key: string; clusters: Record<string, unknown> }> }>(`http://${a!.listeners.admin}/v1/services`);
      return services.find((s) => s.key === 'beta.demo')?.clusters['cluster-b'];
    });
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await alpha?.close();
    await beta?.close();
    await tmp?.remove();
  });

  it('serves 10,000 keep-alive requests on 64 connections to two services in two clusters, each answer to its own request', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const acceptedBefore = { alpha: alpha.accepted, beta: beta.accepted };
    const servicesBySocket = new Map<Socket, Set<string>>();
    const wrong: string[] = [];
    let served = 0;
    const total = 10_000;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const n = next++;
        const service = n % 2 === 0 ? 'alpha' : 'beta';
        const id = `req-${n}-${randomBytes(4).toString('hex')}`;
        // Every eighth request carries a small body, so bodies and bodiless requests interleave too.
        const body = n % 8 === 3 ? Buffer.from(`payload of ${id}`) : undefined;
        const reply = await send(agent, service, `/item/${n}`, { id, method: body === undefined ? 'GET' : 'POST', ...(body === undefined ? {} : { body }) });
        const answer = JSON.parse(reply.body.toString('utf8')) as Answer;
        const expected = service === 'alpha' ? 'cluster-a' : 'cluster-b';
        // The caller (identified by source address at A) as the endpoint's own gateway tells it.
        const xfcc = `By=spiffe://${expected}.causeway.test/gateway/gw-${expected.slice(-1)};URI=${CLIENT}`;
        if (reply.status !== 200 || answer.id !== id || answer.cluster !== expected || answer.path !== `/item/${n}` || reply.headers['x-request-id'] !== id || answer.xfcc !== xfcc) {
          wrong.push(`${id} to ${service}: ${reply.status} ${reply.body.toString('utf8').slice(0, 200)}`);
        }
        if (body !== undefined && answer.sha256 !== createHash('sha256').update(body).digest('hex')) wrong.push(`${id}: body changed`);
        let seen = servicesBySocket.get(reply.socket);
        if (seen === undefined) servicesBySocket.set(reply.socket, (seen = new Set()));
        seen.add(service);
        served += 1;
      }
    };
    try {
      await Promise.all(Array.from({ length: 64 }, worker));
    } finally {
      agent.destroy();
    }
    assert.deepEqual(wrong.slice(0, 5), []);
    assert.equal(served, total);
    assert.ok(servicesBySocket.size <= 64, `${servicesBySocket.size} client connections`);
    const mixed = [...servicesBySocket.values()].filter((s) => s.size === 2).length;
    assert.ok(mixed >= servicesBySocket.size / 2, `only ${mixed} of ${servicesBySocket.size} client connections carried both services`);
    // Keep-alive end to end: the backends saw at most one connection per concurrent caller,
    // not one per request.
    assert.ok(alpha.accepted - acceptedBefore.alpha <= 64, `alpha accepted ${alpha.accepted - acceptedBefore.alpha} connections`);
    assert.ok(beta.accepted - acceptedBefore.beta <= 64, `beta accepted ${beta.accepted - acceptedBefore.beta} connections`);
  });

  it('carries POST bodies from 0 B to 20 MB intact, Content-Length and chunked, both ways', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    try {
      for (const size of [0, 1, 16_383, 65_543, 1 << 20, 20 << 20]) {
        const body = randomBytes(size);
        for (const service of ['alpha', 'beta'] as const) {
          const id = `post-${service}-${size}`;
          const sized = await send(agent, service, '/upload', { method: 'POST', id, body });
          assert.equal(sized.status, 200, `${id}: ${sized.body.toString().slice(0, 200)}`);
          const answer = JSON.parse(sized.body.toString()) as Answer;
          assert.deepEqual([answer.id, answer.bytes, answer.sha256, answer.te], [id, size, sha(body), undefined], id);
          if (size === 0) continue;
          // The same bytes chunked (several writes), echoed back: request and response bodies intact.
          const parts = [body.subarray(0, size >> 1), body.subarray(size >> 1)].filter((p) => p.length > 0);
          const echoed = await send(agent, service, '/echo', { method: 'POST', id: `${id}-echo`, body: parts });
          assert.equal(echoed.status, 200);
          assert.equal(echoed.headers['x-request-id'], `${id}-echo`);
          assert.equal(echoed.body.length, size, `${id} echo length`);
          assert.equal(sha(echoed.body), sha(body), `${id} echo sha256`);
        }
      }
    } finally {
      agent.destroy();
    }
  });

  it('forwards chunked requests and chunked responses with their framing, and a response trailer', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const service of ['alpha', 'beta'] as const) {
        const parts = [Buffer.from('first '), Buffer.from('second '), Buffer.from('third')];
        const up = await send(agent, service, '/chunked-up', { method: 'POST', id: `cu-${service}`, body: parts });
        const answer = JSON.parse(up.body.toString()) as Answer;
        assert.equal(answer.te, 'chunked', 'the backend got the request chunked, as sent');
        assert.equal(answer.sha256, createHash('sha256').update('first second third').digest('hex'));

        const down = await send(agent, service, '/chunked', { id: `cd-${service}` });
        assert.equal(down.status, 200);
        assert.equal(down.headers['transfer-encoding'], 'chunked');
        assert.equal(down.body.toString(), [0, 1, 2, 3, 4].map((n) => `part ${n} of cd-${service}\n`).join('') + `end cd-${service}\n`);

        const trailer = await send(agent, service, '/trailer', { method: 'POST', id: `tr-${service}`, body: Buffer.from('checked') });
        assert.equal(trailer.status, 200);
        assert.equal(trailer.body.toString(), `body of tr-${service}\n`);
        assert.equal(trailer.trailers['x-body-sha256'], createHash('sha256').update('checked').digest('hex'));
      }
    } finally {
      agent.destroy();
    }
  });

  it('passes 100 Continue through before the body is sent (Expect: 100-continue), raw and with curl', async () => {
    for (const service of ['alpha', 'beta'] as const) {
      const conn = await RawConnection.open(proxyPort);
      try {
        const body = 'sent only after 100 Continue';
        conn.write(`POST http://${service}.demo:8080/expect HTTP/1.1\r\nHost: ${service}.demo:8080\r\nx-request-id: ex-${service}\r\n` +
          `Expect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`);
        const interim = await conn.readResponse();
        assert.equal(interim.status, 100, `${service}: the 100 Continue must arrive before any body byte is sent`);
        conn.write(body);
        const final = await conn.readResponse();
        assert.equal(final.status, 200);
        const answer = JSON.parse(final.body.toString()) as Answer;
        assert.deepEqual([answer.id, answer.bytes], [`ex-${service}`, body.length]);
        // Still keep-alive afterwards.
        conn.write(`GET http://${service}.demo:8080/after HTTP/1.1\r\nHost: ${service}.demo:8080\r\nx-request-id: ex2-${service}\r\n\r\n`);
        assert.equal((JSON.parse((await conn.readResponse()).body.toString()) as Answer).id, `ex2-${service}`);
      } finally {
        conn.destroy();
      }
    }
    const file = path.join(tmp.dir, 'expect.bin');
    const payload = randomBytes(300_000);
    await writeFile(file, payload);
    // curl sends Expect: 100-continue for bodies over 1 MiB by default (older: 1 KiB); force it.
    const result = await curl(['-x', `http://127.0.0.1:${proxyPort}`, '-H', 'Expect: 100-continue', '--expect100-timeout', '20', '--data-binary', `@${file}`, '-v', 'http://beta.demo:8080/curl-expect']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /< HTTP\/1\.1 100 Continue/);
    const answer = JSON.parse(result.stdout) as Answer;
    assert.equal(answer.sha256, createHash('sha256').update(payload).digest('hex'));
  });

  it('answers HEAD, 204 and 304 without a body and keeps the connection in step', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const service of ['alpha', 'beta'] as const) {
        const head = await send(agent, service, '/item/head', { method: 'HEAD', id: `hd-${service}` });
        assert.equal(head.status, 200);
        assert.ok(Number(head.headers['content-length']) > 0, 'HEAD keeps the Content-Length of the GET');
        assert.equal(head.body.length, 0);
        for (const status of [204, 304]) {
          const reply = await send(agent, service, `/status/${status}`, { id: `s${status}-${service}` });
          assert.equal(reply.status, status);
          assert.equal(reply.headers['x-request-id'], `s${status}-${service}`);
          assert.equal(reply.body.length, 0);
        }
        const after = await send(agent, service, '/item/after', { id: `af-${service}` });
        assert.equal((JSON.parse(after.body.toString()) as Answer).id, `af-${service}`);
        assert.equal(after.socket, head.socket, 'the same client connection throughout');
      }
    } finally {
      agent.destroy();
    }
  });

  it('answers pipelined requests in order, across both services, with bodies, HEAD and 204 among them', async () => {
    const conn = await RawConnection.open(proxyPort);
    try {
      const requests: Array<{ method: string; id: string; service: string; text: string }> = [];
      const add = (method: string, service: string, target: string, id: string, body = ''): void => {
        const framing = body === '' ? '' : `Content-Length: ${body.length}\r\n`;
        requests.push({ method, id, service, text: `${method} http://${service}.demo:8080${target} HTTP/1.1\r\nHost: ${service}.demo:8080\r\nx-request-id: ${id}\r\n${framing}\r\n${body}` });
      };
      add('GET', 'alpha', '/p/1', 'pipe-1');
      add('POST', 'beta', '/p/2', 'pipe-2', 'GET /smuggled HTTP/1.1\r\nHost: beta.demo\r\n\r\n');
      add('HEAD', 'alpha', '/p/3', 'pipe-3');
      add('GET', 'beta', '/status/204', 'pipe-4');
      add('POST', 'alpha', '/p/5', 'pipe-5', 'x'.repeat(5000));
      add('GET', 'beta', '/chunked', 'pipe-6');
      add('GET', 'alpha', '/p/7', 'pipe-7');
      // All at once, in one write.
      conn.write(requests.map((r) => r.text).join(''));
      for (const r of requests) {
        const reply = await conn.readResponse({ method: r.method });
        assert.equal(reply.headers['x-request-id'], r.id, `answer in order for ${r.id}`);
        assert.equal(reply.headers['x-backend'], r.service === 'alpha' ? 'cluster-a' : 'cluster-b');
        if (r.id === 'pipe-2') {
          const answer = JSON.parse(reply.body.toString()) as Answer;
          assert.equal(answer.bytes, 43, 'a request line inside a body is body');
        }
      }
      assert.equal(conn.unread().length, 0);
      assert.equal(conn.peerEnded, false, 'the connection stays open after pipelined requests');
    } finally {
      conn.destroy();
    }
  });

  it('answers 502 with a CW_* code when the remote gateway dies mid-request, and serves the local service on', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    try {
      const pending = send(agent, 'beta', '/hold', { id: 'dies' });
      await waitFor('the held request at beta', () => (beta.held.length > 0 ? true : undefined));
      await b!.kill();
      const reply = await pending;
      assert.ok(reply.status === 502 || reply.status === 504, `status ${reply.status}`);
      assert.match(String(reply.headers['causeway-error']), /^CW_[A-Z_]+$/);
      const local = await send(agent, 'alpha', '/item/still', { id: 'still' });
      assert.equal((JSON.parse(local.body.toString()) as Answer).id, 'still');
    } finally {
      agent.destroy();
      for (const release of beta.held.splice(0)) release();
    }
  });
});
