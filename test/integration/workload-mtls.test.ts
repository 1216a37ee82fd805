import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import { createServer as createH2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { createLogger, silentLogger } from '../../registry/index.js';
import { Gateway, parseConfigText } from '../../gateway/index.js';
import { selfSignedSvid } from '../helpers/certs.js';
import { spiffeHttps } from '../helpers/https-spiffe.js';
import { makeTempDir } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait-for.js';
import { curl } from '../helpers/workload-tls.js';

/**
 * A workload of cluster-a gets its SVID the way a real one does (join token, its own key, a
 * CSR to A's identity listener), then calls through A's outbound listener with mTLS: curl as an
 * HTTPS proxy client for HTTP/1.1, curl --http2 over TLS for an HTTP/2 call. The backends in
 * cluster-b learn the caller in x-forwarded-client-cert with By = B's gateway — the gateway
 * that owns the endpoint — and never what the caller sent. Two in-process gateways, peered by
 * token, real sockets and real TLS.
 */

const CLIENT = 'spiffe://cluster-a.causeway.test/ns/demo/sa/client';
const GW_A = 'spiffe://cluster-a.causeway.test/gateway/gw-a';
const GW_B = 'spiffe://cluster-b.causeway.test/gateway/gw-b';
const FORGED = `By=${GW_B};URI=spiffe://cluster-a.causeway.test/ns/demo/sa/admin`;

interface Seen {
  cluster: string;
  xfcc?: string;
  source?: string;
}

function seen(cluster: string, headers: IncomingHttpHeaders): string {
  return JSON.stringify({ cluster, xfcc: headers['x-forwarded-client-cert'], source: headers['causeway-source'] });
}

async function listen(server: HttpServer | Http2Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

function run(command: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => execFile(command, args, (err, _stdout, stderr) => resolve({ code: err === null ? 0 : 1, stderr })));
}

describe('a workload calls across clusters with its SVID over mTLS to the outbound listener', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let a: Gateway;
  let b: Gateway;
  const servers: Array<HttpServer | Http2Server> = [];
  const logA: Array<Record<string, unknown>> = [];
  let files: { cert: string; key: string };
  let proxy = '';
  let outboundPort = 0;

  before(async () => {
    tmp = await makeTempDir('workload-mtls');
    const alpha = createHttpServer((req, res) => res.end(seen('cluster-a', req.headers)));
    const beta = createHttpServer((req, res) => res.end(seen('cluster-b', req.headers)));
    const beta2 = createH2Server((req, res) => res.end(seen('cluster-b', req.headers)));
    servers.push(alpha, beta, beta2);
    const [alphaPort, betaPort, beta2Port] = [await listen(alpha), await listen(beta), await listen(beta2)];
    const listenAll = { admin: '127.0.0.1:0', outbound: '127.0.0.1:0', federation: '127.0.0.1:0', eastWest: '127.0.0.1:0', identity: '127.0.0.1:0' };
    const endpoint = (port: number, sa: string, name = 'http'): Record<string, unknown> =>
      ({ address: '127.0.0.1', ports: { [name]: port }, identity: `spiffe://${sa}`, kind: 'vm' });
    const configA = {
      cluster: 'cluster-a', trustDomain: 'cluster-a.causeway.test', gatewayName: 'gw-a', dataDir: path.join(tmp.dir, 'a'), listen: listenAll,
      locality: { cloud: 'local', region: 'region-a', zone: 'zone-1' },
      services: [{ name: 'alpha', namespace: 'demo', ports: [{ name: 'http', port: 8080 }], endpoints: [endpoint(alphaPort, 'cluster-a.causeway.test/ns/demo/sa/alpha')] }],
    };
    const configB = {
      cluster: 'cluster-b', trustDomain: 'cluster-b.causeway.test', gatewayName: 'gw-b', dataDir: path.join(tmp.dir, 'b'), listen: listenAll,
      locality: { cloud: 'local', region: 'region-b', zone: 'zone-1' },
      services: [
        { name: 'beta', namespace: 'demo', export: true, ports: [{ name: 'http', port: 8080 }], endpoints: [endpoint(betaPort, 'cluster-b.causeway.test/ns/demo/sa/beta')] },
        { name: 'beta2', namespace: 'demo', export: true, ports: [{ name: 'h2', port: 8443, protocol: 'http2' }], endpoints: [endpoint(beta2Port, 'cluster-b.causeway.test/ns/demo/sa/beta2', 'h2')] },
      ],
      access: [{ to: '*', from: ['spiffe://cluster-a.causeway.test/ns/demo/*'] }],
    };
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line !== '') logA.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    b = await Gateway.start(parseConfigText(stringify(configB)), { logger: silentLogger() });
    a = await Gateway.start(parseConfigText(stringify(configA)), { logger: createLogger({ level: 'info', destination }) });
    await a.peers.addPeer(await b.peers.createToken({ ttlSeconds: 600 }));
    await waitFor('beta2.demo of cluster-b in A', () => a.catalog.get('cluster-b', 'beta2.demo'));
    proxy = `https://${a.listeners.outbound}`;
    outboundPort = Number(a.listeners.outbound.split(':').at(-1));

    // The workload: its own key, a CSR for its ID, redeemed with a join token at A's identity listener.
    files = { cert: path.join(tmp.dir, 'client.pem'), key: path.join(tmp.dir, 'client.key') };
    const csr = path.join(tmp.dir, 'client.csr');
    assert.equal((await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', files.key])).code, 0);
    const req = await run('openssl', ['req', '-new', '-key', files.key, '-subj', '/CN=client', '-addext', `subjectAltName=URI:${CLIENT}`, '-out', csr]);
    assert.equal(req.code, 0, req.stderr);
    const { token } = await a.issuer.createJoinToken({ identity: CLIENT, ttlSeconds: 600 });
    const issued = await spiffeHttps(`https://${a.listeners.identity}/v1/svid`, {
      rootsPem: [...a.trust.get('cluster-a.causeway.test')!.rootsPem], expectServerId: GW_A, method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ csr: await readFile(csr, 'utf8') }),
    });
    assert.equal(issued.status, 201, issued.body);
    await writeFile(files.cert, (JSON.parse(issued.body) as { certChainPem: string }).certChainPem);
  });

  after(async () => {
    await a?.close();
    await b?.close();
    for (const server of servers) server.close();
    await tmp?.remove();
  });

  /** curl through A's outbound listener as an HTTPS proxy, with the workload's SVID. */
  const viaTlsProxy = (url: string, extra: string[] = []): ReturnType<typeof curl> =>
    // The gateway's SVID names no host, only its SPIFFE ID, so curl cannot check it by name.
    curl(['-x', proxy, '--proxy-insecure', '--proxy-cert', files.cert, '--proxy-key', files.key, ...extra, url]);

  it('HTTP/1.1 (curl with an HTTPS proxy): B\'s backend sees the workload\'s ID with By = B\'s gateway; the forged header is gone', async () => {
    const result = await viaTlsProxy('http://beta.demo:8080/x', ['-H', `x-forwarded-client-cert: ${FORGED}`, '-H', 'causeway-source: spiffe://cluster-a.causeway.test/ns/x/sa/y']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout) as Seen, { cluster: 'cluster-b', xfcc: `By=${GW_B};URI=${CLIENT}` });
    // A's own endpoint: A owns it, so By is A.
    const local = await viaTlsProxy('http://alpha.demo:8080/x', ['-H', `x-forwarded-client-cert: ${FORGED}`]);
    assert.equal(local.code, 0, local.stderr);
    assert.deepEqual(JSON.parse(local.stdout) as Seen, { cluster: 'cluster-a', xfcc: `By=${GW_A};URI=${CLIENT}` });
    assert.ok(a.requests.list().some((r) => r.service === 'beta.demo' && r.source === CLIENT && r.status === 200), 'A recorded the request as the workload\'s');
  });

  it('HTTP/2 over TLS (curl --http2): the call reaches B\'s HTTP/2 backend as the workload', async () => {
    const result = await curl(['--http2', '-k', '--cert', files.cert, '--key', files.key, '--connect-to', `beta2.demo:8443:127.0.0.1:${outboundPort}`,
      '-H', `x-forwarded-client-cert: ${FORGED}`, 'https://beta2.demo:8443/call']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout) as Seen, { cluster: 'cluster-b', xfcc: `By=${GW_B};URI=${CLIENT}` });
  });

  it('a plaintext caller on the same port is anonymous: no x-forwarded-client-cert locally, and B refuses it', async () => {
    const local = await curl(['-x', `http://${a.listeners.outbound}`, '-H', `x-forwarded-client-cert: ${FORGED}`, 'http://alpha.demo:8080/x']);
    assert.equal(local.code, 0, local.stderr);
    assert.deepEqual(JSON.parse(local.stdout) as Seen, { cluster: 'cluster-a' });
    const remote = await curl(['-x', `http://${a.listeners.outbound}`, '-w', '%{http_code}', '-o', '/dev/null', 'http://beta.demo:8080/x']);
    assert.equal(remote.stdout, '403');
  });

  it('refuses a self-signed certificate and an SVID of a federated trust domain, with the reason in A\'s log', async () => {
    const selfSigned = selfSignedSvid(CLIENT);
    const foreign = b.ca.issueKeyAndSvid('spiffe://cluster-b.causeway.test/ns/demo/sa/client', 600);
    const cases: Array<[string, { certPem: string; keyPem: string }, RegExp]> = [
      ['self-signed', selfSigned, /client certificate not trusted: DEPTH_ZERO_SELF_SIGNED_CERT/],
      ['federated domain', { certPem: foreign.certChainPem, keyPem: foreign.keyPem }, /is of trust domain cluster-b\.causeway\.test; the outbound listener takes SVIDs of this gateway's own trust domain cluster-a\.causeway\.test only/],
    ];
    for (const [name, svid, reason] of cases) {
      const cert = path.join(tmp.dir, `${name}.pem`);
      const key = path.join(tmp.dir, `${name}.key`);
      await writeFile(cert, svid.certPem);
      await writeFile(key, svid.keyPem, { mode: 0o600 });
      const result = await curl(['-x', proxy, '--proxy-insecure', '--proxy-cert', cert, '--proxy-key', key, 'http://beta.demo:8080/x']);
      assert.notEqual(result.code, 0, `${name}: ${result.stdout}`);
      await waitFor(`A to log why it refused the ${name} certificate`, () => logA.find((l) => typeof l.reason === 'string' && reason.test(l.reason)));
    }
  });
});
