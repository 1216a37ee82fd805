// Kubernetes source figures (issue 11, "Measure"), `npm run bench:kubernetes`. The Kubernetes
// API double in this process serves a cluster (kube-cluster.ts): N Services with one
// EndpointSlice of M endpoints each, a Pod behind every endpoint, a few Nodes with zone labels,
// half the Services exported by annotation. Gateway A, a real `causeway gateway` process, reads
// it through `sources.kubernetes` (a kubeconfig written by the double); gateway B, a second
// process, is peered with A through the CLI (`peer token` on B, `peer add` on A). A is peered
// first without the source, then restarted with it, so that the clock starting at A's spawn
// measures the lists, the translation and the federation, not the CLI's peering steps.
// Measured:
//   - A's start → the source synced (GET /v1/status `sources`, polled until it says so; the
//     first push of every Service happens before the source's start resolves, so the catalog is
//     full at that moment: the same response's `services` is counted), → every exported
//     Service in B's catalog (GET /v1/peers: exportedServices at A, importedServices at B);
//   - the initial lists as the double served them (its request log: when each list ended);
//   - A's longest stall meanwhile (GET /healthz on a new connection every 25 ms): the source's
//     first push runs in one turn of the event loop;
//   - RSS of A and B once settled (VmRSS, VmHWM), A's CPU seconds up to B holding everything;
//   - for K changes, one endpoint of one exported Service's EndpointSlice made not-ready in the
//     double → that endpoint unhealthy in A's catalog and in B's, polled with one service's
//     GET /v1/explain (GET /v1/services would build megabytes of JSON on the gateway's loop);
//   - the double's request log: one list per resource, then watches, nothing else.
//   CW_BENCH_SERVICES (5000), CW_BENCH_ENDPOINTS (per Service, 10), CW_BENCH_CHANGES (20),
//   CW_BENCH_NAMESPACES (10), CW_BENCH_QUICK=1 (500 × 10), CW_BENCH_NODE_ARGS (extra node
//   flags for A, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"), CAUSEWAY_KEEP_TMP=1.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnGateway, type GatewayProcess } from '../../gateway/index.js';
import { KubeApiDouble } from '../doubles/kube-api-server.js';
import { inProcessConfig } from '../helpers/in-process-config.js';
import { makeTempDir } from '../helpers/paths.js';
import { cpuSeconds } from './cpu.js';
import { admin, cli, firstPeer, logTime, memoryOf, pollUntil, quantile, sleep, stallProbe, unlessReset, type ExplainView } from './gateway-probe.js';
import {
  endpointAddress, endpointSlice, fillCluster, isExported, serviceKeyOf, type ClusterShape,
} from './kube-cluster.js';

const quick = process.env.CW_BENCH_QUICK === '1';
const shape: ClusterShape = {
  services: Number(process.env.CW_BENCH_SERVICES ?? (quick ? 500 : 5000)),
  endpoints: Number(process.env.CW_BENCH_ENDPOINTS ?? 10),
  namespaces: Number(process.env.CW_BENCH_NAMESPACES ?? 10),
  nodes: 6,
};
const changes = Number(process.env.CW_BENCH_CHANGES ?? 20);
const nodeArgs = (process.env.CW_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
const TOKEN = 'bench-token';
const RESOURCES = ['services', 'endpointslices', 'pods', 'nodes', 'serviceexports'] as const;
/** Long enough for a source that is slow at this size to finish, short enough to end a stuck run. */
const SYNC_TIMEOUT_MS = 900_000;

interface StatusView {
  sources: Array<{ name: string; kind: string; synced: boolean; services: number; lastError?: string }>;
  services: Array<{ key: string; clusters: Record<string, unknown> }>;
}
interface ServicesView { services: Array<{ key: string; clusters: Record<string, { endpoints: Array<{ address: string; health: string }> }> }> }

const ms = (x: number): string => `${x.toFixed(1)} ms`;
const secs = (x: number | undefined): string => (x === undefined ? '-' : `${(x / 1000).toFixed(2)} s`);
const three = (xs: readonly number[]): string => `${ms(quantile(xs, 0.5))} / ${ms(quantile(xs, 0.95))} / ${ms(xs.at(-1) ?? NaN)}`;
const ascending = (xs: number[]): number[] => [...xs].sort((x, y) => x - y);

async function main(): Promise<void> {
  const { services, endpoints } = shape;
  const exported = Array.from({ length: services }, (_, s) => s).filter(isExported);
  const tmp = await makeTempDir('bench-kubernetes');
  const api = new KubeApiDouble(TOKEN);
  let a: GatewayProcess | undefined;
  let b: GatewayProcess | undefined;
  try {
    await api.start();
    const fillBegin = performance.now();
    const { objects } = fillCluster(api, shape);
    const fillMs = performance.now() - fillBegin;
    const kubeconfig = api.writeKubeconfig(path.join(tmp.dir, 'kubeconfig'));
    const files = { a: path.join(tmp.dir, 'cluster-a.yaml'), b: path.join(tmp.dir, 'cluster-b.yaml') };
    const logs = { a: path.join(tmp.dir, 'a.log'), b: path.join(tmp.dir, 'b.log') };
    await writeFile(files.a, inProcessConfig(tmp.dir, 'cluster-a', ''));
    await writeFile(files.b, inProcessConfig(tmp.dir, 'cluster-b', ''));
    b = await spawnGateway(files.b, { logFile: logs.b });
    a = await spawnGateway(files.a, { logFile: logs.a });
    await cli(['peer', 'add', await cli(['peer', 'token', '--config', files.b]), '--config', files.a]);
    await pollUntil('the peer link', performance.now(), async () => (await firstPeer(a!))?.state === 'connected');
    await a.stop();

    // A again, now with the cluster as its source: the clock starts at its spawn.
    await writeFile(files.a, inProcessConfig(tmp.dir, 'cluster-a', `sources: { kubernetes: { kubeconfig: ${kubeconfig} } }\n`));
    api.clearRequestLog();
    const startedWall = Date.now();
    const started = performance.now();
    a = await spawnGateway(files.a, { logFile: logs.a, nodeArgs, readyTimeoutMs: 60_000 });
    const readyMs = performance.now() - started;

    // Until synced, a status read is cheap (the catalog is empty); the first synced one holds it all.
    const stall = stallProbe(a);
    const resets = { count: 0 };
    let status: StatusView | undefined;
    let statusReadMs = 0;
    let shownError: string | undefined;
    const syncedMs = await pollUntil('the source synced', started, async () => {
      const asked = performance.now();
      status = await unlessReset(admin<StatusView>(a!, '/v1/status', 120_000), resets);
      if (status === undefined) return false;
      statusReadMs = performance.now() - asked;
      const source = status.sources.find((x) => x.kind === 'kubernetes');
      if (source?.lastError !== undefined && source.lastError !== shownError) process.stderr.write(`source: ${source.lastError}\n`);
      shownError = source?.lastError;
      return source?.synced === true;
    }, { timeoutMs: SYNC_TIMEOUT_MS, everyMs: 25 });
    const declared = status?.sources.find((x) => x.kind === 'kubernetes')?.services ?? 0;
    const inCatalog = status?.services.filter((s) => s.clusters['cluster-a'] !== undefined).length ?? 0;
    if (inCatalog !== services) throw new Error(`A's catalog holds ${inCatalog} local services once synced, not ${services}`);

    let localExportedMs: number | undefined;
    let peerMs: number | undefined;
    await pollUntil(`all ${exported.length} exported services at B`, started, async () => {
      const [atA, atB] = await Promise.all([unlessReset(firstPeer(a!), resets), unlessReset(firstPeer(b!), resets)]);
      const now = performance.now() - started;
      if (localExportedMs === undefined && atA?.exportedServices === exported.length) localExportedMs = now;
      if (peerMs === undefined && atB?.importedServices === exported.length) peerMs = now;
      return peerMs !== undefined;
    }, { timeoutMs: SYNC_TIMEOUT_MS, everyMs: 10 });
    const cpuAtImport = cpuSeconds(a.child.pid!);
    const stalled = await stall.stop();
    const syncedLog = await logTime(logs.a, 'source synced', startedWall, { kind: 'kubernetes' });
    const lists = api.requestLog({ verb: 'list' });
    const listsEnded = Math.max(...lists.map((r) => r.endedAt ?? NaN)) - startedWall;
    const firstListAsked = Math.min(...lists.map((r) => r.startedAt)) - startedWall;

    // Settled: B has acknowledged every delta, and 5 s have gone by.
    await pollUntil('B to acknowledge every delta', performance.now(), async () => (await firstPeer(a!))?.unacked === 0, { timeoutMs: 120_000 });
    await sleep(5000);
    const [memA, memB] = await Promise.all([memoryOf(a.child.pid!), memoryOf(b.child.pid!)]);

    const explainOf = (g: GatewayProcess, s: number): Promise<ExplainView> =>
      admin<ExplainView>(g, `/v1/explain?from=anonymous&to=${encodeURIComponent(serviceKeyOf(s, shape))}`);
    const local: number[] = [];
    const peer: number[] = [];
    const changed: Array<{ s: number; address: string }> = [];
    for (let c = 0; c < changes; c += 1) {
      // A different exported Service each time; its first endpoint goes not-ready (the others stay ready).
      const s = exported[(c * 7919) % exported.length] ?? 0;
      const address = endpointAddress(s, 0, shape);
      changed.push({ s, address });
      await pollUntil('A\'s five watches open', performance.now(), () => Promise.resolve(api.openWatches() >= RESOURCES.length));
      const begin = performance.now();
      api.apply('endpointslices', endpointSlice(s, shape, new Map([[0, { ready: false, serving: false, terminating: false }]])));
      const [atA, atB] = await Promise.all([
        pollUntil(`change ${c} at A`, begin, async () => (await explainOf(a!, s)).considered
          .some((e) => e.subject.startsWith(`endpoint ${address}:`) && e.why === 'health unhealthy')),
        pollUntil(`change ${c} at B`, begin, async () => (await explainOf(b!, s)).considered
          .some((e) => e.cluster === 'cluster-a' && e.why.includes(`${endpoints - 1} of ${endpoints} endpoints healthy`))),
      ]);
      local.push(atA);
      peer.push(atB);
    }

    // Once, after every clock has stopped: B's whole catalog has every endpoint, the changed ones unhealthy.
    const readBegin = performance.now();
    const response = await fetch(`http://${b.listeners.admin}/v1/services`, { signal: AbortSignal.timeout(120_000) });
    const text = await response.text();
    const fullReadMs = performance.now() - readBegin;
    const view = JSON.parse(text) as ServicesView;
    const atB = view.services.reduce((n, s) => n + (s.clusters['cluster-a']?.endpoints.length ?? 0), 0);
    if (atB !== exported.length * endpoints) throw new Error(`B holds ${atB} endpoints of cluster-a, not ${exported.length * endpoints}`);
    for (const { s, address } of changed) {
      const health = view.services.find((x) => x.key === serviceKeyOf(s, shape))?.clusters['cluster-a']?.endpoints.find((e) => e.address === address)?.health;
      if (health !== 'unhealthy') throw new Error(`${address} of ${serviceKeyOf(s, shape)} is ${health} at B`);
    }

    // The double's word on how A read it: one list per resource, then watches.
    const log = api.requestLog();
    const perResource = RESOURCES.map((resource) => {
      const mine = log.filter((r) => r.resource === resource);
      return { resource, lists: mine.filter((r) => r.verb === 'list').length, watches: mine.filter((r) => r.verb === 'watch').length };
    });
    const others = log.filter((r) => r.verb !== 'list' && r.verb !== 'watch');
    const relisted = perResource.filter((r) => r.lists !== 1);
    const watchEvents = log.filter((r) => r.verb === 'watch').reduce((n, r) => n + r.events - r.bookmarks, 0);

    const [l, p] = [ascending(local), ascending(peer)];
    console.log(`\nKubernetes source: ${services} Services × ${endpoints} endpoints (${services * endpoints} endpoints and pods, ${shape.namespaces} namespaces, ${shape.nodes} nodes; ${exported.length} exported); A and B gateway processes\n`);
    console.log('| figure | value |');
    console.log('|---|---|');
    console.log(`| objects written into the double (in the bench process) | ${objects} in ${secs(fillMs)} |`);
    console.log(`| A's start → ready (runtime file written) | ${secs(readyMs)} |`);
    console.log(`| A's start → first list asked / last initial list served (the double's log) | ${secs(firstListAsked)} / ${secs(listsEnded)} |`);
    console.log(`| A's start → source synced, all ${services} Services in A's catalog (GET /v1/status, polled every 25 ms) | ${secs(syncedMs)} (log line: ${secs(syncedLog === undefined ? undefined : syncedLog - startedWall)}; ${declared} declared) |`);
    console.log(`| A's start → ${exported.length} exported in A's catalog / in B's catalog (GET /v1/peers) | ${secs(localExportedMs)} / ${secs(peerMs)} |`);
    console.log(`| A's CPU from its start to B holding every exported Service | ${cpuAtImport.toFixed(1)} s |`);
    console.log(`| A's longest stall meanwhile (GET /healthz on a new connection every 25 ms, longest wait) | ${ms(stalled.longestMs)} (${stalled.probes} probes, ${stalled.failed} failed; ${resets.count} polls reset or timed out) |`);
    console.log(`| RSS of A / B once settled (VmRSS) | ${memA.rss.toFixed(0)} / ${memB.rss.toFixed(0)} MiB |`);
    console.log(`| peak RSS of A / B (VmHWM) | ${memA.peak.toFixed(0)} / ${memB.peak.toFixed(0)} MiB |`);
    console.log(`| endpoint made not-ready → unhealthy in A's catalog (local), p50 / p95 / max (${changes} changes) | ${three(l)} |`);
    console.log(`| endpoint made not-ready → unhealthy in B's catalog (peer), p50 / p95 / max | ${three(p)} |`);
    console.log(`| peer / local, p50 | ${(quantile(p, 0.5) / quantile(l, 0.5)).toFixed(2)} |`);
    console.log(`| requests to the double per resource, list / watch | ${perResource.map((r) => `${r.resource} ${r.lists}/${r.watches}`).join(', ')} |`);
    console.log(`| other requests to the double; watch events delivered | ${others.length}; ${watchEvents} |`);
    console.log(`| the first synced GET /v1/status of A / one GET /v1/services of B (not polled) | ${ms(statusReadMs)} / ${ms(fullReadMs)}, ${(Buffer.byteLength(text) / 1024 / 1024).toFixed(1)} MiB |`);
    if (relisted.length > 0 || others.length > 0) {
      console.log(`\nNot one list per resource then watches: ${JSON.stringify(perResource)}; other requests: ${others.map((r) => `${r.method} ${r.path}`).slice(0, 10).join(', ')}`);
      process.exitCode = 1;
    }
  } catch (err) {
    throw new Error(`${(err as Error).message} (CAUSEWAY_KEEP_TMP=1 keeps the configs and the gateways' logs in ${tmp.dir})`, { cause: err });
  } finally {
    await Promise.allSettled([a?.stop(30_000), b?.stop()]);
    await api.close();
    await tmp.remove();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
