import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';
import { CertificateAuthority } from '../../federation/index.js';
import { spawnGateway, startEchoBackend, writeDemoConfigs, type GatewayProcess } from '../../gateway/index.js';
import { selfSignedSvid } from '../helpers/certs.js';
import { h2Probe, type ProbeCredentials } from '../helpers/h2-probe.js';
import { FIXTURES, makeTempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { getJson, waitFor } from '../helpers/wait-for.js';

interface ServicesAnswer {
  services: Array<{ key: string; clusters: Record<string, { endpoints: Array<{ address: string; ports: Record<string, number> }> }> }>;
}

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['--silent', '--show-error', '--max-time', '20', ...args], (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

describe('two gateways as separate processes, peered by token', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let backend: Awaited<ReturnType<typeof startEchoBackend>>;
  let files: { a: string; b: string };
  let a: GatewayProcess | undefined;
  let b: GatewayProcess | undefined;
  let dnsLog: string;
  let spawnOptions: (name: string) => Parameters<typeof spawnGateway>[1];

  const dataDir = (side: 'a' | 'b'): string => path.join(tmp.dir, side === 'a' ? 'cluster-a' : 'cluster-b');
  const servicesOfA = (): Promise<ServicesAnswer> => getJson<ServicesAnswer>(`http://${a!.listeners.admin}/v1/services`);
  const echoEndpointsInA = async (): Promise<Array<{ address: string; ports: Record<string, number> }> | undefined> =>
    (await servicesOfA()).services.find((s) => s.key === 'echo.demo')?.clusters['cluster-b']?.endpoints;

  before(async () => {
    tmp = await makeTempDir('two-gateways');
    backend = await startEchoBackend('cluster-b');
    files = await writeDemoConfigs(tmp.dir, backend.port, true);
    dnsLog = path.join(tmp.dir, 'dns.log');
    spawnOptions = (name) => ({
      env: { ...process.env, CAUSEWAY_TEST_DNS_LOG: dnsLog, CAUSEWAY_LOG_LEVEL: 'debug' },
      nodeArgs: ['--import', pathToFileURL(path.join(FIXTURES, 'no-dns.mjs')).href],
      logFile: path.join(tmp.dir, `${name}.log`),
    });
    b = await spawnGateway(files.b, spawnOptions('b'));
    a = await spawnGateway(files.a, spawnOptions('a'));
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await backend?.close();
    await tmp?.remove();
  });

  it('refuses a malformed config naming the fields, with exit code 2 and nothing written', async () => {
    const bad = path.join(tmp.dir, 'bad.yaml');
    const badData = path.join(tmp.dir, 'bad-data');
    await writeFile(bad, stringify({ cluster: 'Bad_Name', dataDir: badData, listen: { eastWest: 'echo.demo:15443' }, servics: [] }));
    const result = await runCli(['gateway', '--config', bad]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /CW_CONFIG_INVALID/);
    assert.match(result.stderr, /cluster: "Bad_Name" is not a DNS-1123 label/);
    assert.match(result.stderr, /trustDomain: is required/);
    assert.match(result.stderr, /listen\.eastWest: "echo\.demo" is not an IP address/);
    assert.match(result.stderr, /servics: unknown field \(did you mean "services"\?\)/);
    assert.equal(existsSync(badData), false);
  });

  it('refuses a tampered and an expired token, persisting nothing', async () => {
    const peersFile = path.join(dataDir('a'), 'state', 'peers.json');
    const before = existsSync(peersFile) ? await readFile(peersFile, 'utf8') : undefined;

    const minted = await runCli(['peer', 'token', '--config', files.b]);
    assert.equal(minted.code, 0, minted.stderr);
    const [prefix, payload, mac] = minted.stdout.trim().split('.');
    const body = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    body.federationAddress = '127.0.0.1:1';
    const tampered = [prefix, Buffer.from(JSON.stringify(body)).toString('base64url'), mac].join('.');
    const refused = await runCli(['peer', 'add', tampered, '--config', files.a]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /CW_TOKEN_TAMPERED/);

    const shortLived = await runCli(['peer', 'token', '--ttl', '1s', '--config', files.b]);
    assert.equal(shortLived.code, 0, shortLived.stderr);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const expired = await runCli(['peer', 'add', shortLived.stdout.trim(), '--config', files.a]);
    assert.equal(expired.code, 2, expired.stderr);
    assert.match(expired.stderr, /CW_TOKEN_EXPIRED/);

    const garbage = await runCli(['peer', 'add', 'not-a-token', '--config', files.a]);
    assert.equal(garbage.code, 2);
    assert.match(garbage.stderr, /CW_TOKEN_MALFORMED/);

    const after = existsSync(peersFile) ? await readFile(peersFile, 'utf8') : undefined;
    assert.equal(after, before);
    const list = await runCli(['peer', 'list', '--config', files.a, '--json']);
    assert.deepEqual(JSON.parse(list.stdout).peers, []);
  });

  it('peers A with B by token through the CLI, and B\'s exported service reaches A', async () => {
    const minted = await runCli(['peer', 'token', '--config', files.b]);
    assert.equal(minted.code, 0, minted.stderr);
    const added = await runCli(['peer', 'add', minted.stdout.trim(), '--config', files.a]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /peered with .* \(cluster cluster-b, trust domain cluster-b\.causeway\.test\)/);
    const endpoints = await waitFor('echo.demo from cluster-b in A', echoEndpointsInA);
    assert.deepEqual(endpoints.map((e) => e.address), ['127.0.0.1']);
    const peersOfB = await getJson<{ peers: Array<{ cluster: string; state: string }> }>(`http://${b!.listeners.admin}/v1/peers`);
    await waitFor('B to see A connected', async () =>
      (await getJson<{ peers: Array<{ cluster: string; state: string }> }>(`http://${b!.listeners.admin}/v1/peers`)).peers.find((p) => p.cluster === 'cluster-a' && p.state === 'connected'));
    assert.ok(peersOfB.peers.some((p) => p.cluster === 'cluster-a'));
  });

  it('carries a request from A\'s outbound proxy to B\'s backend by mesh name (curl -x)', async () => {
    const result = await curl(['-x', `http://${a!.listeners.outbound}`, '-D', '-', 'http://echo.demo:8080/hello?x=1']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^HTTP\/1\.1 200/);
    assert.match(result.stdout, /causeway-route: remote cluster-b via spiffe:\/\/cluster-b\.causeway\.test\/gateway\/gw-b/i);
    const body = JSON.parse(result.stdout.slice(result.stdout.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    assert.equal(body.cluster, 'cluster-b');
    assert.equal(body.path, '/hello?x=1');
  });

  it('forwards a request body intact through A to B (regression: corrupted request line on POST)', async () => {
    const body = 'x'.repeat(1024);
    const result = await curl(['-x', `http://${a!.listeners.outbound}`, '-X', 'POST', '--data-binary', body, 'http://echo.demo:8080/upload']);
    assert.equal(result.code, 0, result.stderr);
    const answer = JSON.parse(result.stdout) as { method: string; path: string; bytes: number };
    assert.deepEqual([answer.method, answer.path, answer.bytes], ['POST', '/upload', 1024]);
  });

  it('serves 1600 requests from 16 concurrent keep-alive callers through A→B, every one a 200', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const proxy = a!.listeners.outbound.split(':');
    const once = (): Promise<number> => new Promise((resolve, reject) => {
      const req = httpRequest({ host: proxy[0], port: Number(proxy[1]), agent, method: 'POST', path: 'http://echo.demo:8080/burst', headers: { host: 'echo.demo:8080', 'content-length': '1024' }, timeout: 20_000 });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end('x'.repeat(1024));
    });
    const statuses = new Map<number, number>();
    try {
      for (let batch = 0; batch < 100; batch++) {
        for (const status of await Promise.all(Array.from({ length: 16 }, once))) statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    } finally {
      agent.destroy();
    }
    assert.deepEqual([...statuses], [[200, 1600]]);
  });

  it('tunnels a CONNECT through A to B (curl -p -x)', async () => {
    const result = await curl(['-p', '-x', `http://${a!.listeners.outbound}`, 'http://echo.demo:8080/tunnelled']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { path: string }).path, '/tunnelled');
  });

  it('never looks the mesh name up in DNS (every lookup fails in the gateway processes)', async () => {
    const attempted = existsSync(dnsLog) ? (await readFile(dnsLog, 'utf8')).split('\n').filter(Boolean) : [];
    assert.deepEqual(attempted.filter((name) => name.includes('echo')), []);
    // The resolver really is broken in those processes: a mesh name that is NOT in the
    // catalog is refused by the gateway without any lookup either.
    const unknown = await curl(['-x', `http://${a!.listeners.outbound}`, '-D', '-', 'http://nope.demo:8080/']);
    assert.match(unknown.stdout, /^HTTP\/1\.1 502/);
    assert.match(unknown.stdout, /CW_SERVICE_UNKNOWN/);
  });

  it('crosses A→B over TLS 1.3 with A\'s gateway SPIFFE ID as the client certificate', async () => {
    const status = await getJson<{ eastWest: { recentConnections: Array<{ peer?: { spiffeId: string }; protocol: string; alpn: string }> } }>(
      `http://${b!.listeners.admin}/v1/status`);
    const hops = status.eastWest.recentConnections;
    assert.ok(hops.length > 0, 'B recorded no east-west connection');
    for (const hop of hops) {
      assert.equal(hop.protocol, 'TLSv1.3');
      assert.equal(hop.alpn, 'h2');
      assert.equal(hop.peer?.spiffeId, 'spiffe://cluster-a.causeway.test/gateway/gw-a');
    }
  });

  it('refuses client certificates from an unknown trust domain, self-signed, or expired, on east-west and federation ports', async () => {
    const caPem = await readFile(path.join(dataDir('b'), 'ca', 'root.crt'), 'utf8');
    const rogueDir = await makeTempDir('rogue');
    try {
      const rogueCa = await CertificateAuthority.loadOrCreate({ dir: rogueDir.dir, trustDomain: 'rogue.example' });
      const rogue = rogueCa.issueKeyAndSvid('spiffe://rogue.example/gateway/evil', 3600);
      const selfSigned = selfSignedSvid('spiffe://cluster-a.causeway.test/gateway/gw-a');
      // Signed by A's real CA (the one B trusts), but expired a day ago.
      const pastCa = await CertificateAuthority.loadOrCreate({ dir: path.join(dataDir('a'), 'ca'), trustDomain: 'cluster-a.causeway.test', now: () => Date.now() - 2 * 86400_000 });
      const expired = pastCa.issueKeyAndSvid('spiffe://cluster-a.causeway.test/gateway/gw-a', 3600);
      const valid = (await CertificateAuthority.loadOrCreate({ dir: path.join(dataDir('a'), 'ca'), trustDomain: 'cluster-a.causeway.test' }))
        .issueKeyAndSvid('spiffe://cluster-a.causeway.test/gateway/probe', 3600);

      const credentials: Record<string, ProbeCredentials> = {
        'unknown trust domain': { caPem, certPem: rogue.certChainPem, keyPem: rogue.keyPem },
        'self-signed': { caPem, certPem: selfSigned.certPem, keyPem: selfSigned.keyPem },
        expired: { caPem, certPem: expired.certChainPem, keyPem: expired.keyPem },
      };
      const connect = { ':method': 'CONNECT', ':authority': 'echo.demo:8080', 'causeway-source': 'spiffe://cluster-a.causeway.test/ns/demo/sa/client' };
      const grpc = { ':method': 'POST', ':path': '/causeway.federation.v1.Federation/Link', 'content-type': 'application/grpc', te: 'trailers' };
      // Positive control: the same probes with a valid certificate are answered.
      const okEastWest = await h2Probe(b!.listeners.eastWest, { caPem, certPem: valid.certChainPem, keyPem: valid.keyPem }, connect);
      assert.equal(okEastWest.outcome, 'answered');
      const okFederation = await h2Probe(b!.listeners.federation, { caPem, certPem: valid.certChainPem, keyPem: valid.keyPem }, grpc);
      assert.equal(okFederation.outcome, 'answered');
      for (const [name, creds] of Object.entries(credentials)) {
        const eastWest = await h2Probe(b!.listeners.eastWest, creds, connect);
        assert.equal(eastWest.outcome, 'refused', `east-west accepted a ${name} certificate`);
        const federation = await h2Probe(b!.listeners.federation, creds, grpc);
        assert.equal(federation.outcome, 'refused', `federation accepted a ${name} certificate`);
      }
    } finally {
      await rogueDir.remove();
    }
  });

  it('refuses a causeway-source outside the calling gateway\'s trust domain', async () => {
    const caPem = await readFile(path.join(dataDir('b'), 'ca', 'root.crt'), 'utf8');
    const ca = await CertificateAuthority.loadOrCreate({ dir: path.join(dataDir('a'), 'ca'), trustDomain: 'cluster-a.causeway.test' });
    const svid = ca.issueKeyAndSvid('spiffe://cluster-a.causeway.test/gateway/probe', 3600);
    const creds = { caPem, certPem: svid.certChainPem, keyPem: svid.keyPem };
    const foreign = await h2Probe(b!.listeners.eastWest, creds, {
      ':method': 'CONNECT', ':authority': 'echo.demo:8080', 'causeway-source': 'spiffe://cluster-b.causeway.test/ns/demo/sa/admin',
    });
    assert.equal(foreign.outcome, 'answered');
    assert.equal(foreign.outcome === 'answered' && foreign.status, 403);
    assert.equal(foreign.outcome === 'answered' && foreign.headers['causeway-error'], 'CW_IDENTITY_REFUSED');
    const own = await h2Probe(b!.listeners.eastWest, creds, {
      ':method': 'CONNECT', ':authority': 'echo.demo:8080', 'causeway-source': 'spiffe://cluster-a.causeway.test/ns/demo/sa/client',
    });
    assert.equal(own.outcome === 'answered' && own.status, 200);
  });

  it('replicates an endpoint added to and removed from B into A\'s catalog', async () => {
    const original = await readFile(files.b, 'utf8');
    const config = parse(original) as { services: Array<{ endpoints: unknown[] }> };
    config.services[0]!.endpoints.push({ address: '127.0.0.2', ports: { http: backend.port }, identity: 'spiffe://cluster-b.causeway.test/ns/demo/sa/echo', kind: 'vm' });
    await writeFile(files.b, stringify(config));
    b!.child.kill('SIGHUP');
    const added = await waitFor('the added endpoint in A', async () => {
      const endpoints = await echoEndpointsInA();
      return endpoints?.some((e) => e.address === '127.0.0.2') ? endpoints : undefined;
    });
    assert.equal(added.length, 2);
    await writeFile(files.b, original);
    b!.child.kill('SIGHUP');
    const removed = await waitFor('the removed endpoint to leave A', async () => {
      const endpoints = await echoEndpointsInA();
      return endpoints?.length === 1 ? endpoints : undefined;
    });
    assert.equal(removed[0]?.address, '127.0.0.1');
  });

  it('restarts A (SIGKILL) with B stopped: A still knows B\'s services and serves its status API', async () => {
    await b!.stop();
    await a!.kill();
    a = await spawnGateway(files.a, spawnOptions('a'));
    const endpoints = await echoEndpointsInA();
    assert.deepEqual(endpoints?.map((e) => e.address), ['127.0.0.1']);
    const status = await getJson<{ peers: Array<{ cluster: string; state: string }> }>(`http://${a.listeners.admin}/v1/status`);
    assert.equal(status.peers.length, 1);
    assert.equal(status.peers[0]?.cluster, 'cluster-b');
    assert.notEqual(status.peers[0]?.state, 'connected');
    const cli = await runCli(['services', '--config', files.a]);
    assert.equal(cli.code, 0, cli.stderr);
    // Known, but with B's link down not counted as healthy (stale health is not shown as live).
    assert.match(cli.stdout, /echo\.demo\s+http:8080\s+cluster-b\s+0\/1\s+unreachable \(peer link \w+\)/);
  });

  it('re-peers with a fresh token after removal, and refuses that token when reused, persisting nothing', async () => {
    b = await spawnGateway(files.b, spawnOptions('b'));
    const removed = await runCli(['peer', 'remove', 'cluster-b', '--config', files.a]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(await echoEndpointsInA(), undefined, 'a removed peer\'s services must leave the catalog');
    // B restarted on new ephemeral ports, so the first token points nowhere: mint another.
    // Named for A: only such a token replaces B's existing record of cluster-a.
    const fresh = (await runCli(['peer', 'token', '--peer-name', 'cluster-a', '--config', files.b])).stdout.trim();
    const readded = await runCli(['peer', 'add', fresh, '--config', files.a]);
    assert.equal(readded.code, 0, readded.stderr);
    await waitFor('echo.demo back in A', echoEndpointsInA);
    assert.equal((await runCli(['peer', 'remove', 'cluster-b', '--config', files.a])).code, 0);

    const peersFile = path.join(dataDir('a'), 'state', 'peers.json');
    const before = await readFile(peersFile, 'utf8');
    const reused = await runCli(['peer', 'add', fresh, '--config', files.a]);
    assert.equal(reused.code, 2, reused.stderr);
    assert.match(reused.stderr, /CW_TOKEN_USED/);
    assert.equal(await readFile(peersFile, 'utf8'), before);
    const unknown = await runCli(['peer', 'remove', 'cluster-b', '--config', files.a]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /CW_PEER_UNKNOWN/);
  });
});
