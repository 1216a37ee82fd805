// `npm run bench` (second part): how fast a trust domain issues SVIDs (CSR in, signed
// certificate out) on one core, and how many full mTLS handshakes per second a gateway's
// east-west port completes. Not part of `npm test`.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { CertificateAuthority, parseCsr, type Svid } from '../../federation/index.js';
import { spawnGateway, startEchoBackend, writeDemoConfigs, type GatewayProcess } from '../../gateway/index.js';
import { makeTempDir } from '../helpers/paths.js';
import { getJson, waitFor } from '../helpers/wait-for.js';

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const HANDSHAKE_CONCURRENCY = Number(process.env.BENCH_HANDSHAKE_CONCURRENCY ?? 16);

async function makeCsrs(dir: string, count: number): Promise<string[]> {
  const csrs: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = path.join(dir, `w${i}.key`);
    await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    await run('openssl', ['req', '-new', '-key', key, '-subj', `/CN=w${i}`, '-out', path.join(dir, `w${i}.csr`)]);
    csrs.push(await readFile(path.join(dir, `w${i}.csr`), 'utf8'));
  }
  return csrs;
}

/** CSR parse + signature check + SVID signing, back to back on this (one) thread. */
async function issuanceRate(dir: string): Promise<{ perSecond: number; issued: number }> {
  const ca = await CertificateAuthority.loadOrCreate({ dir: path.join(dir, 'bench-ca'), trustDomain: 'bench.test' });
  const csrs = await makeCsrs(dir, 32);
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  let issued = 0;
  while (performance.now() < deadline) {
    const csr = parseCsr(csrs[issued % csrs.length] ?? '');
    ca.issueSvid({ spiffeId: `spiffe://bench.test/ns/bench/sa/w${issued % 1000}`, publicKey: csr.publicKey, ttlSeconds: 3600 });
    issued++;
  }
  ca.close();
  return { perSecond: issued / ((performance.now() - started) / 1000), issued };
}

/**
 * Full TLS 1.3 handshakes with a client certificate, made by `openssl s_time -new` (C, one
 * handshake at a time per process) from several processes, so the client is not the limit.
 * `-www /` makes each client wait for the gateway's answer — the gateway closes the
 * connection once it has verified the client (no h2 ALPN) — so a counted handshake is one
 * the gateway completed, not one the client abandoned after its own Finished.
 */
async function opensslHandshakeRate(address: string, files: { cert: string; key: string; ca: string }, processes: number): Promise<number> {
  const runs = await Promise.all(Array.from({ length: processes }, () =>
    run('openssl', ['s_time', '-connect', address, '-new', '-tls1_3', '-www', '/', '-time', String(SECONDS), '-cert', files.cert, '-key', files.key, '-CAfile', files.ca])
      .then(({ stdout }) => stdout, (err: { stdout?: string }) => err.stdout ?? '')));
  let total = 0;
  for (const output of runs) {
    // "2187 connections in 5.00s; 437.40 connections/user sec, ..."
    const match = /(\d+) connections in ([\d.]+)s;/.exec(output);
    if (match !== null) total += Number(match[1]) / Number(match[2]);
  }
  return total;
}

/** Full TLS 1.3 handshakes (no resumption) with a client certificate against the east-west port, from Node. */
async function handshakeRate(address: string, client: Svid, rootsPem: string[]): Promise<{ perSecond: number; completed: number; failed: number }> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon);
  const port = Number(address.slice(colon + 1));
  const deadline = performance.now() + SECONDS * 1000;
  let completed = 0;
  let failed = 0;
  const once = (): Promise<void> => new Promise((resolve) => {
    const socket = connect({
      host, port, ca: rootsPem, cert: client.certChainPem, key: client.keyPem, ALPNProtocols: ['h2'],
      minVersion: 'TLSv1.3', checkServerIdentity: () => undefined,
    }, () => {
      completed++;
      socket.destroy();
      resolve();
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')));
    socket.once('error', () => {
      failed++;
      resolve();
    });
  });
  const started = performance.now();
  await Promise.all(Array.from({ length: HANDSHAKE_CONCURRENCY }, async () => {
    while (performance.now() < deadline) await once();
  }));
  return { perSecond: completed / ((performance.now() - started) / 1000), completed, failed };
}

async function main(): Promise<void> {
  const tmp = await makeTempDir('bench-identity');
  const backend = await startEchoBackend('cluster-b');
  let gateway: GatewayProcess | undefined;
  try {
    const issuance = await issuanceRate(tmp.dir);
    process.stdout.write(`SVID issuance (CSR parse + verify + sign, one core): ${issuance.perSecond.toFixed(0)} SVIDs/s (${issuance.issued} in ${SECONDS}s)\n`);

    const files = await writeDemoConfigs(tmp.dir, backend.port, true);
    // The s_time clients negotiate no ALPN, so every connection ends in a logged refusal:
    // log errors only, to measure handshakes rather than log writes.
    const config = parse(await readFile(files.b, 'utf8')) as Record<string, unknown>;
    config.logLevel = 'error';
    await writeFile(files.b, stringify(config));
    gateway = await spawnGateway(files.b, { logFile: path.join(tmp.dir, 'b.log') });
    // A client certificate of B's own trust domain: the port accepts it without any peering.
    const caOfB = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'cluster-b', 'ca'), trustDomain: 'cluster-b.causeway.test' });
    const client = caOfB.issueKeyAndSvid('spiffe://cluster-b.causeway.test/gateway/bench-client', 3600);
    const roots = [...caOfB.bundle().rootsPem];
    caOfB.close();
    await waitFor('gateway ready', async () => (await getJson<{ gateway: { ready: boolean } }>(`http://${gateway!.listeners.admin}/v1/status`)).gateway.ready || undefined);
    const handshakes = await handshakeRate(gateway.listeners.eastWest, client, roots);
    process.stdout.write(`mTLS handshakes on the east-west port (TLS 1.3, ECDSA P-256), Node client, ${HANDSHAKE_CONCURRENCY} concurrent, ` +
      `client and gateway sharing 2 cores: ${handshakes.perSecond.toFixed(0)}/s (${handshakes.completed} ok, ${handshakes.failed} failed)\n`);
    const clientFiles = { cert: path.join(tmp.dir, 'client.crt'), key: path.join(tmp.dir, 'client.key'), ca: path.join(tmp.dir, 'roots.pem') };
    await writeFile(clientFiles.cert, client.certChainPem);
    await writeFile(clientFiles.key, client.keyPem);
    await writeFile(clientFiles.ca, roots.join(''));
    const processes = Number(process.env.BENCH_STIME_PROCESSES ?? 8);
    // s_time counts a handshake when ITS side is done; the gateway's own count says how many it completed.
    const handshakesDone = async (): Promise<number> =>
      (await getJson<{ eastWest: { stats: { tlsHandshakes: number } } }>(`http://${gateway!.listeners.admin}/v1/status`)).eastWest.stats.tlsHandshakes;
    const before = await handshakesDone();
    const started = performance.now();
    const viaOpenssl = await opensslHandshakeRate(gateway.listeners.eastWest, clientFiles, processes);
    const serverRate = (await handshakesDone() - before) / ((performance.now() - started) / 1000);
    process.stdout.write(`mTLS handshakes on the east-west port, ${processes} openssl s_time clients: client side ${viaOpenssl.toFixed(0)}/s, ` +
      `completed by the gateway ${serverRate.toFixed(0)}/s\n`);
  } finally {
    await gateway?.stop();
    await backend.close();
    await tmp.remove();
  }
}

await main();
