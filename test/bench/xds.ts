// xDS server figures (issue 13, "Measure"), `npm run bench:xds`. One in-process gateway serves
// N services × M endpoints from its static config over xDS (mTLS); C ADS clients (xds-clients.ts,
// a worker thread of this process) subscribe over a few grpc-js channels, one phase with state
// of the world and one with delta, C streams each. Every client subscribes LDS, RDS, CDS and EDS
// to the same 10 names: 5 from a "hot" pool of 50 services (each hot service is in 100 clients'
// subscriptions at C = 1,000) and 5 spread over the rest; it ACKs every response at once.
// Then K changes, one endpoint added to one hot service each, made by an agent registration
// (AgentSource.register, the path a VM agent's channel takes: its one declaration merges into
// the static service, so the catalog changes that one record). Measured, per change:
//   - from the catalog change (a catalog.onChange listener, synchronous with the record being
//     written) to the moment each concerned client wrote its ACK of the response that carries
//     the new endpoint (client side, process.hrtime, the same clock in both threads); the
//     latency of a change is its last client's; the debounce (20 ms) is part of it;
//   - the same to the moment the server had recorded every one of those ACKs (GET /v1/xds's
//     data, gateway.xds.clients(), polled every 2 ms once the clients were done: an upper bound,
//     by the worker's message and by the poll's own cost, which is reported);
//   - the serialized size of the EDS response each concerned client got (the decoder's input:
//     the protobuf message without gRPC framing), and every other response sent meanwhile;
//   - RSS and JS heap: of the gateway alone, then with each phase's clients connected (the
//     worker's heap is the clients'; RSS is the process's and includes them).
// Streams go round-robin over CW_BENCH_CHANNELS grpc-js channels, each its own TLS connection
// (20 × 50 at C = 1,000). No peer gateway: every load assignment is priority 0 only (a peer
// would add this gateway's outbound listener as priority 1, one small locality more).
//   CW_BENCH_SERVICES (1000), CW_BENCH_ENDPOINTS (10 per service), CW_BENCH_CLIENTS (1000),
//   CW_BENCH_CHANNELS (20), CW_BENCH_CHANGES (20 per phase), CW_BENCH_PROTOCOLS (sotw,delta),
//   CW_BENCH_QUICK=1 (200 clients, 5 changes), CW_BENCH_OUT (bench-results/xds.json),
//   CAUSEWAY_KEEP_TMP=1.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { silentLogger, type ServiceDeclaration } from '../../registry/index.js';
import { Gateway, loadConfig } from '../../gateway/index.js';
import { TYPE_URLS } from '../../gateway/xds/xds-protos.js';
import { inProcessConfig } from '../helpers/in-process-config.js';
import { makeTempDir, REPO_ROOT } from '../helpers/paths.js';
import { quantile } from './gateway-probe.js';
import { nowMs, type ClientsSetup, type FromClients, type Protocol, type ToClients } from './xds-messages.js';

const quick = process.env.CW_BENCH_QUICK === '1';
const settings = {
  services: Number(process.env.CW_BENCH_SERVICES ?? 1000),
  endpoints: Number(process.env.CW_BENCH_ENDPOINTS ?? 10),
  clients: Number(process.env.CW_BENCH_CLIENTS ?? (quick ? 200 : 1000)),
  channels: Number(process.env.CW_BENCH_CHANNELS ?? 20),
  changes: Number(process.env.CW_BENCH_CHANGES ?? (quick ? 5 : 20)),
  protocols: (process.env.CW_BENCH_PROTOCOLS ?? 'sotw,delta').split(',') as Protocol[],
  hot: 50,
  namesPerClient: 10,
  /** Between the end of one change and the next: well past the 20 ms debounce, so no two coalesce. */
  gapMs: 200,
  targetP99Ms: 250,
};
const out = path.resolve(process.env.CW_BENCH_OUT ?? path.join(REPO_ROOT, 'bench-results', 'xds.json'));
const TRUST_DOMAIN = 'cluster-a.example.org';
const CLIENT_ID = `spiffe://${TRUST_DOMAIN}/ns/bench/sa/client`;
const NAMESPACE = 'bench';
const PORT = 9000;

const serviceName = (s: number): string => `svc-${String(s).padStart(4, '0')}`;
const resourceName = (s: number): string => `${serviceName(s)}.${NAMESPACE}:${PORT}`;

/** 5 names from the hot pool (each hot service in 10 × C / hot clients' sets), 5 spread over the other services. */
function subscriptions(clients: number, services: number): string[][] {
  const { hot } = settings;
  const half = settings.namesPerClient / 2;
  return Array.from({ length: clients }, (_, i) => [
    ...Array.from({ length: half }, (_, j) => resourceName((i * 7 + j * 13) % hot)),
    ...Array.from({ length: half }, (_, j) => resourceName(hot + ((i * half + j) % (services - hot)))),
  ]);
}

function staticServices(): unknown[] {
  return Array.from({ length: settings.services }, (_, s) => ({
    name: serviceName(s), namespace: NAMESPACE, ports: [{ name: 'grpc', port: PORT, protocol: 'grpc' }],
    endpoints: Array.from({ length: settings.endpoints }, (_, e) => ({
      address: `10.${1 + (s >> 8)}.${s & 255}.${1 + e}`, ports: { grpc: 8000 }, identity: `spiffe://${TRUST_DOMAIN}/ns/${NAMESPACE}/sa/${serviceName(s)}`, kind: 'vm',
    })),
  }));
}

const mib = (bytes: number): number => bytes / 2 ** 20;
const signed = (x: number, digits = 0): string => `${x < 0 ? '−' : '+'}${Math.abs(x).toFixed(digits)}`;
const gc = (): void => global.gc?.();

interface Memory { rss: number; heapUsed: number }
function memory(): Memory {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}

/** The worker's messages, awaited by type. */
class ClientsWorker {
  private readonly worker: Worker;
  private readonly waiting: Array<{ type: FromClients['type']; resolve(m: FromClients): void }> = [];
  private failure: Error | undefined;

  constructor(setup: ClientsSetup) {
    this.worker = new Worker(new URL('./xds-clients.js', import.meta.url), { workerData: setup });
    this.worker.on('message', (m: FromClients) => {
      const index = this.waiting.findIndex((w) => w.type === m.type);
      if (index >= 0) this.waiting.splice(index, 1)[0]!.resolve(m);
    });
    this.worker.on('error', (err) => {
      this.failure = err;
    });
  }

  send(message: ToClients): void {
    this.worker.postMessage(message);
  }

  next<T extends FromClients['type']>(type: T, timeoutMs: number): Promise<Extract<FromClients, { type: T }>> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(this.failure ?? new Error(`the clients did not say ${type} within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push({ type, resolve: (m) => {
        clearTimeout(timer);
        resolve(m as Extract<FromClients, { type: T }>);
      } });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

interface ChangeResult {
  service: string;
  /** Catalog change → the last concerned client's ACK written. */
  lastAckMs: number;
  /** Catalog change → every one of those ACKs recorded by the server (polled after the clients were done). */
  serverRecordedMs: number;
  perClientMs: number[];
  updateBytes: number[];
  otherResponses: number;
  otherBytes: number;
}

interface PhaseResult {
  protocol: Protocol;
  clients: number;
  connectMs: number;
  /** One gateway.xds.clients() with every client connected: what each poll of the server-side figure costs. */
  statusMs: number;
  initialBytesPerClient: number;
  memory: { loaded: Memory; connected: Memory; clientsHeapLoaded: number; clientsHeapConnected: number };
  changes: ChangeResult[];
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `ok` holds; the time it first held, in nowMs(). */
async function until(what: string, ok: () => boolean, timeoutMs = 10_000, everyMs = 2): Promise<number> {
  const begin = nowMs();
  for (;;) {
    if (ok()) return nowMs();
    if (nowMs() - begin > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

async function phase(gateway: Gateway, protocol: Protocol, firstChange: number, setup: Omit<ClientsSetup, 'protocol'>): Promise<PhaseResult> {
  const xds = gateway.xds!;
  const clients = new ClientsWorker({ ...setup, protocol });
  try {
    const loaded = await clients.next('loaded', 60_000);
    const memLoaded = memory();
    clients.send({ type: 'connect' });
    const ready = await clients.next('ready', 300_000);
    const memConnected = memory();
    const settled = (): boolean => {
      const statuses = xds.clients();
      return statuses.length === setup.subscriptions.length &&
        statuses.every((c) => c.types.length === 4 && c.types.every((t) => t.acked === (protocol === 'sotw' ? t.sent?.version : t.sent?.nonce)));
    };
    await until(`${protocol}: every client's four types acknowledged at the server`, settled, 30_000, 20);
    const statusBegin = nowMs();
    xds.clients();
    const statusMs = nowMs() - statusBegin;
    const results: ChangeResult[] = [];
    for (let k = 0; k < settings.changes; k += 1) {
      const g = firstChange + k;
      const s = (g * 17) % settings.hot;
      const name = resourceName(s);
      const address = `10.200.${g >> 8}.${g & 255}`;
      clients.send({ type: 'watch', change: g, name, address });
      await clients.next('watching', 10_000);
      const declared = gateway.config.services.find((d) => d.name === serviceName(s))!;
      const declaration: ServiceDeclaration = { ...declared, endpoints: [{ ...declared.endpoints[0]!, address }] };
      let changedAt: number | undefined;
      const off = gateway.catalog.onChange((batch) => {
        if (changedAt === undefined && batch.some((c) => c.record.name === serviceName(s))) changedAt = nowMs();
      });
      const seen = clients.next('seen', 30_000);
      await gateway.agents.register(`spiffe://${TRUST_DOMAIN}/ns/bench/sa/agent-${g}`, [declaration]);
      off();
      const got = await seen;
      if (changedAt === undefined) throw new Error(`change ${g}: the catalog did not change`);
      const at = changedAt;
      // Every concerned client's EDS ACK as the server records it (the clients wrote them all by now).
      const concerned = (): Array<{ acked?: string; sent?: { version: string; nonce: string } }> => xds.clients().flatMap((c) =>
        c.types.filter((t) => t.typeUrl === TYPE_URLS.endpoints && t.names.includes(name)));
      const recorded = await until(`change ${g}: the server recording every ACK`, () =>
        concerned().every((t) => t.acked !== undefined && t.acked === (protocol === 'sotw' ? t.sent?.version : t.sent?.nonce)));
      const perClient = got.ackedAtMs.map((t) => t - at).sort((x, y) => x - y);
      results.push({
        service: name, lastAckMs: perClient.at(-1)!, serverRecordedMs: recorded - at, perClientMs: perClient,
        updateBytes: got.updateBytes, otherResponses: got.otherResponses, otherBytes: got.otherBytes,
      });
      await sleep(settings.gapMs);
    }
    const initial = [...ready.initialBytes].sort((x, y) => x - y);
    clients.send({ type: 'close' });
    await clients.next('closed', 30_000);
    await until(`${protocol}: every stream gone at the server`, () => xds.clients().length === 0, 30_000, 20);
    return {
      protocol, clients: setup.subscriptions.length, connectMs: ready.connectMs, statusMs, initialBytesPerClient: quantile(initial, 0.5),
      memory: { loaded: memLoaded, connected: memConnected, clientsHeapLoaded: loaded.heapUsed, clientsHeapConnected: ready.heapUsed },
      changes: results,
    };
  } finally {
    await clients.terminate();
  }
}

const ms = (x: number): string => `${x.toFixed(1)} ms`;
const sorted = (xs: number[]): number[] => [...xs].sort((x, y) => x - y);
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

function summary(p: PhaseResult): Record<string, number> {
  const last = sorted(p.changes.map((c) => c.lastAckMs));
  const server = sorted(p.changes.map((c) => c.serverRecordedMs));
  const perClient = sorted(p.changes.flatMap((c) => c.perClientMs));
  const bytes = sorted(p.changes.flatMap((c) => c.updateBytes));
  return {
    changeP50Ms: quantile(last, 0.5), changeP99Ms: quantile(last, 0.99), changeMaxMs: last.at(-1) ?? NaN,
    serverRecordedP50Ms: quantile(server, 0.5), serverRecordedP99Ms: quantile(server, 0.99),
    clientP50Ms: quantile(perClient, 0.5), clientP99Ms: quantile(perClient, 0.99),
    concernedPerChange: perClient.length / Math.max(1, p.changes.length),
    bytesPerUpdateP50: quantile(bytes, 0.5), bytesPerUpdateMax: bytes.at(-1) ?? NaN,
    bytesPerChange: sum(p.changes.flatMap((c) => c.updateBytes)) / Math.max(1, p.changes.length),
    otherResponses: sum(p.changes.map((c) => c.otherResponses)),
  };
}

function render(results: { settings: typeof settings; startMs: number; gatewayOnly: Memory; phases: PhaseResult[] }): string {
  const head = `xDS server: ${settings.services} services × ${settings.endpoints} endpoints (${settings.services * settings.endpoints}), ` +
    `${settings.clients} ADS clients per phase over ${settings.channels} channels (mTLS, one workload SVID), ` +
    `each LDS+RDS+CDS+EDS for ${settings.namesPerClient} names; ${settings.changes} changes per phase; ` +
    `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
  const rows = results.phases.map((p) => ({ p, s: summary(p) }));
  const col = (f: (r: { p: PhaseResult; s: Record<string, number> }) => string): string => rows.map(f).join(' | ');
  const line = (figure: string, f: (r: { p: PhaseResult; s: Record<string, number> }) => string): string => `| ${figure} | ${col(f)} |`;
  const g = results.gatewayOnly;
  const lines = [
    '', head, '',
    `| figure | ${rows.map((r) => (r.p.protocol === 'sotw' ? 'state of the world' : 'delta')).join(' | ')} |`,
    `|---|${rows.map(() => '---').join('|')}|`,
    line('catalog change → last concerned client\'s ACK written, p50 / p99 / max', (r) => `${ms(r.s.changeP50Ms!)} / ${ms(r.s.changeP99Ms!)} / ${ms(r.s.changeMaxMs!)}`),
    line('the first change after the clients connected / the slowest of the others', (r) => `${ms(r.p.changes[0]?.lastAckMs ?? NaN)} / ${ms(Math.max(...r.p.changes.slice(1).map((c) => c.lastAckMs)))}`),
    line(`p99 under ${settings.targetP99Ms} ms`, (r) => (r.s.changeP99Ms! < settings.targetP99Ms ? 'yes' : 'no')),
    line('catalog change → every ACK recorded by the server, p50 / p99 (an upper bound: gateway.xds.clients() polled once the clients are done)', (r) => `${ms(r.s.serverRecordedP50Ms!)} / ${ms(r.s.serverRecordedP99Ms!)}`),
    line('one gateway.xds.clients() (each poll of the line above)', (r) => ms(r.p.statusMs)),
    line('per client: catalog change → its ACK written, p50 / p99 (all changes)', (r) => `${ms(r.s.clientP50Ms!)} / ${ms(r.s.clientP99Ms!)}`),
    line('clients concerned by a change', (r) => r.s.concernedPerChange!.toFixed(0)),
    line('bytes of the update a concerned client gets (EDS response), p50 / max', (r) => `${r.s.bytesPerUpdateP50!.toFixed(0)} / ${r.s.bytesPerUpdateMax!.toFixed(0)}`),
    line('bytes sent per change, all clients', (r) => r.s.bytesPerChange!.toFixed(0)),
    line('other responses while measuring (should be 0)', (r) => String(r.s.otherResponses)),
    line('full state per client at subscribe (4 first responses), p50 bytes', (r) => r.p.initialBytesPerClient.toFixed(0)),
    line('connect + subscribe of every client', (r) => `${(r.p.connectMs / 1000).toFixed(2)} s`),
    line('RSS of the process, clients loaded → connected', (r) => `${mib(r.p.memory.loaded.rss).toFixed(0)} → ${mib(r.p.memory.connected.rss).toFixed(0)} MiB (${signed(mib(r.p.memory.connected.rss - r.p.memory.loaded.rss))})`),
    line('gateway thread JS heap, clients loaded → connected', (r) => `${mib(r.p.memory.loaded.heapUsed).toFixed(0)} → ${mib(r.p.memory.connected.heapUsed).toFixed(0)} MiB (${signed(mib(r.p.memory.connected.heapUsed - r.p.memory.loaded.heapUsed), 1)})`),
    line('clients thread JS heap, loaded → connected', (r) => `${mib(r.p.memory.clientsHeapLoaded).toFixed(0)} → ${mib(r.p.memory.clientsHeapConnected).toFixed(0)} MiB`),
    '',
    `Gateway alone (catalog loaded, before any client thread): RSS ${mib(g.rss).toFixed(0)} MiB, JS heap ${mib(g.heapUsed).toFixed(0)} MiB; Gateway.start ${(results.startMs / 1000).toFixed(2)} s.`,
    'RSS is the whole process: the clients (their thread, TLS and HTTP/2 sessions) are in it; the gateway thread\'s heap growth is the server\'s own JS cost of the streams. ' +
      'A later phase starts from what the allocator kept of the earlier one\'s clients (RSS rarely shrinks), so its RSS growth is understated.',
  ];
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const tmp = await makeTempDir('bench-xds');
  let gateway: Gateway | undefined;
  try {
    const file = path.join(tmp.dir, 'cluster-a.yaml');
    // JSON is YAML: the 10,000 endpoints go in as one flow mapping.
    await writeFile(file, inProcessConfig(tmp.dir, 'cluster-a', [
      'xds: { listen: "127.0.0.1:0" }',
      `access: [{ to: "*", from: ["spiffe://${TRUST_DOMAIN}/ns/bench/*"] }]`,
      `services: ${JSON.stringify(staticServices())}`,
    ].join('\n')));
    const startBegin = nowMs();
    gateway = await Gateway.start(await loadConfig(file), { logger: silentLogger(), configFile: file });
    const startMs = nowMs() - startBegin;
    const gatewayOnly = memory();
    const svid = gateway.ca.issueKeyAndSvid(CLIENT_ID, 24 * 3600);
    const setup = {
      target: gateway.listeners.xds!, rootsPem: gateway.trust.get(TRUST_DOMAIN)!.rootsPem.join('\n'),
      svid: { keyPem: svid.keyPem, certChainPem: svid.certChainPem }, channels: settings.channels,
      subscriptions: subscriptions(settings.clients, settings.services),
    };
    const phases: PhaseResult[] = [];
    for (const [i, protocol] of settings.protocols.entries()) phases.push(await phase(gateway, protocol, i * settings.changes, setup));
    const results = { startedAt: new Date().toISOString(), settings, startMs, gatewayOnly, phases: phases.map((p) => ({ ...p, summary: summary(p) })) };
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(render({ settings, startMs, gatewayOnly, phases }));
    console.log(`JSON: ${path.relative(process.cwd(), out)}`);
  } catch (err) {
    throw new Error(`${(err as Error).message} (CAUSEWAY_KEEP_TMP=1 keeps the config in ${tmp.dir})`, { cause: err });
  } finally {
    await gateway?.close();
    await tmp.remove();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
