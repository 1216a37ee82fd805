// Three gateway processes for failover (issue 9), set up as an operator would: A is the
// caller's cluster; B (same cloud and region as A) and C (another region) each export
// payments.prod, served by a backend process of their own; A is peered with B and with C
// through the admin API (what `causeway peer token` / `peer add` call). A has no payments
// endpoints, so it prefers B (same region, and first in A's FailoverPolicy) and falls back
// to C. Every process can be killed, frozen and thawed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { spawnGateway, type GatewayProcess } from '../../gateway/index.js';
import { freePorts } from './ports.js';
import { getJson, waitFor } from './wait-for.js';

export type Side = 'a' | 'b' | 'c';
export type ServingSide = 'b' | 'c';

export const CLUSTERS: Readonly<Record<Side, string>> = { a: 'cluster-a', b: 'cluster-b', c: 'cluster-c' };
export const SERVICE = 'payments.prod';
export const SERVICE_PORT = 8080;
export const SERVICE_URL = `http://${SERVICE}:${SERVICE_PORT}/`;
const BACKEND_ENTRY = fileURLToPath(new URL('./cluster-backend.js', import.meta.url));
const REGIONS: Readonly<Record<Side, string>> = { a: 'region-1', b: 'region-1', c: 'region-2' };

export interface FailoverClusterOptions {
  /** An empty directory for configs, data dirs and logs. */
  dir: string;
  /** false: A's FailoverPolicy sets `retries.attempts: 0`. Default true (the policy's default retries). */
  retries?: boolean;
  /** `failback.delay` of A's FailoverPolicy (e.g. `2s`); default: the policy default. */
  failbackDelay?: string;
  /**
   * Merged into every gateway's config (objects merged key by key), for settings that are
   * not in every build yet, e.g. `{ dataPlane: { tunnel: { pingInterval: '500ms' } } }`.
   */
  extraConfig?: Record<string, unknown>;
  /** Gateway log level (logs go to `<dir>/<side>.log`). Default info. */
  logLevel?: string;
}

export interface FailoverCluster {
  gateways: Readonly<Record<Side, GatewayProcess>>;
  /** A's outbound listener, `host:port`: where the callers go. */
  outbound: string;
  /** The FailoverPolicy written to A's policy directory. */
  policyFile: string;
  configFiles: Readonly<Record<Side, string>>;
  /** SIGKILL of the backend process: its connections reset, new connects are refused. */
  killBackend(side: ServingSide): Promise<void>;
  /** A new backend process on the same port; resolves once it listens. */
  startBackend(side: ServingSide): Promise<void>;
  /** SIGSTOP of the gateway process: a blackhole (connections stay open, nothing answers). */
  freezeGateway(side: Side): void;
  thawGateway(side: Side): void;
  /** Thaws and stops everything (idempotent). */
  close(): Promise<void>;
}

interface BackendProcess {
  child: ChildProcess;
  exited: Promise<void>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function merge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    out[key] = isPlainObject(value) && isPlainObject(out[key]) ? merge(out[key] as Record<string, unknown>, value) : value;
  }
  return out;
}

function startBackendProcess(cluster: string, port: number, logFile: string): Promise<BackendProcess> {
  const child = spawn(process.execPath, [BACKEND_ENTRY, cluster, String(port)], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  child.channel?.unref();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  void exited.then(() => writeFile(logFile, stderr, { flag: 'a' }).catch(() => undefined));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) resolve({ child, exited });
    });
    void exited.then(() => reject(new Error(`backend of ${cluster} exited before listening on ${port}: ${stderr.trim()}`)));
  });
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** One GET through A's outbound listener: the cluster that answered, or undefined. */
export function probeOnce(outbound: string, timeoutMs = 2000): Promise<string | undefined> {
  const colon = outbound.lastIndexOf(':');
  return new Promise((resolve) => {
    const req = httpRequest({
      host: outbound.slice(0, colon), port: Number(outbound.slice(colon + 1)), method: 'GET', path: SERVICE_URL,
      headers: { host: `${SERVICE}:${SERVICE_PORT}`, connection: 'close' }, timeout: timeoutMs,
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? String(res.headers['x-cluster']) : undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

function policyDocument(options: FailoverClusterOptions): Record<string, unknown> {
  const spec: Record<string, unknown> = { service: SERVICE, targets: [{ cluster: CLUSTERS.b }, { cluster: CLUSTERS.c }] };
  if (options.retries === false) spec.retries = { attempts: 0 };
  if (options.failbackDelay !== undefined) spec.failback = { delay: options.failbackDelay };
  return { apiVersion: 'causeway.dev/v1alpha1', kind: 'FailoverPolicy', metadata: { name: 'payments-failover' }, spec };
}

export async function startFailoverCluster(options: FailoverClusterOptions): Promise<FailoverCluster> {
  const { dir } = options;
  const gateways: Partial<Record<Side, GatewayProcess>> = {};
  const backends: Partial<Record<ServingSide, BackendProcess>> = {};
  const [portB, portC] = await freePorts(2) as [number, number];
  const backendPorts: Record<ServingSide, number> = { b: portB, c: portC };
  const dataDir = (side: Side): string => path.join(dir, CLUSTERS[side]);
  const log = (name: string): string => path.join(dir, `${name}.log`);

  // The synchronous last resort if this process exits without close(): a frozen gateway
  // cannot act on its closed IPC channel until it is thawed.
  const onExit = (): void => {
    for (const g of Object.values(gateways)) {
      if (alive(g.child)) {
        g.child.kill('SIGCONT');
        g.child.kill('SIGKILL');
      }
    }
    for (const b of Object.values(backends)) if (alive(b.child)) b.child.kill('SIGKILL');
  };
  process.on('exit', onExit);

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= (async () => {
    for (const g of Object.values(gateways)) if (alive(g.child)) g.child.kill('SIGCONT');
    await Promise.allSettled(Object.values(gateways).map((g) => g.stop(3000)));
    await Promise.allSettled(Object.values(backends).map(async (b) => {
      if (alive(b.child)) b.child.kill('SIGKILL');
      await b.exited;
    }));
    process.off('exit', onExit);
  })());

  const startBackend = async (side: ServingSide): Promise<void> => {
    const running = backends[side];
    if (running !== undefined && alive(running.child)) return;
    backends[side] = await startBackendProcess(CLUSTERS[side], backendPorts[side], log(`backend-${side}`));
  };
  const killBackend = async (side: ServingSide): Promise<void> => {
    const running = backends[side];
    if (running === undefined || !alive(running.child)) return;
    running.child.kill('SIGKILL');
    await running.exited;
  };

  /** An admin API call with the gateway's admin token (what the CLI reads with --config). */
  const admin = async <T>(side: Side, method: string, pathname: string, body: unknown): Promise<T> => {
    const token = (await readFile(path.join(dataDir(side), 'admin.token'), 'utf8')).trim();
    const response = await fetch(`http://${gateways[side]!.listeners.admin}${pathname}`, {
      method, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${pathname} on ${CLUSTERS[side]}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };

  const configOf = (side: Side): Record<string, unknown> => {
    const cluster = CLUSTERS[side];
    const trustDomain = `${cluster}.causeway.test`;
    const base: Record<string, unknown> = {
      cluster, trustDomain, gatewayName: `gw-${side}`,
      locality: { cloud: 'local', region: REGIONS[side], zone: 'zone-1' },
      dataDir: dataDir(side),
      listen: { admin: '127.0.0.1:0', outbound: '127.0.0.1:0', federation: '127.0.0.1:0', eastWest: '127.0.0.1:0', identity: '127.0.0.1:0' },
      logLevel: options.logLevel ?? 'info',
      services: side === 'a' ? [] : [{
        name: 'payments', namespace: 'prod', export: true, ports: [{ name: 'http', port: SERVICE_PORT, protocol: 'http' }],
        endpoints: [{ address: '127.0.0.1', ports: { http: backendPorts[side] }, identity: `spiffe://${trustDomain}/ns/prod/sa/payments`, kind: 'vm' }],
      }],
      // A's callers are anonymous at A's outbound listener (no client certificate, no agent,
      // no source-address identity): B and C admit them, and any identity of A's domain.
      ...(side === 'a' ? {} : { access: [{ to: SERVICE, from: [`spiffe://${CLUSTERS.a}.causeway.test/*`, 'anonymous'] }] }),
    };
    return options.extraConfig === undefined ? base : merge(base, options.extraConfig);
  };

  try {
    const configFiles = {} as Record<Side, string>;
    for (const side of ['a', 'b', 'c'] as const) {
      configFiles[side] = path.join(dir, `${CLUSTERS[side]}.yaml`);
      await writeFile(configFiles[side], stringify(configOf(side)));
    }
    // A's FailoverPolicy, in the default policy directory, before A starts.
    const policyDir = path.join(dataDir('a'), 'policies');
    await mkdir(policyDir, { recursive: true, mode: 0o700 });
    const policyFile = path.join(policyDir, 'payments-failover.yaml');
    await writeFile(policyFile, stringify(policyDocument(options)));

    await Promise.all([startBackend('b'), startBackend('c')]);
    const spawnOne = async (side: Side): Promise<void> => {
      gateways[side] = await spawnGateway(configFiles[side], { logFile: log(side) });
    };
    await Promise.all([spawnOne('a'), spawnOne('b'), spawnOne('c')]);

    // Peering through the admin API, as `causeway peer token` / `peer add` do (in-process:
    // four CLI processes would double the set-up time on a busy machine).
    const tokens = await Promise.all((['b', 'c'] as const).map(async (side) =>
      (await admin<{ token: string }>(side, 'POST', '/v1/peering/token', { ttlSeconds: 300 })).token));
    for (const token of tokens) await admin('a', 'POST', '/v1/peers', { token });
    const outbound = gateways.a!.listeners.outbound;
    const adminA = gateways.a!.listeners.admin;
    interface Services { services: Array<{ key: string; clusters: Record<string, { endpoints: unknown[] }> }> }
    await waitFor(`${SERVICE} from B and C in A's catalog`, async () => {
      const found = (await getJson<Services>(`http://${adminA}/v1/services`)).services.find((s) => s.key === SERVICE);
      return found !== undefined && [CLUSTERS.b, CLUSTERS.c].every((c) => (found.clusters[c]?.endpoints.length ?? 0) > 0) ? true : undefined;
    });
    await waitFor('a first answer from B through A', async () => ((await probeOnce(outbound)) === CLUSTERS.b ? true : undefined));

    return {
      gateways: gateways as Record<Side, GatewayProcess>, outbound, policyFile, configFiles,
      killBackend, startBackend,
      freezeGateway: (side) => void gateways[side]!.child.kill('SIGSTOP'),
      thawGateway: (side) => void gateways[side]!.child.kill('SIGCONT'),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
