// Consul bridge figures across a peering (issue 10, "Measure"), run by `npm run bench:consul`
// after the one-process figures. The Consul API double in this process holds N services × M
// instances; gateway A, a real `causeway gateway` process, imports it (sources.consul with
// export: true); gateway B, a second process, is peered with A through the CLI (`causeway peer
// token` on B, `causeway peer add` on A). Measured:
//   - from A's start to A having imported all N services, and to B's catalog holding all N
//     (GET /v1/peers on each side: exportedServices at A, importedServices at B);
//   - A's and B's RSS once settled (VmRSS, and the peak VmHWM, of /proc/<pid>/status);
//   - for K check flips of one instance in the double, the time until that endpoint's health
//     has flipped in A's catalog (local) and in B's (peer).
// The admin API has no per-service read of the catalog, and GET /v1/services answers all of it
// (megabytes at 20,000 endpoints, built and serialized on the gateway's event loop): polled in
// a loop it would slow the very gateway it watches. The flips are therefore polled with GET
// /v1/explain, one service's route decision computed on the gateway's catalog: at A each local
// endpoint is listed with its health, at B the remote cluster shows as "9 of 10 endpoints
// healthy". After the clock has stopped, one GET /v1/services of B checks that the very
// endpoint flipped; that read's cost is printed.
//
// A is peered first without the source, then restarted with it, so that its start → B's
// catalog is the import and the federation, not the CLI's peering steps.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnGateway, type GatewayProcess } from '../../gateway/index.js';
import { ConsulApiDouble } from '../doubles/consul-api.js';
import { makeTempDir } from '../helpers/paths.js';
import { inProcessConfig } from '../helpers/in-process-config.js';
import { runCli } from '../helpers/run-cli.js';

export interface PeeredSettings {
  services: number;
  instances: number;
  changes: number;
}

const CONSUL_PORT = 8080;
const POLL_MS = 5;

interface PeerView { state: string; importedServices: number; exportedServices: number; unacked: number }
interface ExplainView { considered: Array<{ cluster: string; subject: string; why: string }> }
interface ServicesView { services: Array<{ key: string; clusters: Record<string, { endpoints: Array<{ address: string; health: string }> }> }> }

/** The address of instance `i` of service `s` (unique up to 65,536 services × 254 instances). */
export function instanceAddress(s: number, i: number): string {
  return `10.${(s >> 8) & 255}.${s & 255}.${i + 1}`;
}

/** Fills the double with `services` × `instances`: svc-<s> on nodes node-<s>-<i>, one passing check each. */
export function fillDouble(consul: ConsulApiDouble, services: number, instances: number): void {
  for (let s = 0; s < services; s += 1) {
    for (let i = 0; i < instances; i += 1) {
      consul.registerService({ node: `node-${s}-${i}`, address: instanceAddress(s, i), service: `svc-${s}`, id: `svc-${s}-${i}`, port: CONSUL_PORT });
    }
  }
}

/** The value at quantile `q` of ascending `sorted` (the nearest rank below). */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function admin<T>(gateway: GatewayProcess, pathAndQuery: string): Promise<T> {
  const response = await fetch(`http://${gateway.listeners.admin}${pathAndQuery}`, { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new Error(`${pathAndQuery} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** Polls `probe` every POLL_MS until true; the time since `begin`. */
async function pollUntil(what: string, begin: number, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<number> {
  for (;;) {
    if (await probe()) return performance.now() - begin;
    if (performance.now() - begin > timeoutMs) throw new Error(`${what} not seen within ${timeoutMs / 1000} s`);
    await sleep(POLL_MS);
  }
}

/** VmRSS and VmHWM (the peak) of a process, in MiB. */
async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

async function cli(args: string[]): Promise<string> {
  const result = await runCli(args);
  if (result.code !== 0) throw new Error(`causeway ${args.slice(0, 2).join(' ')}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

export async function benchPeered(settings: PeeredSettings): Promise<void> {
  const { services, instances, changes } = settings;
  const tmp = await makeTempDir('bench-consul-peered');
  const consul = new ConsulApiDouble({ jitter: false, consulService: false });
  let a: GatewayProcess | undefined;
  let b: GatewayProcess | undefined;
  try {
    const address = await consul.start();
    fillDouble(consul, services, instances);
    const files = { a: path.join(tmp.dir, 'cluster-a.yaml'), b: path.join(tmp.dir, 'cluster-b.yaml') };
    const logs = { a: path.join(tmp.dir, 'a.log'), b: path.join(tmp.dir, 'b.log') };
    await writeFile(files.a, inProcessConfig(tmp.dir, 'cluster-a', ''));
    await writeFile(files.b, inProcessConfig(tmp.dir, 'cluster-b', ''));
    b = await spawnGateway(files.b, { logFile: logs.b });
    a = await spawnGateway(files.a, { logFile: logs.a });
    await cli(['peer', 'add', await cli(['peer', 'token', '--config', files.b]), '--config', files.a]);
    const peerOf = async (g: GatewayProcess): Promise<PeerView | undefined> => (await admin<{ peers: PeerView[] }>(g, '/v1/peers')).peers[0];
    await pollUntil('the peer link', performance.now(), async () => (await peerOf(a!))?.state === 'connected');
    await a.stop();

    // A again, now importing the datacenter: the clock starts at its spawn.
    await writeFile(files.a, inProcessConfig(tmp.dir, 'cluster-a', `sources:
  consul:
    - name: consul-dc1
      address: "${address.host}:${address.port}"
      namespace: legacy
      export: true
      wait: 30s
`));
    const started = performance.now();
    a = await spawnGateway(files.a, { logFile: logs.a });
    const readyMs = performance.now() - started;
    let linkMs: number | undefined;
    let localMs: number | undefined;
    let peerMs: number | undefined;
    await pollUntil(`all ${services} services at A and at B`, started, async () => {
      const [atA, atB] = await Promise.all([peerOf(a!), peerOf(b!)]);
      const now = performance.now() - started;
      if (linkMs === undefined && atA?.state === 'connected') linkMs = now;
      if (localMs === undefined && atA?.exportedServices === services) localMs = now;
      if (peerMs === undefined && atB?.importedServices === services) peerMs = now;
      return localMs !== undefined && peerMs !== undefined;
    }, 300_000);

    // Settled: B has acknowledged all of A's deltas, and 5 s have gone by. Read before any
    // GET /v1/services, whose megabytes of JSON would grow B's heap.
    await pollUntil('B to acknowledge every delta', performance.now(), async () => (await peerOf(a!))?.unacked === 0);
    await sleep(5000);
    const [memA, memB] = await Promise.all([memoryOf(a.child.pid!), memoryOf(b.child.pid!)]);

    // The whole catalog at B once: every endpoint arrived, and what a full read costs.
    const readAll = async (): Promise<{ view: ServicesView; ms: number; bytes: number }> => {
      const begin = performance.now();
      const response = await fetch(`http://${b!.listeners.admin}/v1/services`, { signal: AbortSignal.timeout(60_000) });
      const text = await response.text();
      return { view: JSON.parse(text) as ServicesView, ms: performance.now() - begin, bytes: Buffer.byteLength(text) };
    };
    const first = await readAll();
    const endpointsAtB = first.view.services.reduce((n, s) => n + (s.clusters['cluster-a']?.endpoints.length ?? 0), 0);
    if (endpointsAtB !== services * instances) throw new Error(`B holds ${endpointsAtB} endpoints of cluster-a, not ${services * instances}`);

    const explainOf = (g: GatewayProcess, s: number): Promise<ExplainView> =>
      admin<ExplainView>(g, `/v1/explain?from=anonymous&to=${encodeURIComponent(`svc-${s}.legacy`)}`);
    const local: number[] = [];
    const peer: number[] = [];
    const explainMs: number[] = [];
    const fullReads: number[] = [];
    for (let c = 0; c < changes; c += 1) {
      // The services picked go critical, then passing again, one instance each (as in the one-process figures).
      const s = ((c >> 1) * 7919) % services;
      const unhealthy = c % 2 === 0;
      const endpoint = instanceAddress(s, 0);
      await pollUntil('A\'s watches parked', performance.now(), () => Promise.resolve(consul.blockedQueries === 2));
      const begin = performance.now();
      consul.setCheckStatus(`node-${s}-0`, `service:svc-${s}-0`, unhealthy ? 'critical' : 'passing');
      const [atA, atB] = await Promise.all([
        pollUntil(`change ${c} at A`, begin, async () => {
          const entry = (await explainOf(a!, s)).considered.find((e) => e.subject === `endpoint ${endpoint}:${CONSUL_PORT}`);
          return entry !== undefined && (entry.why === 'health unhealthy') === unhealthy;
        }),
        pollUntil(`change ${c} at B`, begin, async () => {
          const asked = performance.now();
          const view = await explainOf(b!, s);
          explainMs.push(performance.now() - asked);
          const counts = view.considered.filter((e) => e.cluster === 'cluster-a').map((e) => /(\d+) of \d+ endpoints healthy/.exec(e.why)?.[1]);
          return counts.some((n) => n !== undefined && Number(n) === (unhealthy ? instances - 1 : instances));
        }),
      ]);
      local.push(atA);
      peer.push(atB);
      const check = await readAll();
      fullReads.push(check.ms);
      const health = check.view.services.find((x) => x.key === `svc-${s}.legacy`)?.clusters['cluster-a']?.endpoints.find((e) => e.address === endpoint)?.health;
      if (health !== (unhealthy ? 'unhealthy' : 'healthy')) throw new Error(`change ${c}: ${endpoint} of svc-${s}.legacy is ${health} at B`);
    }

    const sorted = (xs: number[]): number[] => [...xs].sort((x, y) => x - y);
    const [l, p, e, f] = [sorted(local), sorted(peer), sorted(explainMs), sorted(fullReads)];
    const ms = (x: number): string => `${x.toFixed(1)} ms`;
    const s3 = (xs: number[]): string => `${ms(quantile(xs, 0.5))} / ${ms(quantile(xs, 0.95))} / ${ms(xs.at(-1)!)}`;
    const secs = (x: number | undefined): string => (x === undefined ? '-' : `${(x / 1000).toFixed(2)} s`);
    console.log(`\nConsul bridge across a peering: ${services} services × ${instances} instances (${services * instances} endpoints); A and B gateway processes\n`);
    console.log('| figure | value |');
    console.log('|---|---|');
    console.log(`| A's start → ready (runtime file written) / peer link up | ${secs(readyMs)} / ${secs(linkMs)} |`);
    console.log(`| A's start → all ${services} services in A's catalog (local build) | ${secs(localMs)} |`);
    console.log(`| A's start → all ${services} services in B's catalog (at the peer) | ${secs(peerMs)} |`);
    console.log(`| RSS of A / B once settled (VmRSS) | ${memA.rss.toFixed(0)} / ${memB.rss.toFixed(0)} MiB |`);
    console.log(`| peak RSS of A / B (VmHWM) | ${memA.peak.toFixed(0)} / ${memB.peak.toFixed(0)} MiB |`);
    console.log(`| check flip in Consul → A's catalog (local), p50 / p95 / max (${changes} changes) | ${s3(l)} |`);
    console.log(`| check flip in Consul → B's catalog (peer), p50 / p95 / max | ${s3(p)} |`);
    console.log(`| peer / local, p50 | ${(quantile(p, 0.5) / quantile(l, 0.5)).toFixed(2)} |`);
    console.log(`| B polled with GET /v1/explain (one service), p50 per read | ${ms(quantile(e, 0.5))} (every ${POLL_MS} ms) |`);
    console.log(`| one GET /v1/services of B (not polled: the whole catalog), p50 | ${ms(quantile(f, 0.5))}, ${(first.bytes / 1024 / 1024).toFixed(1)} MiB |`);
  } catch (err) {
    throw new Error(`${(err as Error).message} (CAUSEWAY_KEEP_TMP=1 keeps the configs and the gateways' logs in ${tmp.dir})`, { cause: err });
  } finally {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await consul.close();
    await tmp.remove();
  }
}
