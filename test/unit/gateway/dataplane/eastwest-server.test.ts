import assert from 'node:assert/strict';
import type { ClientHttp2Stream } from 'node:http2';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CausewayError } from '../../../../registry/index.js';
import { TunnelClient, TunnelError, type OpenedTunnel } from '../../../../gateway/dataplane/tunnel-client.js';
import { selfSignedSvid } from '../../../helpers/certs.js';
import { h2Probe } from '../../../helpers/h2-probe.js';
import { endpointOf, freePort, makeWorld, publishInB, recordOf, type World } from './sides.js';

const CLIENT = 'spiffe://a.test/ns/demo/sa/client';

function readAll(stream: ClientHttp2Stream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

async function refusal(promise: Promise<OpenedTunnel>): Promise<TunnelError> {
  try {
    const opened = await promise;
    opened.stream.destroy();
  } catch (err) {
    assert.ok(err instanceof TunnelError, `expected a TunnelError, got ${String(err)}`);
    return err;
  }
  assert.fail('the tunnel opened');
}

describe('EastWestServer', () => {
  let world: World;
  let tunnels: TunnelClient;
  let caPemOfB: string;
  let probeCreds: { caPem: string; certPem: string; keyPem: string };

  before(async () => {
    world = await makeWorld();
    tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    publishInB(world, 'tcpecho', [endpointOf(world.echoPort)]);
    publishInB(world, 'echo', [endpointOf(world.httpPort)]);
    caPemOfB = world.b.ca.bundle().rootsPem[0]!;
    const svid = world.a.svid.current();
    probeCreds = { caPem: caPemOfB, certPem: svid.certChainPem, keyPem: svid.keyPem };
  });

  after(async () => {
    await tunnels?.close();
    await world?.close();
  });

  beforeEach(() => {
    world.rulesB.splice(0, world.rulesB.length, { to: '*', from: ['spiffe://a.test/ns/demo/*'] });
  });

  it('tunnels an allowed caller to a local endpoint and carries bytes both ways, half-close included', async () => {
    const { stream, headers } = await tunnels.open(world.gatewayB, 'tcpecho.demo:8080', CLIENT);
    assert.equal(headers[':status'], 200);
    assert.equal(headers['causeway-endpoint'], `127.0.0.1:${world.echoPort}`);
    assert.equal(headers['causeway-cluster'], 'b');
    const received = readAll(stream);
    stream.write('hello ');
    stream.end('world');
    // The backend answers our FIN with "bye" and its own FIN: both directions closed in order.
    assert.equal(await received, 'hello worldbye');
  });

  it('refuses a causeway-source outside the calling gateway\'s trust domain (403 CW_IDENTITY_REFUSED)', async () => {
    world.rulesB.push({ to: '*', from: ['spiffe://b.test/*'] });
    const foreign = await refusal(tunnels.open(world.gatewayB, 'echo.demo:8080', 'spiffe://b.test/ns/demo/sa/admin'));
    assert.equal(foreign.status, 403);
    assert.equal(foreign.code, 'CW_IDENTITY_REFUSED');
    assert.match(foreign.message, /outside its trust domain a\.test/);
    const malformed = await refusal(tunnels.open(world.gatewayB, 'echo.demo:8080', 'spiffe://A.TEST/../x'));
    assert.equal(malformed.code, 'CW_IDENTITY_REFUSED');
  });

  it('denies a cross-trust-domain caller without a rule (403 CW_ACCESS_DENIED) and allows it once a rule exists', async () => {
    world.rulesB.splice(0, world.rulesB.length, { to: 'other.demo', from: ['spiffe://a.test/*'] });
    const denied = await refusal(tunnels.open(world.gatewayB, 'tcpecho.demo:8080', CLIENT));
    assert.equal(denied.status, 403);
    assert.equal(denied.code, 'CW_ACCESS_DENIED');
    world.rulesB.push({ to: 'tcpecho.demo', from: [CLIENT] });
    const { stream } = await tunnels.open(world.gatewayB, 'tcpecho.demo:8080', CLIENT);
    const received = readAll(stream);
    stream.end('x');
    assert.equal(await received, 'xbye');
  });

  it('treats a workload certificate as the caller itself: it may not assert another causeway-source', async () => {
    // Regression: any certificate of a peer domain could assert any identity of that domain.
    const worker = world.a.ca.issueKeyAndSvid('spiffe://a.test/ns/demo/sa/worker', 300);
    const creds = { caPem: caPemOfB, certPem: worker.certChainPem, keyPem: worker.keyPem };
    world.rulesB.push({ to: 'workeronly.demo', from: ['spiffe://a.test/ns/demo/sa/worker'] });
    world.b.putLocal('workeronly', [endpointOf(world.echoPort)]);
    const connect = { ':method': 'CONNECT', ':authority': 'workeronly.demo:8080' };
    const impersonating = await h2Probe(world.gatewayB.eastWestAddress, creds, { ...connect, 'causeway-source': 'spiffe://a.test/ns/demo/sa/admin' });
    assert.equal(impersonating.outcome === 'answered' && impersonating.status, 403, JSON.stringify(impersonating));
    assert.equal(impersonating.outcome === 'answered' && impersonating.headers['causeway-error'], 'CW_IDENTITY_REFUSED');
    // Without the header, or naming itself, the workload is its own source and the rule admits it.
    for (const headers of [connect, { ...connect, 'causeway-source': 'spiffe://a.test/ns/demo/sa/worker' }]) {
      const own = await h2Probe(world.gatewayB.eastWestAddress, creds, headers);
      assert.equal(own.outcome === 'answered' && own.status, 200, JSON.stringify(own));
    }
  });

  it('admits an anonymous caller through a foreign gateway only by an "anonymous" rule', async () => {
    const denied = await refusal(tunnels.open(world.gatewayB, 'tcpecho.demo:8080', undefined));
    assert.equal(denied.code, 'CW_ACCESS_DENIED');
    world.rulesB.push({ to: 'tcpecho.demo', from: ['anonymous'] });
    const { stream, headers } = await tunnels.open(world.gatewayB, 'tcpecho.demo:8080', undefined);
    assert.equal(headers[':status'], 200);
    stream.destroy();
  });

  it('answers 404 CW_SERVICE_UNKNOWN for an unknown service, an unknown port, and a service B does not export', async () => {
    world.b.putLocal('private', [endpointOf(world.echoPort)], { exported: false });
    for (const authority of ['nope.demo:8080', 'tcpecho.demo:9999', 'private.demo:8080']) {
      const err = await refusal(tunnels.open(world.gatewayB, authority, CLIENT));
      assert.equal(err.status, 404, authority);
      assert.equal(err.code, 'CW_SERVICE_UNKNOWN', authority);
    }
  });

  it('never forwards to another cluster: a service B only knows from cluster c is unknown here (no transit)', async () => {
    world.b.catalog.applyRemote([recordOf('c', 'transit', [endpointOf(world.echoPort)])]);
    world.b.catalog.setGateway({ ...world.gatewayB, cluster: 'c', trustDomain: 'c.test', identity: 'spiffe://c.test/gateway/gw-c' });
    const err = await refusal(tunnels.open(world.gatewayB, 'transit.demo:8080', CLIENT));
    assert.equal(err.code, 'CW_SERVICE_UNKNOWN');
  });

  it('answers 503 CW_NO_HEALTHY_ENDPOINT when no local endpoint is healthy', async () => {
    publishInB(world, 'sick', [endpointOf(world.echoPort, { health: 'unhealthy' }), endpointOf(world.echoPort, { address: '127.0.0.2', health: 'unknown' })]);
    const err = await refusal(tunnels.open(world.gatewayB, 'sick.demo:8080', CLIENT));
    assert.equal(err.status, 503);
    assert.equal(err.code, 'CW_NO_HEALTHY_ENDPOINT');
  });

  it('moves on to the next local endpoint when one refuses the connection, and answers 502 when all do', async () => {
    // The server's random source is fixed, so the heavier (dead) endpoint is always tried first.
    publishInB(world, 'flaky', [endpointOf(world.deadPort, { weight: 1000 }), endpointOf(world.echoPort, { weight: 1 })], { protocol: 'tcp' });
    const { stream, headers } = await tunnels.open(world.gatewayB, 'flaky.demo:8080', CLIENT);
    assert.equal(headers['causeway-endpoint'], `127.0.0.1:${world.echoPort}`);
    stream.destroy();
    publishInB(world, 'down', [endpointOf(world.deadPort), endpointOf(await freePort())], { protocol: 'tcp' });
    const err = await refusal(tunnels.open(world.gatewayB, 'down.demo:8080', CLIENT));
    assert.equal(err.status, 502);
    assert.equal(err.code, 'CW_UPSTREAM_CONNECT');
  });

  it('serves a plain CONNECT to an HTTP port as HTTP: the backend gets our x-forwarded-client-cert, never the caller\'s', async () => {
    const { stream, headers } = await tunnels.open(world.gatewayB, 'echo.demo:8080', CLIENT);
    assert.equal(headers[':status'], 200);
    const answer = readAll(stream);
    stream.end('GET /inside HTTP/1.1\r\nhost: echo.demo:8080\r\nx-forwarded-client-cert: By=spiffe://forged/x;URI=spiffe://forged/y\r\nconnection: close\r\n\r\n');
    const text = await answer;
    assert.match(text, /^HTTP\/1\.1 200 /);
    // The body may come chunked: the JSON object is what lies between its braces.
    const body = JSON.parse(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1)) as { path: string; headers: Record<string, string> };
    assert.equal(body.path, '/inside');
    assert.equal(body.headers['x-forwarded-client-cert'], `By=${world.b.svid.current().spiffeId};URI=${CLIENT}`);
  });

  it('refuses a plain CONNECT to an HTTP/2 port (calls go as their own streams)', async () => {
    publishInB(world, 'grpcish', [endpointOf(world.echoPort)], { protocol: 'grpc' });
    const err = await refusal(tunnels.open(world.gatewayB, 'grpcish.demo:8080', CLIENT));
    assert.equal(err.status, 400);
    assert.equal(err.code, 'CW_REQUEST_INVALID');
  });

  it('picks only endpoints with the labels of causeway-subset, and refuses a malformed one', async () => {
    publishInB(world, 'tcplabelled', [
      endpointOf(world.deadPort, { labels: { env: 'prod' }, weight: 1000 }),
      endpointOf(world.echoPort, { address: '127.0.0.1', labels: { env: 'dev' } }),
    ]);
    for (let i = 0; i < 3; i += 1) {
      const { stream, headers } = await tunnels.open(world.gatewayB, 'tcplabelled.demo:8080', CLIENT, { subset: 'env=dev' });
      assert.equal(headers['causeway-endpoint'], `127.0.0.1:${world.echoPort}`);
      stream.destroy();
    }
    const none = await refusal(tunnels.open(world.gatewayB, 'tcplabelled.demo:8080', CLIENT, { subset: 'env=staging' }));
    assert.equal(none.status, 503);
    assert.equal(none.code, 'CW_NO_HEALTHY_ENDPOINT');
    for (const bad of ['env', 'env=dev,env=prod', '=x', 'e nv=dev']) {
      const err = await refusal(tunnels.open(world.gatewayB, 'tcplabelled.demo:8080', CLIENT, { subset: bad }));
      assert.equal(err.status, 400, bad);
      assert.equal(err.code, 'CW_REQUEST_INVALID', bad);
    }
  });

  it('refuses HTTP/2 calls to ports that are not grpc or http2, calls without https, and CONNECTs to a malformed authority (400)', async () => {
    const get = await h2Probe(world.gatewayB.eastWestAddress, probeCreds, { ':method': 'GET', ':path': '/', ':scheme': 'https', ':authority': 'echo.demo:8080', 'causeway-source': CLIENT });
    assert.equal(get.outcome, 'answered');
    assert.equal(get.outcome === 'answered' && get.status, 400);
    assert.equal(get.outcome === 'answered' && get.headers['causeway-error'], 'CW_REQUEST_INVALID');
    const plain = await h2Probe(world.gatewayB.eastWestAddress, probeCreds, { ':method': 'GET', ':path': '/', ':scheme': 'http', ':authority': 'echo.demo:8080', 'causeway-source': CLIENT });
    assert.equal(plain.outcome === 'answered' && plain.status, 400);
    for (const authority of ['echo.demo', 'echo_x.demo:80', 'echo.demo.svc:80', '127.0.0.1:8080']) {
      const bad = await h2Probe(world.gatewayB.eastWestAddress, probeCreds, { ':method': 'CONNECT', ':authority': authority, 'causeway-source': CLIENT });
      assert.equal(bad.outcome === 'answered' && bad.status, 400, `${authority}: ${JSON.stringify(bad)}`);
      assert.equal(bad.outcome === 'answered' && bad.headers['causeway-error'], 'CW_REQUEST_INVALID');
    }
  });

  it('refuses a client with no certificate or a self-signed one claiming a trusted domain, before any stream', async () => {
    const connect = { ':method': 'CONNECT', ':authority': 'echo.demo:8080', 'causeway-source': CLIENT };
    const none = await h2Probe(world.gatewayB.eastWestAddress, { caPem: caPemOfB }, connect);
    assert.equal(none.outcome, 'refused');
    const forged = selfSignedSvid('spiffe://a.test/gateway/gw-a');
    const selfSigned = await h2Probe(world.gatewayB.eastWestAddress, { caPem: caPemOfB, ...forged }, connect);
    assert.equal(selfSigned.outcome, 'refused');
    // Positive control: A's real certificate gets an answer on the same request.
    const real = await h2Probe(world.gatewayB.eastWestAddress, probeCreds, connect);
    assert.equal(real.outcome === 'answered' && real.status, 200);
  });

  it('records each mTLS connection and counts refusals', async () => {
    const hops = world.eastWestB.recentConnections();
    assert.ok(hops.length > 0);
    const fromA = hops.filter((h) => h.peer?.trustDomain === 'a.test' && h.peer.spiffeId.includes('/gateway/'));
    assert.ok(fromA.length > 0);
    for (const hop of fromA) {
      assert.equal(hop.peer?.spiffeId, 'spiffe://a.test/gateway/gw-a');
      assert.equal(hop.protocol, 'TLSv1.3');
      assert.equal(hop.alpn, 'h2');
    }
    const stats = world.eastWestB.stats();
    assert.ok((stats.refused.CW_ACCESS_DENIED ?? 0) >= 1);
    assert.ok((stats.refused.CW_IDENTITY_REFUSED ?? 0) >= 1);
    assert.ok(stats.tunnelsOpened >= 3);
  });

  it('closes idempotently and refuses to listen again', async () => {
    const { EastWestServer } = await import('../../../../gateway/dataplane/eastwest-server.js');
    const server = new EastWestServer({ svid: world.b.svid, trust: world.b.trust, catalog: world.b.catalog, localTrustDomain: 'b.test', access: () => [] });
    await server.listen('127.0.0.1', 0);
    await Promise.all([server.close(), server.close()]);
    await assert.rejects(server.listen('127.0.0.1', 0), (err: unknown) => err instanceof CausewayError && err.code === 'CW_CLOSED');
  });
});
