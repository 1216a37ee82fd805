// What one run of the data-plane benchmark measured, as written to the JSON file.
import type { OpenLoopResult } from './load/open-loop.js';

/** CPU µs per request (or per MB for transfers) of each process: A, B, backend, shim. */
export type CpuCost = Record<string, number>;

export interface SaturationRow {
  path: string;
  label: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  cpuUsPerRequest: CpuCost;
  note?: string;
}

export interface FixedRateRow extends OpenLoopResult {
  path: string;
  label: string;
}

export interface TransferRow {
  path: string;
  label: string;
  megabytesPerSecond: number;
  seconds: number;
  cpuMsPerMegabyte: CpuCost;
}

/** A row that could not be measured on this build says why instead of giving a number. */
export interface SkippedRow {
  path: string;
  label: string;
  skipped: string;
}

export interface BenchResults {
  startedAt: string;
  machine: { cpus: number; model: string; node: string; kernel: string };
  settings: { seconds: number; connections: number; rounds: number; transferBytes: number; fixedRps: number; quick: boolean };
  keepAlive: SaturationRow[];
  newConnection: Array<SaturationRow | SkippedRow>;
  fixedRate: FixedRateRow[];
  transfer: Array<TransferRow | SkippedRow>;
  grpc: Array<SaturationRow | SkippedRow>;
}

export function isSkipped<T extends object>(row: T | SkippedRow): row is SkippedRow {
  return 'skipped' in row;
}
