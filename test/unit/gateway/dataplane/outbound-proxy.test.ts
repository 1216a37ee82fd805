import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dns from 'node:dns';
import { request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { OutboundProxy, type OutboundProxyOptions, type RequestRecord } from '../../../../gateway/dataplane/outbound-proxy.js';
import { OutlierTracker } from '../../../../gateway/dataplane/outlier-tracker.js';
import { TunnelClient } from '../../../../gateway/dataplane/tunnel-client.js';
import { endpointOf, makeWorld, publishInB, recordOf, type World } from './sides.js';

const CLIENT = 'spiffe://a.test/ns/demo/sa/client';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request to the proxy, absolute-form as `curl -x` sends it. */
function viaProxy(proxy: AddressInfo, target: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // A connection per request: the caller's identity is decided per connection, and some
    // tests change it between requests.
    const req = request({ host: '127.0.0.1', port: proxy.port, method: options.method ?? 'GET', path: target, headers: options.headers, timeout: 20_000, agent: false });
    req.on('timeout', () => req.destroy(new Error('no answer from the proxy')));
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** CONNECT through the proxy; for refusals, reads the error body to the end. */
function connectVia(proxy: AddressInfo, authority: string): Promise<{ status: number; headers: IncomingHttpHeaders; socket: Socket; head: Buffer; body: () => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxy.port, method: 'CONNECT', path: authority, timeout: 20_000 });
    req.on('timeout', () => req.destroy(new Error('no answer from the proxy')));
    req.on('error', reject);
    req.on('connect', (res, socket: Socket, head: Buffer) => {
      resolve({
        status: res.statusCode ?? 0, headers: res.headers, socket, head,
        body: () => new Promise((done) => {
          let text = head.toString();
          socket.on('data', (c: Buffer) => (text += c.toString()));
          socket.on('end', () => done(text));
          socket.on('close', () => done(text));
        }),
      });
    });
    req.end();
  });
}

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['--silent', '--show-error', '--max-time', '20', ...args], (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

describe('OutboundProxy (A) → EastWestServer (B) → backends', () => {
  let world: World;
  let tunnels: TunnelClient;
  let proxy: OutboundProxy;
  let address: AddressInfo;
  let caller: string | undefined;
  let records: RequestRecord[];
  const lookups: string[] = [];
  const originalLookup = dns.lookup;

  async function startProxy(extra: Partial<OutboundProxyOptions> = {}): Promise<{ proxy: OutboundProxy; address: AddressInfo }> {
    const instance = new OutboundProxy({
      catalog: world.a.catalog, tunnels, locality: world.a.locality, callerIdentity: () => caller,
      onRequest: (r) => records.push(r), connectTimeoutMs: 2000, ...extra,
    });
    return { proxy: instance, address: await instance.listen('127.0.0.1', 0) };
  }

  before(async () => {
    world = await makeWorld();
    tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    publishInB(world, 'echo', [endpointOf(world.httpPort)]);
    publishInB(world, 'tcpecho', [endpointOf(world.echoPort)]);
    ({ proxy, address } = await startProxy());
    // Every DNS lookup in this process is recorded: the proxy must never make one.
    dns.lookup = ((hostname: string, ...rest: unknown[]) => {
      lookups.push(hostname);
      return (originalLookup as (...args: unknown[]) => void)(hostname, ...rest);
    }) as typeof dns.lookup;
  });

  after(async () => {
    dns.lookup = originalLookup;
    await proxy?.close();
    await tunnels?.close();
    await world?.close();
  });

  beforeEach(() => {
    caller = CLIENT;
    records = [];
    world.rulesB.splice(0, world.rulesB.length, { to: '*', from: ['spiffe://a.test/ns/demo/*'] });
  });

  it('carries an absolute-form GET from A through B to the backend by mesh name', async () => {
    const answer = await viaProxy(address, 'http://echo.demo:8080/hello?x=1', {
      headers: { host: 'echo.demo:8080', connection: 'x-hop', 'x-hop': 'drop me', 'proxy-authorization': 'Basic eDp5', 'causeway-source': 'spiffe://b.test/forged', 'x-forwarded-client-cert': 'By=spiffe://b.test/gateway/gw-b;URI=spiffe://b.test/ns/demo/sa/admin', 'x-keep': 'kept' },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['causeway-route'], `remote b via spiffe://b.test/gateway/gw-b -> 127.0.0.1:${world.httpPort}`);
    assert.equal(answer.headers['x-backend'], 'b');
    assert.equal(answer.headers['x-backend-hop'], undefined, 'fields the upstream\'s Connection names are not forwarded');
    const body = JSON.parse(answer.body) as { cluster: string; path: string; headers: Record<string, string> };
    assert.equal(body.cluster, 'b');
    assert.equal(body.path, '/hello?x=1');
    assert.equal(body.headers.host, 'echo.demo:8080');
    assert.equal(body.headers['x-keep'], 'kept');
    for (const dropped of ['x-hop', 'proxy-authorization']) assert.equal(body.headers[dropped], undefined, dropped);
    // The caller's forged causeway-source and x-forwarded-client-cert are dropped; B, which
    // owns the endpoint, tells the backend the verified caller, and nothing else does.
    assert.equal(body.headers['x-forwarded-client-cert'], `By=spiffe://b.test/gateway/gw-b;URI=${CLIENT}`);
    assert.equal(body.headers['causeway-source'], undefined);
    assert.match(body.headers.via ?? '', /1\.1 causeway/);
    assert.deepEqual(records.map((r) => [r.method, r.service, r.port, r.status, r.source]), [['GET', 'echo.demo', 8080, 200, CLIENT]]);
    assert.match(records[0]?.route ?? '', /^remote b via /);
  });

  it('forwards a request body (chunked) and the method', async () => {
    const answer = await viaProxy(address, 'http://echo.demo:8080/upload', { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: 'x'.repeat(100_000) });
    assert.equal(answer.status, 200);
    const body = JSON.parse(answer.body) as { method: string; body: string };
    assert.equal(body.method, 'POST');
    assert.equal(body.body.length, 100_000);
  });

  it('serves curl -x (absolute-form) and curl -p -x (CONNECT)', async () => {
    const plain = await curl(['-x', `http://127.0.0.1:${address.port}`, 'http://echo.demo:8080/curl']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal((JSON.parse(plain.stdout) as { path: string }).path, '/curl');
    const tunnelled = await curl(['-p', '-x', `http://127.0.0.1:${address.port}`, 'http://echo.demo:8080/tunnel']);
    assert.equal(tunnelled.code, 0, tunnelled.stderr);
    assert.equal((JSON.parse(tunnelled.stdout) as { path: string }).path, '/tunnel');
  });

  it('tunnels raw TCP through CONNECT, half-close included', async () => {
    const { status, headers, socket } = await connectVia(address, 'tcpecho.demo:8080');
    assert.equal(status, 200);
    assert.match(String(headers['causeway-route']), /^remote b via spiffe:\/\/b\.test\/gateway\/gw-b -> 127\.0\.0\.1:\d+$/);
    const received = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('end', () => resolve(text));
    });
    socket.write('ping ');
    socket.end('pong');
    assert.equal(await received, 'ping pongbye');
    socket.destroy();
    assert.deepEqual(records.map((r) => [r.method, r.service, r.status]), [['CONNECT', 'tcpecho.demo', 200]]);
  });

  it('prefers a healthy local endpoint over the remote cluster', async () => {
    world.a.putLocal('both', [endpointOf(world.httpPort)]);
    publishInB(world, 'both', [endpointOf(world.echoPort)]);
    const answer = await viaProxy(address, 'http://both.demo:8080/');
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['causeway-route'], `local 127.0.0.1:${world.httpPort}`);
  });

  it('falls through to the remote cluster when every local endpoint is down', async () => {
    world.a.putLocal('fallback', [endpointOf(world.deadPort)]);
    publishInB(world, 'fallback', [endpointOf(world.httpPort)]);
    const answer = await viaProxy(address, 'http://fallback.demo:8080/x');
    assert.equal(answer.status, 200);
    assert.match(String(answer.headers['causeway-route']), /^remote b via /);
  });

  it('answers 502 CW_SERVICE_UNKNOWN for a host not in the catalog, without any DNS lookup', async () => {
    for (const target of ['http://nope.demo:8080/', 'http://localhost/', 'http://example.com/', 'http://echo.demo:9999/']) {
      const answer = await viaProxy(address, target);
      assert.equal(answer.status, 502, target);
      assert.equal(answer.headers['causeway-error'], 'CW_SERVICE_UNKNOWN', target);
      assert.equal((JSON.parse(answer.body) as { code: string }).code, 'CW_SERVICE_UNKNOWN');
    }
    const tunnel = await connectVia(address, 'nope.demo:443');
    assert.equal(tunnel.status, 502);
    assert.equal(tunnel.headers['causeway-error'], 'CW_SERVICE_UNKNOWN');
    assert.equal((JSON.parse(await tunnel.body()) as { code: string }).code, 'CW_SERVICE_UNKNOWN');
    assert.deepEqual(lookups, []);
  });

  it('routes origin-form requests by a mesh-name Host, and refuses other targets and malformed CONNECT targets with 400 CW_REQUEST_INVALID', async () => {
    const origin = await viaProxy(address, '/hello', { headers: { host: 'echo.demo:8080' } });
    assert.equal(origin.status, 200);
    const badHost = await viaProxy(address, '/hello', { headers: { host: 'echo.demo:8080:9' } });
    assert.equal(badHost.status, 400);
    assert.equal(badHost.headers['causeway-error'], 'CW_REQUEST_INVALID');
    const https = await viaProxy(address, 'https://echo.demo:8080/');
    assert.equal(https.status, 400);
    const noPort = await connectVia(address, 'echo.demo');
    assert.equal(noPort.status, 400);
    noPort.socket.destroy();
  });

  it('passes B\'s refusal on: 403 CW_ACCESS_DENIED across trust domains without a rule, 200 with one', async () => {
    world.rulesB.splice(0, world.rulesB.length);
    const denied = await viaProxy(address, 'http://echo.demo:8080/');
    assert.equal(denied.status, 403);
    assert.equal(denied.headers['causeway-error'], 'CW_ACCESS_DENIED');
    assert.match((JSON.parse(denied.body) as { message: string }).message, /no access rule allows/);
    world.rulesB.push({ to: 'echo.demo', from: [CLIENT] });
    assert.equal((await viaProxy(address, 'http://echo.demo:8080/')).status, 200);
    caller = undefined; // anonymous: the rule names a SPIFFE ID, not "anonymous"
    assert.equal((await viaProxy(address, 'http://echo.demo:8080/')).status, 403);
    assert.equal(records.at(-1)?.source, 'anonymous');
  });

  it('tells an anonymous caller that was denied why it is anonymous, for requests and CONNECT', async () => {
    const hinted = await startProxy({ anonymousHint: (address) => `hint: set outbound.identifyCallersBySourceAddress for ${address}` });
    try {
      caller = undefined;
      world.rulesB.splice(0, world.rulesB.length);
      const denied = await viaProxy(hinted.address, 'http://echo.demo:8080/');
      assert.equal(denied.status, 403);
      assert.match((JSON.parse(denied.body) as { message: string }).message, /no access rule allows .*; hint: set outbound\.identifyCallersBySourceAddress for (::ffff:)?127\.0\.0\.1$/);
      const tunnel = await connectVia(hinted.address, 'tcpecho.demo:8080');
      assert.equal(tunnel.status, 403);
      assert.match(await tunnel.body(), /hint: set outbound\.identifyCallersBySourceAddress/);
      // A caller with an identity is told nothing about anonymity.
      caller = CLIENT;
      const named = await viaProxy(hinted.address, 'http://echo.demo:8080/');
      assert.equal(named.status, 403);
      assert.doesNotMatch(named.body, /hint:/);
    } finally {
      await hinted.proxy.close();
    }
  });

  it('ejects a remote gateway after 3 consecutive connect failures, and retries it after the ejection time', async () => {
    let now = 1_000_000;
    const outliers = new OutlierTracker({ now: () => now });
    const isolated = await startProxy({ outliers });
    try {
      world.a.catalog.applyRemote([recordOf('g', 'ghost', [endpointOf(world.httpPort)])]);
      world.a.catalog.setGateway({ ...world.gatewayB, cluster: 'g', eastWestAddress: `127.0.0.1:${world.deadPort}` });
      for (let i = 0; i < 3; i++) {
        const answer = await viaProxy(isolated.address, 'http://ghost.demo:8080/');
        assert.equal(answer.status, 502);
        assert.equal(answer.headers['causeway-error'], 'CW_UPSTREAM_CONNECT');
      }
      assert.ok(outliers.snapshot()[0]?.ejectedUntil !== undefined, 'the gateway is ejected after 3 failures');
      // It is the only way to ghost.demo: panic mode still tries it rather than fail outright.
      const panic = await viaProxy(isolated.address, 'http://ghost.demo:8080/');
      assert.equal(panic.status, 502);
      assert.equal(panic.headers['causeway-error'], 'CW_UPSTREAM_CONNECT');
    } finally {
      await isolated.proxy.close();
    }
  });

  it('counts 5xx answers through a gateway as failures, and a success resets them', async () => {
    let now = 1_000_000;
    const outliers = new OutlierTracker({ now: () => now });
    const isolated = await startProxy({ outliers });
    try {
      for (let i = 0; i < 2; i++) assert.equal((await viaProxy(isolated.address, 'http://echo.demo:8080/status/500')).status, 500);
      assert.equal((await viaProxy(isolated.address, 'http://echo.demo:8080/status/404')).status, 404);
      for (let i = 0; i < 2; i++) assert.equal((await viaProxy(isolated.address, 'http://echo.demo:8080/status/503')).status, 503);
      assert.equal(outliers.snapshot()[0]?.ejectedUntil, undefined, 'the 404 in between reset the count');
      assert.equal((await viaProxy(isolated.address, 'http://echo.demo:8080/status/500')).status, 500);
      assert.ok(outliers.snapshot()[0]?.ejectedUntil !== undefined, 'three 5xx in a row eject the gateway');
      // The only gateway, ejected: panic mode still routes; only a probe ends the ejection.
      assert.equal((await viaProxy(isolated.address, 'http://echo.demo:8080/')).status, 200);
      assert.equal(outliers.snapshot()[0]?.condition, 'ejected');
    } finally {
      await isolated.proxy.close();
    }
  });

  it('close() ends open tunnels and is idempotent', async () => {
    const isolated = await startProxy();
    const { socket } = await connectVia(isolated.address, 'tcpecho.demo:8080');
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => {});
    await Promise.all([isolated.proxy.close(), isolated.proxy.close()]);
    await closed;
    await assert.rejects(isolated.proxy.listen('127.0.0.1', 0), /closed/);
  });
});
