// The data-plane benchmark's knobs, read once from the environment.
//   CW_BENCH_SECONDS      seconds per load run (default 10; 2 with CW_BENCH_QUICK=1)
//   CW_BENCH_QUICK=1      a smoke run: short loads, one round, a 64 MB transfer instead of 1 GB
//   CW_BENCH_ROUNDS       rounds of the load rows, paths interleaved (default 3; 1 when quick)
//   CW_BENCH_CONNECTIONS  keep-alive connections per run (default 64)
//   CW_BENCH_TRANSFER_MB  size of the bulk transfer (default 1024)
//   CW_BENCH_PATHS        comma-separated path ids to run (default all), e.g. direct,causeway-http
//   CW_BENCH_OUT          where the JSON goes (default bench-results/dataplane.json)
import path from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

export interface BenchSettings {
  quick: boolean;
  seconds: number;
  connections: number;
  /** Each load row is measured this many times, every path once per round; the median round is kept. */
  rounds: number;
  transferBytes: number;
  /** Fixed-rate load as a share of the HAProxy HTTP pair's saturation rps. */
  fixedRateShare: number;
  paths: string[] | undefined;
  out: string;
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}: "${raw}" is not a positive number`);
  return value;
}

export function readSettings(): BenchSettings {
  const quick = process.env.CW_BENCH_QUICK === '1';
  const paths = process.env.CW_BENCH_PATHS;
  return Object.freeze({
    quick,
    seconds: positive('CW_BENCH_SECONDS', quick ? 2 : 10),
    connections: Math.round(positive('CW_BENCH_CONNECTIONS', 64)),
    rounds: Math.round(positive('CW_BENCH_ROUNDS', quick ? 1 : 3)),
    transferBytes: Math.round(positive('CW_BENCH_TRANSFER_MB', quick ? 64 : 1024) * 1024 * 1024),
    fixedRateShare: 0.2,
    paths: paths === undefined || paths === '' ? undefined : paths.split(',').map((p) => p.trim()),
    out: path.resolve(process.env.CW_BENCH_OUT ?? path.join(REPO_ROOT, 'bench-results', 'dataplane.json')),
  });
}
