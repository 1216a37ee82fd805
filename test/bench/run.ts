// `npm run bench`: requests/s and p50/p99 latency of 1 KiB HTTP requests through
// gateway A → gateway B → backend versus straight to the backend, on this machine; and
// how long an endpoint change in B takes to reach A's catalog. Not part of `npm test`.
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { spawnGateway, startEchoBackend, writeDemoConfigs, type GatewayProcess } from '../../gateway/index.js';
import { makeTempDir, REPO_ROOT } from '../helpers/paths.js';
import { getJson, waitFor } from '../helpers/wait-for.js';
import { runWrk, type WrkResult } from './wrk.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const CONVERGENCE_ROUNDS = Number(process.env.BENCH_CONVERGENCE_ROUNDS ?? 20);

async function admin(gateway: GatewayProcess, dataDir: string, method: string, pathname: string, body?: unknown): Promise<any> {
  const token = (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim();
  const response = await fetch(`http://${gateway.listeners.admin}${pathname}`, {
    method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? null : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${pathname}: ${response.status} ${await response.text()}`);
  return response.json();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function row(name: string, r: WrkResult): string {
  return `${name.padEnd(22)} ${r.requestsPerSecond.toFixed(0).padStart(9)} req/s   p50 ${r.p50Ms.toFixed(2).padStart(7)} ms   p99 ${r.p99Ms.toFixed(2).padStart(7)} ms   errors ${r.errors}`;
}

async function main(): Promise<void> {
  const install = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'install-bench-tools.sh')], { stdio: 'inherit' });
  if (install.status !== 0) throw new Error('wrk is required for the benchmark');
  const tmp = await makeTempDir('bench');
  const backend = await startEchoBackend('cluster-b');
  const gateways: GatewayProcess[] = [];
  try {
    const files = await writeDemoConfigs(tmp.dir, backend.port, true);
    for (const file of [files.a, files.b]) {
      const config = parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      config.logLevel = 'warn';
      await writeFile(file, stringify(config));
    }
    const b = await spawnGateway(files.b, { logFile: path.join(tmp.dir, 'b.log') });
    gateways.push(b);
    const a = await spawnGateway(files.a, { logFile: path.join(tmp.dir, 'a.log') });
    gateways.push(a);
    const dirA = path.join(tmp.dir, 'cluster-a');
    const dirB = path.join(tmp.dir, 'cluster-b');
    const { token } = await admin(b, dirB, 'POST', '/v1/peering/token', { ttlSeconds: 60 });
    await admin(a, dirA, 'POST', '/v1/peers', { token });
    const endpointsInA = async (): Promise<Array<{ address: string }> | undefined> =>
      (await getJson<{ services: Array<{ key: string; clusters: Record<string, { endpoints: Array<{ address: string }> }> }> }>(
        `http://${a.listeners.admin}/v1/services`)).services.find((s) => s.key === 'echo.demo')?.clusters['cluster-b']?.endpoints;
    await waitFor('echo.demo in A', endpointsInA);

    process.stdout.write(`wrk: ${SECONDS}s, ${CONNECTIONS} connections, 1 KiB POST bodies, 2 cores shared by wrk, backend and gateways\n`);
    const direct = await runWrk({ url: `http://127.0.0.1:${backend.port}/bench`, seconds: SECONDS, connections: CONNECTIONS, dir: tmp.dir });
    const federated = await runWrk({
      url: `http://${a.listeners.outbound}`, proxyTarget: 'http://echo.demo:8080/bench', seconds: SECONDS, connections: CONNECTIONS, dir: tmp.dir,
    });
    process.stdout.write(`${row('direct to backend', direct)}\n${row('A -> B -> backend', federated)}\n`);
    process.stdout.write(`ratio (federated/direct): throughput ${(federated.requestsPerSecond / direct.requestsPerSecond).toFixed(2)}x, ` +
      `p50 ${(federated.p50Ms / direct.p50Ms).toFixed(1)}x, p99 ${(federated.p99Ms / direct.p99Ms).toFixed(1)}x\n`);

    // Convergence: add or remove an endpoint in B (config reload) and time its arrival in A.
    const original = await readFile(files.b, 'utf8');
    const samples: number[] = [];
    for (let round = 0; round < CONVERGENCE_ROUNDS; round++) {
      const adding = round % 2 === 0;
      const config = parse(original) as { services: Array<{ endpoints: unknown[] }> };
      if (adding) config.services[0]!.endpoints.push({ address: '127.0.0.2', ports: { http: backend.port }, identity: 'spiffe://cluster-b.causeway.test/ns/demo/sa/echo' });
      await writeFile(files.b, adding ? stringify(config) : original);
      const started = performance.now();
      await admin(b, dirB, 'POST', '/v1/reload');
      await waitFor('convergence', async () => ((await endpointsInA())?.length === (adding ? 2 : 1) ? true : undefined), 10_000, 2);
      samples.push(performance.now() - started);
    }
    samples.sort((x, y) => x - y);
    process.stdout.write(`convergence B -> A (reload to visible in A's admin API, ${samples.length} changes): ` +
      `p50 ${percentile(samples, 50).toFixed(1)} ms, max ${samples.at(-1)?.toFixed(1)} ms\n`);
  } finally {
    await Promise.all(gateways.map((g) => g.stop()));
    await backend.close();
    await tmp.remove();
  }
}

await main();
