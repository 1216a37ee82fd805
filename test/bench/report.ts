// The run's tables as Markdown (what docs/performance.md quotes), with the ratios of
// Causeway to HAProxy, nginx and direct, and the targets checked against them.
import { isSkipped, type BenchResults, type CpuCost, type SaturationRow, type SkippedRow } from './results.js';

const rps = (n: number): string => (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0));
const ms = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)} ms` : '–');
const ratio = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '–');
const cpu = (cost: CpuCost, digits = 0): string =>
  Object.entries(cost).map(([name, v]) => `${name} ${Number.isFinite(v) ? v.toFixed(digits) : '–'}`).join(' · ') || '–';

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function saturationTable(rows: Array<SaturationRow | SkippedRow>): string {
  return table(['path', 'rps', 'p50', 'p99', 'CPU µs/request', 'errors'], rows.map((r) => isSkipped(r)
    ? [r.label, r.skipped, '', '', '', '']
    : [r.label, rps(r.rps), ms(r.p50Ms), ms(r.p99Ms), cpu(r.cpuUsPerRequest), String(r.errors)]));
}

/** The busier of a pair's two processes: the one that limits the pair. */
function busiest(row: SaturationRow | undefined): number {
  if (row === undefined) return NaN;
  return Math.max(...['A', 'B'].map((k) => row.cpuUsPerRequest[k] ?? NaN));
}

export function ratios(results: BenchResults): Array<{ comparison: string; rps: number; p99: number; cpuPerRequest: number; transfer: number }> {
  const sat = (id: string): SaturationRow | undefined => results.keepAlive.find((r) => r.path === id);
  const mbps = (id: string): number => {
    const row = results.transfer.find((r) => r.path === id);
    return row === undefined || isSkipped(row) ? NaN : row.megabytesPerSecond;
  };
  const compare = (comparison: string, ours: string, theirs: string): ReturnType<typeof ratios>[number] => ({
    comparison,
    rps: (sat(ours)?.rps ?? NaN) / (sat(theirs)?.rps ?? NaN),
    p99: (sat(ours)?.p99Ms ?? NaN) / (sat(theirs)?.p99Ms ?? NaN),
    cpuPerRequest: busiest(sat(ours)) / busiest(sat(theirs)),
    transfer: mbps(ours) / mbps(theirs),
  });
  return [
    compare('Causeway HTTP / HAProxy HTTP', 'causeway-http', 'haproxy-http'),
    compare('Causeway HTTP / nginx', 'causeway-http', 'nginx'),
    compare('Causeway HTTP / direct', 'causeway-http', 'direct'),
    compare('Causeway TCP / HAProxy TCP', 'causeway-tcp', 'haproxy-tcp'),
    compare('Causeway TCP / direct', 'causeway-tcp', 'direct'),
  ];
}

/** The data plane's targets, each with the numbers it was judged on. */
export function targets(results: BenchResults): Array<{ target: string; met: boolean | undefined; detail: string }> {
  const sat = (id: string): SaturationRow | undefined => results.keepAlive.find((r) => r.path === id);
  const fixed = (id: string): number => {
    const row = results.fixedRate.find((r) => r.path === id);
    const direct = results.fixedRate.find((r) => r.path === 'direct');
    return row === undefined || direct === undefined ? NaN : row.p99Ms - direct.p99Ms;
  };
  const mbps = (id: string): number => {
    const row = results.transfer.find((r) => r.path === id);
    return row === undefined || isSkipped(row) ? NaN : row.megabytesPerSecond;
  };
  const check = (target: string, value: number, limit: number, detail: string, atMost = false): { target: string; met: boolean | undefined; detail: string } =>
    ({ target, met: Number.isFinite(value) && Number.isFinite(limit) ? (atMost ? value <= limit : value >= limit) : undefined, detail });
  const [cw, hh, ng, ct, ht] = ['causeway-http', 'haproxy-http', 'nginx', 'causeway-tcp', 'haproxy-tcp'].map(sat);
  const r = (a?: SaturationRow, b?: SaturationRow): number => (a?.rps ?? NaN) / (b?.rps ?? NaN);
  return [
    check('HTTP rps ≥ 0.8× HAProxy HTTP pair', r(cw, hh), 0.8, ratio(r(cw, hh))),
    check('HTTP rps ≥ 1.0× nginx pair', r(cw, ng), 1.0, ratio(r(cw, ng))),
    check('HTTP p99 ≤ HAProxy HTTP pair and nginx pair', cw?.p99Ms ?? NaN, Math.min(hh?.p99Ms ?? NaN, ng?.p99Ms ?? NaN),
      `${ms(cw?.p99Ms ?? NaN)} vs ${ms(hh?.p99Ms ?? NaN)} / ${ms(ng?.p99Ms ?? NaN)}`, true),
    check('TCP rps ≥ 0.9× HAProxy TCP pair', r(ct, ht), 0.9, ratio(r(ct, ht))),
    check('TCP p99 ≤ HAProxy TCP pair', ct?.p99Ms ?? NaN, ht?.p99Ms ?? NaN, `${ms(ct?.p99Ms ?? NaN)} vs ${ms(ht?.p99Ms ?? NaN)}`, true),
    check('CPU/request per gateway ≤ 1.5× a HAProxy process (HTTP)', busiest(cw) / busiest(hh), 1.5,
      `${busiest(cw).toFixed(0)} µs vs ${busiest(hh).toFixed(0)} µs (${ratio(busiest(cw) / busiest(hh))})`, true),
    check('1 GB, HTTP port ≥ 0.8× HAProxy TCP pair', mbps('causeway-http') / mbps('haproxy-tcp'), 0.8, ratio(mbps('causeway-http') / mbps('haproxy-tcp'))),
    check('1 GB, TCP port ≥ 0.8× HAProxy TCP pair', mbps('causeway-tcp') / mbps('haproxy-tcp'), 0.8, ratio(mbps('causeway-tcp') / mbps('haproxy-tcp'))),
    check('added p99 at the fixed rate ≤ HAProxy HTTP pair\'s + 0.5 ms', fixed('causeway-http'), fixed('haproxy-http') + 0.5,
      `${ms(fixed('causeway-http'))} vs ${ms(fixed('haproxy-http'))} + 0.5 ms`, true),
  ];
}

export function renderReport(results: BenchResults): string {
  const s = results.settings;
  const direct = results.fixedRate.find((r) => r.path === 'direct');
  const parts = [
    `Data-plane benchmark, ${results.startedAt}: ${results.machine.cpus} × ${results.machine.model}, Node ${results.machine.node}, Linux ${results.machine.kernel}`,
    `wrk -t1, ${s.connections} connections, ${s.seconds} s per run, GET of a 1 KiB file from one nginx backend; ` +
      `load rows: the median of ${s.rounds} interleaved round(s); CPU per request of each process (A, B, backend, shim)`,
    '', '### Keep-alive, 1 KiB', saturationTable(results.keepAlive),
    '', '### A new connection per request (Connection: close)', saturationTable(results.newConnection),
    '', `### Fixed offered rate: ${rps(s.fixedRps)} requests/s (open loop, ${s.connections} connections; added = path − direct)`,
    table(['path', 'completed rps', 'p50', 'p99', 'p99.9', 'added p50', 'added p99', 'errors'], results.fixedRate.map((r) => [
      r.label, rps(r.completedRps), ms(r.p50Ms), ms(r.p99Ms), ms(r.p999Ms),
      ms(r.p50Ms - (direct?.p50Ms ?? NaN)), ms(r.p99Ms - (direct?.p99Ms ?? NaN)), String(r.errors),
    ])),
    '', `### Bulk transfer: one ${(s.transferBytes / 2 ** 20).toFixed(0)} MiB response (curl)`,
    table(['path', 'MB/s', 'seconds', 'CPU ms/MB'], results.transfer.map((r) => isSkipped(r)
      ? [r.label, r.skipped, '', '']
      : [r.label, r.megabytesPerSecond.toFixed(0), r.seconds.toFixed(2), cpu(r.cpuMsPerMegabyte, 2)])),
    '', '### gRPC unary, 1 KiB answers (h2load, 16 connections × 4 streams)', saturationTable(results.grpc),
    '', '### Ratios (keep-alive rps and p99; CPU/request of the busier process of each pair; bulk MB/s)',
    table(['comparison', 'rps', 'p99', 'CPU/request', 'bulk MB/s'], ratios(results).map((r) => [
      r.comparison, ratio(r.rps), ratio(r.p99), ratio(r.cpuPerRequest), ratio(r.transfer),
    ])),
    '', '### Targets',
    table(['target', 'met', 'measured'], targets(results).map((t) => [t.target, t.met === undefined ? 'not measured' : t.met ? 'yes' : 'no', t.detail])),
  ];
  return `${parts.join('\n')}\n`;
}
