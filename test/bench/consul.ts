// Consul bridge import figures (issue 10, "Measure"): with N services × M instances in the
// Consul API double, the time until the gateway's registry has synced them all, the heap and
// RSS the imported catalog costs, and the time from a health change in "Consul" to the local
// record. One process: the double, the real consul client, a ConsulSource, a LocalRegistry.
//   CW_BENCH_SERVICES (2000), CW_BENCH_INSTANCES (10), CW_BENCH_CHANGES (20), CW_BENCH_QUICK=1 (200 × 10).
import { Catalog, ConsulSource, LocalRegistry, SourceSet } from '../../registry/index.js';
import { ConsulApiDouble } from '../doubles/consul-api.js';

const quick = process.env.CW_BENCH_QUICK === '1';
const services = Number(process.env.CW_BENCH_SERVICES ?? (quick ? 200 : 2000));
const instances = Number(process.env.CW_BENCH_INSTANCES ?? 10);
const changes = Number(process.env.CW_BENCH_CHANGES ?? 20);

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function main(): Promise<void> {
  const consul = new ConsulApiDouble({ jitter: false, consulService: false });
  const address = await consul.start();
  for (let s = 0; s < services; s += 1) {
    for (let i = 0; i < instances; i += 1) {
      consul.registerService({
        node: `node-${s}-${i}`, address: `10.${(s >> 8) & 255}.${s & 255}.${i + 1}`, service: `svc-${s}`, id: `svc-${s}-${i}`, port: 8080,
      });
    }
  }
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
  // Let every watch park its next blocking query, then count them (one per service, plus the list).
  await new Promise((resolve) => setTimeout(resolve, 500));
  const blocked = consul.blockedQueries;

  const latencies: number[] = [];
  for (let c = 0; c < changes; c += 1) {
    const s = (c * 7919) % services;
    const key = `svc-${s}.legacy`;
    const begin = performance.now();
    consul.setCheckStatus(`node-${s}-0`, `service:svc-${s}-0`, c % 2 === 0 ? 'critical' : 'passing');
    const want = c % 2 === 0 ? 'unhealthy' : 'healthy';
    while (catalog.get('legacy', key)?.endpoints.find((e) => e.address.endsWith('.1'))?.health !== want) {
      await new Promise((resolve) => setImmediate(resolve));
      if (performance.now() - begin > 30_000) throw new Error(`change ${c} not seen within 30 s`);
    }
    latencies.push(performance.now() - begin);
  }
  latencies.sort((a, b) => a - b);
  await sources.close();
  await consul.close();

  const p = (q: number): string => `${latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(1)} ms`;
  console.log(`\nConsul bridge import: ${services} services × ${instances} instances (${services * instances} endpoints), one process\n`);
  console.log('| figure | value |');
  console.log('|---|---|');
  console.log(`| first full sync (every service's instances in the registry) | ${(syncMs / 1000).toFixed(2)} s |`);
  console.log(`| heap added by the imported catalog | ${mib(after.heapUsed - before.heapUsed)} |`);
  console.log(`| RSS after the sync (the double and its data included) | ${mib(after.rss)} |`);
  console.log(`| health change in Consul → local record, p50 / p95 (${changes} changes) | ${p(0.5)} / ${p(0.95)} |`);
  console.log(`| blocking queries parked at once | ${blocked} |`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
