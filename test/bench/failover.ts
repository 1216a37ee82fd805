// `npm run bench:failover` (issue 9, "Measure"): how long cross-cluster failover takes and
// how many requests it fails. Three gateway processes (test/helpers/failover-cluster.ts),
// an open-loop client at a steady rate through A, B failing while it carries the traffic:
//   (a) B's backend killed with SIGKILL (connections reset, connects refused), restarted;
//   (b) B's gateway frozen with SIGSTOP (a blackhole: sockets open, nothing answers), thawed;
// each with A's FailoverPolicy retries at their default and at `attempts: 0`, every run on
// a fresh set of processes. See docs/performance.md ("Failover") for what each figure means.
//
//   CW_BENCH_QUICK=1            fault held 8 s, at most 20 s of failback observed
//   CW_BENCH_RATE               requests per second (default 200)
//   CW_BENCH_TIMEOUT_MS         per-request deadline (default 2000)
//   CW_BENCH_FAULT_SECONDS      how long each fault is held (default 20; 8 when quick)
//   CW_BENCH_RESTORE_SECONDS    failback observed at most this long after the restore (default 30; 20 when quick)
//   CW_BENCH_SCENARIOS          comma-separated subset of kill,freeze (default both)
//   CW_BENCH_RETRIES            on, off or both (default both)
//   CW_BENCH_GATEWAY_CONFIG     JSON merged into every gateway's config, e.g.
//                               '{"dataPlane":{"tunnel":{"pingInterval":"500ms"}}}'
//   CW_BENCH_LOG_LEVEL          the gateways' log level (default info); with CAUSEWAY_KEEP_TMP=1
//                               the logs stay in the temp dirs
//   CW_BENCH_COMMIT             the commit to name in the report (default: git HEAD of the repo)
//   CW_BENCH_OUT                where the JSON goes (default bench-results/failover.json)
//   CW_BENCH_RECORDS            a directory: every request of every run as JSON lines (times
//                               relative to the fault), for a closer look at one outage
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startFailoverCluster, type FailoverCluster } from '../helpers/failover-cluster.js';
import { runFailoverScenario, type FaultKind } from '../helpers/failover-scenario.js';
import { makeTempDir, REPO_ROOT } from '../helpers/paths.js';
import { renderReport, type FailoverResults, type FailoverRun } from './failover-report.js';

const say = (line: string): void => void process.stdout.write(`${line}\n`);

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}: "${raw}" is not a positive number`);
  return value;
}

function readSettings(): FailoverResults['settings'] & { faults: FaultKind[]; retries: boolean[]; out: string; recordsDir: string | undefined } {
  const quick = process.env.CW_BENCH_QUICK === '1';
  const scenarios = (process.env.CW_BENCH_SCENARIOS ?? 'kill,freeze').split(',').map((s) => s.trim()).filter(Boolean);
  const faults = scenarios.map((s): FaultKind => {
    if (s === 'kill') return 'backend-kill';
    if (s === 'freeze') return 'gateway-freeze';
    throw new Error(`CW_BENCH_SCENARIOS: "${s}" is not kill or freeze`);
  });
  const retriesText = process.env.CW_BENCH_RETRIES ?? 'both';
  const retries = { on: [true], off: [false], both: [true, false] }[retriesText];
  if (retries === undefined) throw new Error(`CW_BENCH_RETRIES: "${retriesText}" is not on, off or both`);
  const configText = process.env.CW_BENCH_GATEWAY_CONFIG;
  let gatewayConfig: unknown;
  if (configText !== undefined && configText !== '') {
    gatewayConfig = JSON.parse(configText) as unknown;
    if (typeof gatewayConfig !== 'object' || gatewayConfig === null || Array.isArray(gatewayConfig)) throw new Error('CW_BENCH_GATEWAY_CONFIG: not a JSON object');
  }
  return {
    quick, faults, retries, gatewayConfig,
    rate: positive('CW_BENCH_RATE', 200),
    timeoutMs: positive('CW_BENCH_TIMEOUT_MS', 2000),
    faultSeconds: positive('CW_BENCH_FAULT_SECONDS', quick ? 8 : 20),
    restoreSeconds: positive('CW_BENCH_RESTORE_SECONDS', quick ? 20 : 30),
    out: path.resolve(process.env.CW_BENCH_OUT ?? path.join(REPO_ROOT, 'bench-results', 'failover.json')),
    recordsDir: process.env.CW_BENCH_RECORDS === undefined || process.env.CW_BENCH_RECORDS === '' ? undefined : path.resolve(process.env.CW_BENCH_RECORDS),
  };
}

function commitOf(): string {
  if (process.env.CW_BENCH_COMMIT !== undefined && process.env.CW_BENCH_COMMIT !== '') return process.env.CW_BENCH_COMMIT;
  const head = spawnSync('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  if (head.status !== 0) return 'unknown';
  const dirty = spawnSync('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' });
  return `${head.stdout.trim()}${dirty.stdout.trim() === '' ? '' : ' + uncommitted changes'}`;
}

/**
 * Whether A read its FailoverPolicy file: a build without the policy store ignores it (and
 * then "retries on" and "off" run the same code). Judged from A's log: the store logs every
 * set it puts in force, and every refusal.
 */
async function policyStateOf(dir: string): Promise<string> {
  let lines: Array<{ component?: string; msg?: string; version?: number; documents?: number; level?: number }>;
  try {
    lines = (await readFile(path.join(dir, 'a.log'), 'utf8')).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as (typeof lines)[number]);
  } catch (err) {
    return `unknown (${(err as Error).message})`;
  }
  const store = lines.filter((l) => l.component === 'policy-store');
  if (store.length === 0) return 'not read (this build has no policy store)';
  const refused = store.filter((l) => (l.level ?? 0) >= 40);
  const inForce = store.filter((l) => l.msg === 'policy set in force' && (l.documents ?? 0) > 0).at(-1);
  if (inForce !== undefined) return `in force (policy set version ${inForce.version ?? '?'})${refused.length > 0 ? `, ${refused.length} refusals logged` : ''}`;
  return refused.length > 0 ? `refused: ${refused.at(-1)!.msg ?? ''}` : 'not in force';
}

async function main(): Promise<void> {
  const settings = readSettings();
  const results: FailoverResults = {
    startedAt: new Date().toISOString(),
    commit: commitOf(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model.trim() ?? 'unknown CPU', node: process.version, kernel: os.release() },
    settings: {
      rate: settings.rate, timeoutMs: settings.timeoutMs, faultSeconds: settings.faultSeconds,
      restoreSeconds: settings.restoreSeconds, quick: settings.quick, gatewayConfig: settings.gatewayConfig,
    },
    runs: [],
  };
  let current: { cluster?: FailoverCluster; tmp?: Awaited<ReturnType<typeof makeTempDir>> } = {};
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    say(`\n${signal}: thawing and stopping every process the benchmark started`);
    void Promise.resolve(current.cluster?.close()).finally(() => current.tmp?.remove()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  for (const fault of settings.faults) {
    for (const retries of settings.retries) {
      say(`${fault}, retries ${retries ? 'on' : 'off'}: starting three gateways ...`);
      const tmp = await makeTempDir(`bench-failover-${fault}`);
      current = { tmp };
      try {
        const cluster = await startFailoverCluster({
          dir: tmp.dir, retries, extraConfig: settings.gatewayConfig as Record<string, unknown> | undefined,
          ...(process.env.CW_BENCH_LOG_LEVEL === undefined || process.env.CW_BENCH_LOG_LEVEL === '' ? {} : { logLevel: process.env.CW_BENCH_LOG_LEVEL }),
        });
        current.cluster = cluster;
        say(`  ${settings.rate} req/s; fault held ${settings.faultSeconds} s, then up to ${settings.restoreSeconds} s for failback`);
        const run = await runFailoverScenario(cluster, {
          fault, rate: settings.rate, timeoutMs: settings.timeoutMs, warmMs: 2000,
          faultMs: settings.faultSeconds * 1000, untilMoved: false, restoreMs: settings.restoreSeconds * 1000,
        });
        const row: FailoverRun = {
          fault, retries, heldMs: run.event.restoreMs - run.event.faultMs, figures: run.figures, healthyBefore: run.healthyBefore,
          policy: await policyStateOf(tmp.dir),
        };
        results.runs.push(row);
        if (settings.recordsDir !== undefined) {
          await mkdir(settings.recordsDir, { recursive: true });
          const at = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : Math.round(ms - run.event.faultMs));
          const lines = run.records.map((r) => JSON.stringify({ ...r, sentMs: at(r.sentMs), endMs: at(r.endMs) }));
          await writeFile(path.join(settings.recordsDir, `${fault}-retries-${retries ? 'on' : 'off'}.jsonl`), `${lines.join('\n')}\n`);
        }
        say(`  failed ${row.figures.failedAtFault} at the fault, ${row.figures.failedAtRestore} at the failback`);
      } finally {
        await current.cluster?.close();
        await tmp.remove();
        current = {};
      }
    }
  }
  say('');
  process.stdout.write(renderReport(results));
  await mkdir(path.dirname(settings.out), { recursive: true });
  await writeFile(settings.out, `${JSON.stringify(results, null, 2)}\n`);
  say(`\nresults written to ${settings.out}`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench:failover: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}
