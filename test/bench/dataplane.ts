// `npm run bench` (first part): Causeway's data plane side by side with a HAProxy pair and an
// nginx pair doing the same job, and with no proxy at all, in ONE run on this machine, so
// that the ratios hold even where the absolute numbers move with the machine's load. See
// docs/performance.md for what each row means. Not part of `npm test`.
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeTempDir, REPO_ROOT } from '../helpers/paths.js';
import { startPaths, type BenchPath } from './bench-paths.js';
import { measureGrpc } from './grpc-rows.js';
import { stopAll } from './processes.js';
import { renderReport } from './report.js';
import type { BenchResults, SkippedRow } from './results.js';
import { measureFixedRate, measureSaturation, measureTransfer, type ScenarioContext } from './scenarios.js';
import { readSettings } from './settings.js';

const settings = readSettings();
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1000));

async function rowOrSkip<T>(path: BenchPath, run: () => Promise<T>): Promise<T | SkippedRow> {
  try {
    return await run();
  } catch (err) {
    return { path: path.id, label: path.label, skipped: `failed: ${(err as Error).message.split('\n')[0]}` };
  }
}

/**
 * Measures every path `settings.rounds` times, one path after another within a round, and
 * keeps each path's median round by `rank`: the machine's other load drifts over minutes, and
 * interleaving spreads it over all paths instead of charging it to whichever ran then. The
 * kept row is one real run (its rps, latencies and CPU belong together), not a mix.
 */
async function inRounds<T>(paths: BenchPath[], what: string, measure: (p: BenchPath) => Promise<T>, rank: (row: T) => number): Promise<T[]> {
  const runs = new Map<BenchPath, T[]>(paths.map((p) => [p, []]));
  for (let round = 1; round <= settings.rounds; round++) {
    for (const p of paths) {
      say(`${what}${settings.rounds > 1 ? ` (round ${round}/${settings.rounds})` : ''}: ${p.label}`);
      runs.get(p)!.push(await measure(p));
      await settle();
    }
  }
  return paths.map((p) => {
    const sorted = [...runs.get(p)!].sort((x, y) => rank(x) - rank(y));
    return sorted[Math.floor((sorted.length - 1) / 2)]!;
  });
}

async function main(): Promise<void> {
  const install = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'install-bench-tools.sh')], { stdio: 'inherit' });
  if (install.status !== 0) throw new Error('the benchmark needs nginx, haproxy, wrk, h2load, openssl, socat and curl (scripts/install-bench-tools.sh)');
  const tmp = await makeTempDir('bench-dataplane');
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    say(`\n${signal}: stopping every process the benchmark started`);
    void stopAll().finally(() => tmp.remove()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    say('starting the backend, the HAProxy and nginx pairs, and two Causeway gateways on 127.0.0.1 ...');
    const started = await startPaths(tmp.dir, settings.transferBytes);
    const paths = started.paths.filter((p) => settings.paths === undefined || settings.paths.includes(p.id));
    const context: ScenarioContext = { dir: tmp.dir, seconds: settings.seconds, connections: settings.connections, backendPid: started.backendPid };
    const cpuModel = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
    const results: BenchResults = {
      startedAt: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: cpuModel, node: process.version, kernel: os.release() },
      settings: { seconds: settings.seconds, connections: settings.connections, rounds: settings.rounds, transferBytes: settings.transferBytes, fixedRps: NaN, quick: settings.quick },
      keepAlive: [], newConnection: [], fixedRate: [], transfer: [], grpc: [],
    };
    results.keepAlive = await inRounds(paths, 'keep-alive', (p) => measureSaturation(p, context, false), (r) => r.rps);
    // TIME_WAIT sockets of one run must not crowd the next one's ephemeral ports: inRounds settles between runs.
    results.newConnection = await inRounds(paths, 'new connection per request', (p) => rowOrSkip(p, () => measureSaturation(p, context, true)),
      (r) => ('rps' in r ? r.rps : -1));
    // 20% of the HAProxy HTTP pair's saturation: a load every path carries without queueing,
    // so the latency it adds is the path's own, not a queue's.
    const reference = results.keepAlive.find((r) => r.path === 'haproxy-http') ?? results.keepAlive[0];
    const fixedRps = Math.max(100, Math.round((reference?.rps ?? 1000) * settings.fixedRateShare));
    results.settings.fixedRps = fixedRps;
    results.fixedRate = await inRounds(paths, `fixed rate ${fixedRps}/s`, (p) => measureFixedRate(p, context, fixedRps), (r) => r.p99Ms);
    for (const p of paths) {
      say(`bulk transfer: ${p.label}`);
      results.transfer.push(await rowOrSkip(p, () => measureTransfer(p, context, settings.transferBytes)));
    }
    say('gRPC unary');
    results.grpc = await measureGrpc(started.causeway, started.grpcBackend, settings.seconds, tmp.dir);

    say('');
    process.stdout.write(renderReport(results));
    await mkdir(path.dirname(settings.out), { recursive: true });
    await writeFile(settings.out, `${JSON.stringify(results, null, 2)}\n`);
    say(`\nresults written to ${settings.out}`);
  } finally {
    await stopAll();
    await tmp.remove();
  }
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}
