// `npm run bench` (after dataplane.ts, which measures the data plane side by side with
// HAProxy and nginx): how long an endpoint change in B takes to reach A's catalog. Not part of
// `npm test`.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { spawnGateway, startEchoBackend, writeDemoConfigs, type GatewayProcess } from '../../gateway/index.js';
import { makeTempDir } from '../helpers/paths.js';
import { getJson, waitFor } from '../helpers/wait-for.js';

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

async function main(): Promise<void> {
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
