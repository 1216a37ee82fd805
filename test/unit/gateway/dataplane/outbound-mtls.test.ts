import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect as h2connect, createServer as createH2Server, type Http2Server } from 'node:http2';
import { connect as netConnect, type AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createLogger, type ServiceRecord } from '../../../../registry/index.js';
import { CertificateAuthority, TrustStore, type Svid } from '../../../../federation/index.js';
import { workloadCallerRefusal } from '../../../../gateway/caller-identity.js';
import { OutboundProxy, type RequestRecord } from '../../../../gateway/dataplane/outbound-proxy.js';
import { TunnelClient } from '../../../../gateway/dataplane/tunnel-client.js';
import { buildCert, selfSignedSvid } from '../../../helpers/certs.js';
import { waitFor } from '../../../helpers/wait-for.js';
import { curl, tlsH2, tlsHttp1, type WorkloadAnswer, type WorkloadCredentials } from '../../../helpers/workload-tls.js';
import { endpointOf, makeWorld, publishInB, type World } from './sides.js';

/**
 * Workloads calling A's outbound listener with mTLS and their X.509-SVID (issue 9, item 2), on
 * the port plaintext HTTP/1.1 and h2c callers keep using; the destination backend learns the
 * verified caller in x-forwarded-client-cert, written by the gateway that owns the endpoint
 * (A for alpha, B for echo), and never what a caller sent.
 */

const CLIENT = 'spiffe://a.test/ns/demo/sa/client';
const PLAIN = 'spiffe://a.test/ns/demo/sa/plain';
const GW_A = 'spiffe://a.test/gateway/gw-a';
const GW_B = 'spiffe://b.test/gateway/gw-b';
const FORGED = 'By=spiffe://a.test/gateway/gw-a;URI=spiffe://a.test/ns/demo/sa/admin';

interface Seen {
  cluster: string;
  xfcc: string | undefined;
  source: string | undefined;
}

function h2Record(origin: string, name: string, port: number): ServiceRecord {
  return {
    origin, name, namespace: 'demo', version: { origin, epoch: 1, seq: Date.now() }, deleted: false, exported: true,
    ports: [{ name: 'h2', port: 8443, protocol: 'http2' }], endpoints: [{ ...endpointOf(port), ports: { h2: port } }],
  };
}

/** Backends answering what identity fields they were given. */
function seenOf(cluster: string, headers: Record<string, string | string[] | undefined>): string {
  const seen: Seen = { cluster, xfcc: headers['x-forwarded-client-cert'] as string | undefined, source: headers['causeway-source'] as string | undefined };
  return JSON.stringify(seen);
}

async function listen(server: HttpServer | Http2Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

describe('outbound listener: workloads calling with mTLS and their SVID', () => {
  let world: World;
  let tunnels: TunnelClient;
  let proxy: OutboundProxy;
  let port = 0;
  let alpha: HttpServer;
  let alpha2: Http2Server;
  let web2: Http2Server;
  let callerTrust: TrustStore;
  let client: Svid;
  let creds: WorkloadCredentials;
  let plainCaller: string | undefined;
  let backendRequests = 0;
  const records: RequestRecord[] = [];
  const logLines: Array<Record<string, unknown>> = [];
  /** A root the tests add to a.test's bundle, to sign leaves the CA would never issue. */
  const testRoot = buildCert({ ca: true, uris: ['spiffe://a.test'], subjectCn: 'test-root-a', keyType: 'ec' });

  const answered = (answer: WorkloadAnswer): Extract<WorkloadAnswer, { outcome: 'answered' }> => {
    assert.equal(answer.outcome, 'answered', JSON.stringify(answer));
    return answer as Extract<WorkloadAnswer, { outcome: 'answered' }>;
  };
  const seen = (answer: WorkloadAnswer): Seen => JSON.parse(answered(answer).body) as Seen;
  const withCert = (svid: { certPem?: string; certChainPem?: string; keyPem: string }): WorkloadCredentials =>
    ({ ...creds, certPem: svid.certChainPem ?? svid.certPem, keyPem: svid.keyPem });

  before(async () => {
    world = await makeWorld();
    world.rulesB.push({ to: '*', from: ['spiffe://a.test/ns/demo/*'] });
    alpha = createHttpServer((req, res) => {
      backendRequests += 1;
      res.setHeader('content-type', 'application/json');
      res.end(seenOf('a', req.headers));
    });
    alpha2 = createH2Server((req, res) => {
      backendRequests += 1;
      res.end(seenOf('a', req.headers));
    });
    web2 = createH2Server((req, res) => {
      backendRequests += 1;
      res.end(seenOf('b', req.headers));
    });
    world.a.putLocal('alpha', [endpointOf(await listen(alpha), { identity: 'spiffe://a.test/ns/demo/sa/alpha' })]);
    world.a.catalog.applyLocal(h2Record('a', 'alpha2', await listen(alpha2)));
    const web2Record = h2Record('b', 'web2', await listen(web2));
    world.b.catalog.applyLocal(web2Record);
    world.a.catalog.applyRemote([web2Record]);
    publishInB(world, 'echo', [endpointOf(world.httpPort)]);
    publishInB(world, 'tcpecho', [endpointOf(world.echoPort)], { port: 9000 });

    // The bundles A's outbound listener checks callers against: its own domain (with a test
    // root, for leaves no CA of ours would sign) and a federated one.
    callerTrust = new TrustStore();
    const own = world.a.ca.bundle();
    callerTrust.set({ ...own, rootsPem: [...own.rootsPem, testRoot.certPem] });
    callerTrust.set(world.b.ca.bundle());

    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    proxy = new OutboundProxy({
      catalog: world.a.catalog, tunnels, locality: world.a.locality, connectTimeoutMs: 2000,
      callerIdentity: () => plainCaller,
      onRequest: (record) => records.push(record),
      logger: createLogger({ level: 'debug', destination }),
      tls: { svid: world.a.svid, trust: callerTrust, admit: (peer) => workloadCallerRefusal(peer, 'a.test'), handshakeTimeoutMs: 500 },
    });
    port = (await proxy.listen('127.0.0.1', 0)).port;
    // The workload's SVID, from A's CA (the identity listener signs a CSR with the same call).
    client = world.a.ca.issueKeyAndSvid(CLIENT, 600);
    creds = { caPem: world.a.ca.bundle().rootsPem, expectServerId: GW_A, trustDomain: 'a.test', certPem: client.certChainPem, keyPem: client.keyPem };
  });

  after(async () => {
    await proxy?.close();
    await tunnels?.close();
    alpha?.close();
    alpha2?.close();
    web2?.close();
    await world?.close();
  });

  beforeEach(() => {
    plainCaller = undefined;
    records.length = 0;
  });

  it('HTTP/1.1 over mTLS (absolute-form, ALPN http/1.1 or none): the backend sees the SVID\'s ID from the endpoint\'s gateway, never the forged fields', async () => {
    for (const alpn of [['http/1.1'], undefined]) {
      const local = await tlsHttp1(port, creds, {
        path: 'http://alpha.demo:8080/x', alpn, headers: { 'x-forwarded-client-cert': FORGED, 'causeway-source': 'spiffe://a.test/ns/demo/sa/admin' },
      });
      assert.equal(answered(local).serverId, GW_A);
      assert.deepEqual(seen(local), { cluster: 'a', xfcc: `By=${GW_A};URI=${CLIENT}` });
      const remote = await tlsHttp1(port, creds, { path: 'http://echo.demo:8080/y', alpn, headers: { 'X-Forwarded-Client-Cert': FORGED } });
      const body = JSON.parse(answered(remote).body) as { cluster: string; headers: Record<string, string> };
      assert.equal(body.cluster, 'b');
      // B owns the endpoint: By is B's gateway; A's own caller assertion never reaches the backend.
      assert.equal(body.headers['x-forwarded-client-cert'], `By=${GW_B};URI=${CLIENT}`);
      assert.equal(body.headers['causeway-source'], undefined);
    }
    assert.deepEqual(records.map((r) => [r.service, r.status, r.source]), [
      ['alpha.demo', 200, CLIENT], ['echo.demo', 200, CLIENT], ['alpha.demo', 200, CLIENT], ['echo.demo', 200, CLIENT],
    ]);
  });

  it('HTTP/2 over mTLS (ALPN h2): local and remote calls carry the caller in x-forwarded-client-cert', async () => {
    const local = await tlsH2(port, creds, { ':authority': 'alpha2.demo:8443', ':path': '/x', 'x-forwarded-client-cert': FORGED });
    assert.equal(answered(local).alpn, 'h2');
    assert.deepEqual(seen(local), { cluster: 'a', xfcc: `By=${GW_A};URI=${CLIENT}` });
    const remote = await tlsH2(port, creds, { ':authority': 'web2.demo:8443', ':path': '/y', 'x-forwarded-client-cert': FORGED, 'causeway-source': 'spiffe://a.test/x' });
    assert.deepEqual(seen(remote), { cluster: 'b', xfcc: `By=${GW_B};URI=${CLIENT}` });
    assert.deepEqual(records.map((r) => [r.service, r.status, r.source]), [['alpha2.demo', 200, CLIENT], ['web2.demo', 200, CLIENT]]);
  });

  it('CONNECT over mTLS opens a tunnel as the SVID\'s identity, and carries the caller\'s half-close', async () => {
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({
        host: '127.0.0.1', port, ca: [...creds.caPem], cert: creds.certPem, key: creds.keyPem, ALPNProtocols: ['http/1.1'], checkServerIdentity: () => undefined,
      }, () => resolve(s));
      s.on('error', reject);
    });
    try {
      socket.write('CONNECT tcpecho.demo:9000 HTTP/1.1\r\nHost: tcpecho.demo:9000\r\n\r\n');
      const head = await new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
      assert.match(head, /^HTTP\/1\.1 200/);
      socket.write('ping');
      assert.equal(await new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString()))), 'ping');
      // The caller's half-close (close_notify) is carried: the echo backend answers its FIN with "bye".
      const rest = new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (d: Buffer) => { text += d.toString(); });
        socket.once('end', () => resolve(text));
      });
      socket.end();
      assert.equal(await rest, 'bye');
    } finally {
      socket.destroy();
    }
    assert.deepEqual(records.map((r) => [r.method, r.service, r.status, r.source]), [['CONNECT', 'tcpecho.demo', 200, CLIENT]]);
  });

  it('real clients: curl through an HTTPS proxy (client certificate to the proxy) and curl --http2 over TLS', async () => {
    const files = { cert: path.join(world.tmp, 'client.pem'), key: path.join(world.tmp, 'client.key'), ca: path.join(world.tmp, 'bundle.pem') };
    await writeFile(files.cert, client.certChainPem);
    await writeFile(files.key, client.keyPem, { mode: 0o600 });
    await writeFile(files.ca, world.a.ca.bundle().rootsPem.join(''));
    // The gateway's SVID names no host (only its SPIFFE ID), so curl cannot check it by name:
    // --proxy-insecure / -k skip that; the client certificate is what is tested here.
    const viaProxy = await curl(['-x', `https://127.0.0.1:${port}`, '--proxy-insecure', '--proxy-cert', files.cert, '--proxy-key', files.key,
      '-H', `x-forwarded-client-cert: ${FORGED}`, 'http://alpha.demo:8080/curl']);
    assert.equal(viaProxy.code, 0, viaProxy.stderr);
    assert.deepEqual(JSON.parse(viaProxy.stdout), { cluster: 'a', xfcc: `By=${GW_A};URI=${CLIENT}` });
    const h2 = await curl(['--http2', '-k', '--cert', files.cert, '--key', files.key, '--connect-to', `web2.demo:8443:127.0.0.1:${port}`,
      '-H', `x-forwarded-client-cert: ${FORGED}`, 'https://web2.demo:8443/curl']);
    assert.equal(h2.code, 0, h2.stderr);
    assert.deepEqual(JSON.parse(h2.stdout), { cluster: 'b', xfcc: `By=${GW_B};URI=${CLIENT}` });
    // The same curl without a client certificate is refused in the handshake (certificate_required).
    const anonymousTls = await curl(['-x', `https://127.0.0.1:${port}`, '--proxy-insecure', 'http://alpha.demo:8080/curl']);
    assert.notEqual(anonymousTls.code, 0);
    assert.match(anonymousTls.stderr, /certificate required/);
  });

  it('plaintext callers keep working on the same port: source-address identity, or anonymous with no x-forwarded-client-cert', async () => {
    plainCaller = PLAIN;
    const identified = await curl(['-x', `http://127.0.0.1:${port}`, '-H', `x-forwarded-client-cert: ${FORGED}`, 'http://alpha.demo:8080/plain']);
    assert.equal(identified.code, 0, identified.stderr);
    assert.deepEqual(JSON.parse(identified.stdout), { cluster: 'a', xfcc: `By=${GW_A};URI=${PLAIN}` });
    plainCaller = undefined;
    const anonymous = await curl(['-x', `http://127.0.0.1:${port}`, '-H', `x-forwarded-client-cert: ${FORGED}`, 'http://alpha.demo:8080/plain']);
    assert.equal(anonymous.code, 0, anonymous.stderr);
    assert.deepEqual(JSON.parse(anonymous.stdout), { cluster: 'a' }, 'an anonymous caller gets no x-forwarded-client-cert, and the forged one is gone');
    const h2c = await new Promise<string>((resolve, reject) => {
      const session = h2connect(`http://127.0.0.1:${port}`);
      session.on('error', reject);
      const stream = session.request({ ':method': 'GET', ':path': '/', ':authority': 'alpha2.demo:8443', 'x-forwarded-client-cert': FORGED });
      let text = '';
      stream.on('data', (c: Buffer) => { text += c.toString(); });
      stream.on('end', () => { session.close(); resolve(text); });
      stream.end();
    });
    assert.deepEqual(JSON.parse(h2c), { cluster: 'a' });
    assert.deepEqual(records.map((r) => r.source), [PLAIN, 'anonymous', 'anonymous']);
  });

  it('refuses bad client certificates in the handshake or right after it, with the reason logged, and serves nothing', async () => {
    const rogueRoot = buildCert({ ca: true, uris: ['spiffe://a.test'], subjectCn: 'rogue-root', keyType: 'ec' });
    const past = await CertificateAuthority.loadOrCreate({ dir: path.join(world.tmp, 'a'), trustDomain: 'a.test', now: () => Date.now() - 86_400_000 });
    const expired = past.issueKeyAndSvid(CLIENT, 600);
    past.close();
    const cases: Array<[string, WorkloadCredentials, RegExp]> = [
      ['no client certificate', { ...creds, certPem: undefined, keyPem: undefined }, /no client certificate: the handshake ended with certificate_required/],
      ['a CA this gateway does not hold', withCert(buildCert({ issuer: rogueRoot, uris: [CLIENT], keyType: 'ec' })), /client certificate not trusted: UNABLE_TO_VERIFY_LEAF_SIGNATURE \(it does not chain to a root of any trust bundle this gateway holds\)/],
      ['self-signed', withCert(selfSignedSvid(CLIENT)), /client certificate not trusted: DEPTH_ZERO_SELF_SIGNED_CERT/],
      ['expired', withCert(expired), /client certificate not trusted: CERT_HAS_EXPIRED \(the certificate has expired\)/],
      ['no URI SAN', withCert(buildCert({ issuer: testRoot, dnsNames: ['client.demo'], keyType: 'ec' })), /leaf: uri-san-missing/],
      ['two URI SANs', withCert(buildCert({ issuer: testRoot, uris: [CLIENT, PLAIN], keyType: 'ec' })), /leaf: uri-san-multiple/],
      ['a federated trust domain', withCert(world.b.ca.issueKeyAndSvid('spiffe://b.test/ns/demo/sa/client', 600)), /is of trust domain b\.test; the outbound listener takes SVIDs of this gateway's own trust domain a\.test only/],
      ['a gateway identity', withCert(world.a.svid.current()), /spiffe:\/\/a\.test\/gateway\/gw-a is a gateway identity/],
    ];
    const before = { requests: backendRequests, refusals: proxy.tlsStats()!.refusals };
    for (const [name, credentials, reason] of cases) {
      const linesBefore = logLines.length;
      for (const attempt of [
        () => tlsHttp1(port, credentials, { path: 'http://alpha.demo:8080/bad', alpn: ['http/1.1'] }),
        () => tlsH2(port, credentials, { ':authority': 'alpha2.demo:8443' }),
      ]) {
        const answer = await attempt();
        assert.equal(answer.outcome, 'refused', `${name}: ${JSON.stringify(answer)}`);
      }
      const logged = await waitFor(`the refusal of "${name}" in the log`, () =>
        logLines.slice(linesBefore).find((l) => typeof l.reason === 'string' && reason.test(l.reason)));
      assert.equal(logged.component, 'outbound', name);
      assert.match(String(logged.msg), /TLS handshake refused|connection refused/, name);
    }
    assert.equal(backendRequests, before.requests, 'no refused caller reached a backend');
    assert.deepEqual(records, [], 'nothing was routed for a refused caller');
    assert.equal(proxy.tlsStats()!.refusals, before.refusals + cases.length * 2);
    // And the listener still serves good callers, TLS and plaintext.
    assert.deepEqual(seen(await tlsHttp1(port, creds, { path: 'http://alpha.demo:8080/after' })), { cluster: 'a', xfcc: `By=${GW_A};URI=${CLIENT}` });
  });

  it('closes a TLS caller that does not finish its handshake within the handshake timeout', async () => {
    const started = Date.now();
    const closed = await new Promise<boolean>((resolve) => {
      const socket = netConnect(port, '127.0.0.1', () => socket.write(Buffer.from([0x16, 0x03, 0x01])));
      const timer = setTimeout(() => { socket.destroy(); resolve(false); }, 5000);
      socket.on('error', () => undefined);
      socket.on('close', () => { clearTimeout(timer); resolve(true); });
    });
    assert.ok(closed, 'a stalled handshake was held open');
    assert.ok(Date.now() - started < 3000, `closed after ${Date.now() - started} ms`);
  });

  it('follows rotation: a new serving SVID for new connections, and a root added to the bundle admits its SVIDs without a restart', async () => {
    const first = answered(await tlsHttp1(port, creds, { path: 'http://alpha.demo:8080/r' }));
    const rotated = world.a.svid.rotateNow();
    const fingerprints = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const socket = await new Promise<TLSSocket>((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port, ca: [...creds.caPem], cert: creds.certPem, key: creds.keyPem, checkServerIdentity: () => undefined }, () => resolve(s));
        s.on('error', reject);
      });
      fingerprints.add(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    }
    assert.equal(first.serverId, GW_A);
    assert.equal(fingerprints.size, 1);
    assert.equal([...fingerprints][0], new X509Certificate(rotated.certChainPem).fingerprint256);

    const newRoot = buildCert({ ca: true, uris: ['spiffe://a.test'], subjectCn: 'new-root-a', keyType: 'ec' });
    const leaf = withCert(buildCert({ issuer: newRoot, uris: [CLIENT], keyType: 'ec' }));
    assert.equal((await tlsHttp1(port, leaf, { path: 'http://alpha.demo:8080/r' })).outcome, 'refused');
    const held = callerTrust.get('a.test')!;
    callerTrust.set({ ...held, sequence: held.sequence + 1, rootsPem: [...held.rootsPem, newRoot.certPem] });
    assert.deepEqual(seen(await tlsHttp1(port, leaf, { path: 'http://alpha.demo:8080/r' })), { cluster: 'a', xfcc: `By=${GW_A};URI=${CLIENT}` });

    // Every TLS connection of these tests is gone from the listener's count once it closed.
    await waitFor('TLS caller connections to be released', () => (proxy.connectionCount() === 0 ? true : undefined), 5000);
  });
});

