// Consul bridge import figures (issue 10, "Measure"): with N services × M instances in the
// Consul API double, the time until the gateway's registry has synced them all, the heap and
// RSS the imported catalog costs, the time from a health change in "Consul" to the local record
// and from a re-registration on a new port (no check change) to the local record, and the
// blocking queries the bridge keeps parked. One process: the double (with Consul's default
// limit of 200 connections per client), the real consul client, a ConsulSource, a LocalRegistry.
// Then the same datacenter across a peering, two gateway processes (consul-peered.ts).
//   CW_BENCH_SERVICES (2000), CW_BENCH_INSTANCES (10), CW_BENCH_QUICK=1 (200 × 10),
//   CW_BENCH_CHANGES (50 in one process, 20 across the peering),
//   CW_BENCH_PEERED (1: both parts; 0: the one-process figures alone; only: the peering alone).
import { Catalog, ConsulSource, LocalRegistry, SourceSet } from '../../registry/index.js';
import { ConsulApiDouble } from '../doubles/consul-api.js';
import { benchPeered, fillDouble, instanceAddress, quantile } from './consul-peered.js';

const quick = process.env.CW_BENCH_QUICK === '1';
const services = Number(process.env.CW_BENCH_SERVICES ?? (quick ? 200 : 2000));
const instances = Number(process.env.CW_BENCH_INSTANCES ?? 10);
const changes = Number(process.env.CW_BENCH_CHANGES ?? 50);
const peeredChanges = Number(process.env.CW_BENCH_CHANGES ?? 20);
const peered = process.env.CW_BENCH_PEERED ?? '1';
const moves = 5;

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function percentile(sorted: readonly number[], q: number): string {
  return `${quantile(sorted, q).toFixed(1)} ms`;
}

async function until(what: string, ok: () => boolean): Promise<number> {
  const begin = performance.now();
  while (!ok()) {
    await new Promise((resolve) => setImmediate(resolve));
    if (performance.now() - begin > 30_000) throw new Error(`${what} not seen within 30 s`);
  }
  return performance.now() - begin;
}

async function oneProcess(): Promise<void> {
  const consul = new ConsulApiDouble({ jitter: false, consulService: false });
  const address = await consul.start();
  fillDouble(consul, services, instances);
  global.gc?.();
  const before = process.memoryUsage();
  const catalog = new Catalog({ localCluster: 'legacy' });
  const registry = new LocalRegistry({ catalog, version: { epoch: 1, seq: 0 } });
  const source = new ConsulSource({
    name: 'bench', host: address.host, port: address.port, namespace: 'legacy', meshPort: 80, exported: true,
    locality: { cloud: 'onprem', region: 'dc1', zone: 'z', cluster: 'legacy' },
    identityTemplate: 'spiffe://legacy.example.org/ns/{namespace}/sa/{service}', wait: '30s',
  });
  const sources = new SourceSet({ registry });
  sources.add(source);
  const started = performance.now();
  sources.start();
  await sources.allSynced();
  const syncMs = performance.now() - started;
  global.gc?.();
  const after = process.memoryUsage();
  const readsAtSync = source.stats().serviceReads;
  // Let both watches park their next blocking query (each waits up to a second between queries),
  // then watch the count for 2 s of quiet: the most parked at once, and the requests sent.
  await until('both watches parked', () => consul.blockedQueries === 2);
  const logAtIdle = consul.requestLog().length;
  let blocked = 0;
  for (let t = 0; t < 20; t += 1) {
    blocked = Math.max(blocked, consul.blockedQueries);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const idleRequests = consul.requestLog().length - logAtIdle;

  const healthOf = (s: number, address: string): string | undefined =>
    catalog.get('legacy', `svc-${s}.legacy`)?.endpoints.find((e) => e.address === address)?.health;
  const latencies: number[] = [];
  const readsBefore = source.stats().serviceReads;
  for (let c = 0; c < changes; c += 1) {
    // Each service picked goes critical, then passing again (a write of the status it has is no change).
    const s = ((c >> 1) * 7919) % services;
    const want = c % 2 === 0 ? 'unhealthy' : 'healthy';
    const address = instanceAddress(s, 0);
    const begin = performance.now();
    consul.setCheckStatus(`node-${s}-0`, `service:svc-${s}-0`, c % 2 === 0 ? 'critical' : 'passing');
    await until(`change ${c}`, () => healthOf(s, address) === want);
    latencies.push(performance.now() - begin);
    // The next change starts from a quiet bridge: both queries parked again.
    await until('the watches parked again', () => consul.blockedQueries === 2);
  }
  const readsPerChange = (source.stats().serviceReads - readsBefore) / changes;
  latencies.sort((a, b) => a - b);

  // Re-registration on a new port, checks unchanged: only /v1/catalog/services moves, and the
  // bridge reads every service again (the coalesced refresh).
  const moveLatencies: number[] = [];
  for (let m = 0; m < moves; m += 1) {
    const s = (m * 104729 + 13) % services;
    const port = 9000 + m;
    const begin = performance.now();
    consul.registerService({ node: `node-${s}-1`, address: instanceAddress(s, 1), service: `svc-${s}`, id: `svc-${s}-1`, port });
    await until(`move ${m}`, () => catalog.get('legacy', `svc-${s}.legacy`)?.endpoints.some((e) => e.ports.http === port) === true);
    moveLatencies.push(performance.now() - begin);
    await until('the refresh done', () => consul.blockedQueries === 2);
  }
  moveLatencies.sort((a, b) => a - b);
  const end = process.memoryUsage();
  const refused = consul.refusedConnections;
  await sources.close();
  await consul.close();

  console.log(`\nConsul bridge import: ${services} services × ${instances} instances (${services * instances} endpoints), one process\n`);
  console.log('| figure | value |');
  console.log('|---|---|');
  console.log(`| first full sync (every service's instances in the registry) | ${(syncMs / 1000).toFixed(2)} s (${readsAtSync} service reads) |`);
  console.log(`| heap added by the imported catalog | ${mib(after.heapUsed - before.heapUsed)} |`);
  console.log(`| RSS after the sync / at the end (the double and its data included) | ${mib(after.rss)} / ${mib(end.rss)} |`);
  console.log(`| health change in Consul → local record, p50 / p95 / p99 (${changes} changes) | ${percentile(latencies, 0.5)} / ${percentile(latencies, 0.95)} / ${percentile(latencies, 0.99)} |`);
  console.log(`| service reads per health change | ${readsPerChange.toFixed(1)} |`);
  console.log(`| re-registration on a new port → local record, p50 / max (${moves}) | ${percentile(moveLatencies, 0.5)} / ${moveLatencies.at(-1)!.toFixed(1)} ms |`);
  console.log(`| blocking queries parked at once (most seen in 2 s of quiet) | ${blocked} |`);
  console.log(`| requests in 2 s of quiet | ${idleRequests} |`);
  console.log(`| connections refused by the per-client limit (200) | ${refused} |`);
}

async function main(): Promise<void> {
  if (peered !== 'only') await oneProcess();
  if (peered !== '0') await benchPeered({ services, instances, changes: peeredChanges });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
