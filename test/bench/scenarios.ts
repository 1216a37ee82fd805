// One measurement of one path: a load run bracketed by CPU readings of the path's processes.
import { cpuSnapshot } from './cpu.js';
import type { BenchPath } from './bench-paths.js';
import { runTransfer } from './load/curl.js';
import { requestOnce, runOpenLoop } from './load/open-loop.js';
import { runWrk } from './load/wrk.js';
import type { CpuCost, FixedRateRow, SaturationRow, TransferRow } from './results.js';

export interface ScenarioContext {
  dir: string;
  seconds: number;
  connections: number;
  backendPid: number;
}

function processesOf(path: BenchPath, backendPid: number): Record<string, number> {
  return { ...path.proxies, backend: backendPid, ...path.helpers };
}

/** CPU per unit of work, in µs (per request) or ms (per MB): the caller picks the unit. */
function perUnit(cpuSeconds: Record<string, number>, units: number, scale: number): CpuCost {
  return Object.fromEntries(Object.entries(cpuSeconds).map(([name, s]) => [name, units > 0 ? (s * scale) / units : NaN]));
}

/** Saturation with wrk: keep-alive, or a new connection per request (`Connection: close`). */
export async function measureSaturation(path: BenchPath, context: ScenarioContext, connectionClose: boolean): Promise<SaturationRow> {
  const status = await requestOnce(path.port, path.target, path.host);
  if (status !== 200) throw new Error(`${path.label}: GET ${path.target} answered ${status}, not 200; nothing to measure`);
  const cpu = cpuSnapshot(processesOf(path, context.backendPid));
  const result = await runWrk({
    url: `http://127.0.0.1:${path.port}`, target: path.target, host: path.host, connectionClose,
    seconds: context.seconds, connections: context.connections, dir: context.dir,
  });
  return {
    path: path.id, label: path.label, rps: result.requestsPerSecond, p50Ms: result.p50Ms, p99Ms: result.p99Ms,
    requests: result.requests, errors: result.errors, cpuUsPerRequest: perUnit(cpu.elapsed(), result.requests, 1e6),
    ...(path.note === undefined ? {} : { note: path.note }),
  };
}

export async function measureFixedRate(path: BenchPath, context: ScenarioContext, rate: number): Promise<FixedRateRow> {
  const result = await runOpenLoop({ port: path.port, target: path.target, host: path.host, rate, seconds: context.seconds, connections: context.connections });
  return { path: path.id, label: path.label, ...result };
}

export async function measureTransfer(path: BenchPath, context: ScenarioContext, bytes: number): Promise<TransferRow> {
  const cpu = cpuSnapshot(processesOf(path, context.backendPid));
  // Bounded: a path slower than ~10 MB/s fails the row instead of holding the run.
  const result = await runTransfer({ ...path.transfer, expectedBytes: bytes, maxSeconds: Math.max(30, Math.ceil(bytes / 10e6)) });
  return {
    path: path.id, label: path.label, megabytesPerSecond: result.megabytesPerSecond, seconds: result.seconds,
    cpuMsPerMegabyte: perUnit(cpu.elapsed(), bytes / 1e6, 1e3),
  };
}
