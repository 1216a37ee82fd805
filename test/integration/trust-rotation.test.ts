import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import path from 'node:path';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { spawnGateway, startEchoBackend, writeDemoConfigs, type GatewayProcess } from '../../gateway/index.js';
import { makeTempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { getJson, waitFor } from '../helpers/wait-for.js';

interface TrustAnswer {
  ca: { sequence: number; authorities: Array<{ id: number; state: string }> };
  bundles: Array<{ trustDomain: string; local: boolean; sequence: number; roots: Array<{ fingerprint: string }> }>;
}

interface StatusAnswer {
  peers: Array<{ cluster: string; state: string }>;
}

/** A raw TCP connection through A's outbound proxy (CONNECT), on which HTTP requests are sent one by one. */
async function openTunnel(outbound: string, authority: string): Promise<{ get(pathname: string): Promise<number>; close(): void }> {
  const colon = outbound.lastIndexOf(':');
  const socket = netConnect({ host: outbound.slice(0, colon), port: Number(outbound.slice(colon + 1)) });
  // Generous: it only catches a hang; the tunnel sits idle while both rotations run.
  socket.setTimeout(120_000, () => socket.destroy(new Error('tunnel timeout')));
  let buffered = Buffer.alloc(0);
  let waiter: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    waiter?.();
  });
  const closed = new Promise<never>((_, reject) => {
    socket.once('close', () => reject(new Error('the tunnel closed')));
    socket.once('error', reject);
  });
  closed.catch(() => undefined);
  /** Reads one HTTP response head (and its Content-Length body); returns the status. */
  const readResponse = async (): Promise<number> => {
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = buffered.subarray(0, end).toString('latin1');
        const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length >= end + 4 + length) {
          buffered = buffered.subarray(end + 4 + length);
          return Number(head.split(' ')[1]);
        }
      }
      await Promise.race([new Promise<void>((resolve) => { waiter = resolve; }), closed]);
    }
  };
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  const status = await readResponse();
  if (status !== 200) throw new Error(`CONNECT answered ${status}`);
  return {
    get: (pathname) => {
      socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
      return readResponse();
    },
    close: () => socket.destroy(),
  };
}

/** The certificate a gateway serves on its identity listener (its current gateway SVID). */
function servedCertificate(address: string): Promise<X509Certificate> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      resolve(new X509Certificate(socket.getPeerCertificate().raw));
      socket.destroy();
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')));
    socket.once('error', reject);
  });
}

/**
 * Issue 3: a root rotation on both sides, under a steady stream of requests from A to B,
 * drops no request; long-lived sessions stay up; new connections get certificates of the
 * new roots; a peer removed at runtime is refused on its next connection.
 */
describe('CA rotation between two gateway processes under load', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let backend: Awaited<ReturnType<typeof startEchoBackend>>;
  let files: { a: string; b: string };
  let a: GatewayProcess | undefined;
  let b: GatewayProcess | undefined;
  const trustOf = (g: GatewayProcess | undefined): Promise<TrustAnswer> => getJson<TrustAnswer>(`http://${g!.listeners.admin}/v1/trust`);
  const statusOf = (g: GatewayProcess | undefined): Promise<StatusAnswer> => getJson<StatusAnswer>(`http://${g!.listeners.admin}/v1/status`);

  before(async () => {
    tmp = await makeTempDir('trust-rotation');
    backend = await startEchoBackend('cluster-b');
    files = await writeDemoConfigs(tmp.dir, backend.port, true);
    for (const file of [files.a, files.b]) {
      const config = parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      // A short publish window keeps the test quick; production default is 5 minutes.
      config.trust = { publishWindow: '2s', bundleRefreshHint: '2s' };
      config.logLevel = 'debug';
      await writeFile(file, stringify(config));
    }
    const options = (name: string): Parameters<typeof spawnGateway>[1] => ({ logFile: path.join(tmp.dir, `${name}.log`) });
    b = await spawnGateway(files.b, options('b'));
    a = await spawnGateway(files.a, options('a'));
    const token = await runCli(['peer', 'token', '--config', files.b]);
    assert.equal(token.code, 0, token.stderr);
    const added = await runCli(['peer', 'add', token.stdout.trim(), '--config', files.a]);
    assert.equal(added.code, 0, added.stderr);
    await waitFor('echo.demo reachable from A', async () => (await proxyGet('/warmup')).status === 200 || undefined);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await backend?.close();
    await tmp?.remove();
  });

  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  function proxyGet(pathname: string): Promise<{ status: number; body: string }> {
    const outbound = a!.listeners.outbound;
    const colon = outbound.lastIndexOf(':');
    return new Promise((resolve) => {
      const req = httpRequest({
        host: outbound.slice(0, colon), port: Number(outbound.slice(colon + 1)), path: `http://echo.demo:8080${pathname}`, agent, timeout: 10_000,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => resolve({ status: 0, body: 'response error' }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) => resolve({ status: 0, body: err.message }));
      req.end();
    });
  }

  it('rotates both roots under a steady stream of requests without dropping one', async (t) => {
    const results: Array<{ status: number; body: string }> = [];
    let streaming = true;
    const stream = async (): Promise<void> => {
      for (let i = 0; streaming; i++) results.push(await proxyGet(`/stream/${i}`));
    };
    const workers = [stream(), stream()];

    const before = { a: await trustOf(a), b: await trustOf(b) };
    // A long-lived connection: one TCP tunnel through both gateways, in use all along (an idle
    // one would be closed by the backend's own 5 s keep-alive timeout, rotation or not).
    const tunnel = await openTunnel(a!.listeners.outbound, 'echo.demo:8080');
    const tunnelStatuses: number[] = [];
    const tunnelWorker = (async (): Promise<void> => {
      for (let i = 0; streaming; i++) {
        tunnelStatuses.push(await tunnel.get(`/long-lived/${i}`));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const oldServed = await servedCertificate(b!.listeners.identity);
    for (const [side, file] of [['b', files.b], ['a', files.a]] as const) {
      const rotated = await runCli(['trust', 'rotate', '--config', file]);
      assert.equal(rotated.code, 0, `${side}: ${rotated.stderr}`);
      assert.match(rotated.stdout, /rotation started for cluster-.\.causeway\.test; bundle sequence is now \d+/);
    }
    // While the new roots are only published, peers already hold them (higher sequence).
    await waitFor('A to hold B\'s bundle with both roots', async () => {
      const held = (await trustOf(a)).bundles.find((x) => x.trustDomain === 'cluster-b.causeway.test');
      return held !== undefined && held.roots.length === 2 && held.sequence > before.b.ca.sequence ? held : undefined;
    });
    await waitFor('both new authorities to sign', async () => {
      const states = [...(await trustOf(a)).ca.authorities, ...(await trustOf(b)).ca.authorities].map((x) => x.state);
      return states.filter((s) => s === 'active').length === 2 && !states.includes('prepared') ? states : undefined;
    }, 20_000);
    const newServed = await servedCertificate(b!.listeners.identity);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // keep streaming on the new certificates
    streaming = false;
    await Promise.all([...workers, tunnelWorker]);

    const failed = results.filter((r) => r.status !== 200);
    t.diagnostic(`${results.length} requests during the rotations, ${failed.length} failed; ${tunnelStatuses.length} on the long-lived tunnel`);
    assert.ok(results.length > 50, `only ${results.length} requests were made`);
    assert.deepEqual(failed, [], `${failed.length} of ${results.length} requests failed`);
    // New connections get the new root's certificate...
    assert.notEqual(newServed.fingerprint256, oldServed.fingerprint256);
    assert.match(oldServed.issuer, /cluster-b\.causeway\.test root 1/);
    assert.match(newServed.issuer, /cluster-b\.causeway\.test root 2/);
    // ...while the long-lived connection made before both rotations stayed up throughout.
    assert.ok(tunnelStatuses.length > 5, `only ${tunnelStatuses.length} requests on the long-lived tunnel`);
    assert.ok(tunnelStatuses.every((status) => status === 200), tunnelStatuses.join(','));
    assert.equal(await tunnel.get('/long-lived/after'), 200);
    tunnel.close();
    assert.ok((await statusOf(a)).peers.every((p) => p.state === 'connected'));

    const show = await runCli(['trust', 'show', '--config', files.a]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /cluster-b\.causeway\.test\s+peer cluster-b\s+\d+/);
    assert.match(show.stdout, /retiring/);

    const token = await runCli(['token', 'create', '--identity', 'spiffe://cluster-a.causeway.test/ns/demo/sa/vm-1', '--ttl', '10m', '--config', files.a]);
    assert.equal(token.code, 0, token.stderr);
    assert.match(token.stdout.trim(), /^cwjt1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const foreign = await runCli(['token', 'create', '--identity', 'spiffe://cluster-b.causeway.test/ns/demo/sa/vm-1', '--config', files.a]);
    assert.equal(foreign.code, 2);
    assert.match(foreign.stderr, /CW_USAGE: identity: .* is outside trust domain cluster-a\.causeway\.test/);
    const again = await runCli(['trust', 'rotate', '--config', files.a]);
    assert.equal(again.code, 0, 'the previous rotation has finished, so a new one may start');
  });

  it('refuses a peer removed at runtime on its next connection, with no restart', async () => {
    assert.equal((await proxyGet('/before-removal')).status, 200);
    const removed = await runCli(['peer', 'remove', 'cluster-a', '--config', files.b]);
    assert.equal(removed.code, 0, removed.stderr);
    agent.destroy();
    const refused = await waitFor('A refused by B', async () => {
      const answer = await proxyGet('/after-removal');
      return answer.status !== 200 ? answer : undefined;
    });
    assert.notEqual(refused.status, 200);
    const trust = await trustOf(b);
    assert.equal(trust.bundles.some((x) => x.trustDomain === 'cluster-a.causeway.test'), false, 'B no longer holds A\'s bundle');
  });
});
