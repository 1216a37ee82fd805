// Test fixture for data-plane retries: gateway A's outbound listener (with a PolicyEngine over
// a policy set the test sets) and two remote clusters, B (A's region) and C (another region of
// the same cloud), each with its own CA, a real east-west listener and backends that misbehave
// on purpose. A tries B before C whatever the random values. Real sockets on 127.0.0.1, real TLS.
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Catalog, type GatewayRecord, type Locality, type ServiceRecord } from '../../../../../registry/index.js';
import { CertificateAuthority, SvidRotator, TrustStore } from '../../../../../federation/index.js';
import type { AccessRule } from '../../../../../gateway/dataplane/access-rules.js';
import { EastWestServer } from '../../../../../gateway/dataplane/eastwest-server.js';
import { OutboundProxy } from '../../../../../gateway/dataplane/outbound-proxy.js';
import { OutlierTracker } from '../../../../../gateway/dataplane/outlier-tracker.js';
import { TunnelClient } from '../../../../../gateway/dataplane/tunnel-client.js';
import { PolicyEngine } from '../../../../../gateway/policy/policy-engine.js';
import type { CompiledFailover, PolicySet } from '../../../../../gateway/policy/policy-set.js';
import { policiesFrom } from '../../../../../gateway/policy/static-policies.js';
import { failover, policySet, type FailoverOverrides } from '../../policy/policy-builders.js';

export const CLIENT = 'spiffe://a.test/ns/demo/sa/client';

/**
 * - `ok`: 200 `from <cluster>`, keep-alive;
 * - `503`: 503 with the body `discarded answer from <cluster>`, keep-alive;
 * - `hold`: reads the request and never answers;
 * - `reset`: reads the request head and resets the connection (RST) without a byte of answer.
 */
export type Mode = 'ok' | '503' | 'hold' | 'reset';

export interface ScriptedBackend {
  readonly port: number;
  mode: Mode;
  /** TCP connections accepted. */
  accepted: number;
  /** Request lines, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startBackend(name: string, mode: Mode): Promise<ScriptedBackend> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    backend.accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    let bodyLeft = 0;
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (bodyLeft > 0) {
          const used = Math.min(bodyLeft, buffer.length);
          bodyLeft -= used;
          buffer = buffer.subarray(used);
          if (bodyLeft > 0) return;
        }
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.toString('latin1', 0, end);
        buffer = buffer.subarray(end + 4);
        backend.requests.push(head.split('\r\n')[0] ?? '');
        bodyLeft = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        const mode = backend.mode;
        if (mode === 'hold') continue;
        if (mode === 'reset') {
          socket.resetAndDestroy();
          return;
        }
        const body = mode === 'ok' ? `from ${name}` : `discarded answer from ${name}`;
        const status = mode === 'ok' ? '200 OK' : '503 Service Unavailable';
        socket.write(`HTTP/1.1 ${status}\r\nContent-Length: ${body.length}\r\nx-backend: ${name}\r\n\r\n${body}`);
      }
    });
  });
  const backend: ScriptedBackend = {
    port: 0, mode, accepted: 0, requests: [],
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    }),
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (backend as { port: number }).port = (server.address() as AddressInfo).port;
  return backend;
}

interface Side {
  cluster: string;
  trustDomain: string;
  locality: Locality;
  ca: CertificateAuthority;
  svid: SvidRotator;
  trust: TrustStore;
  catalog: Catalog;
}

async function makeSide(dir: string, cluster: string, locality: Omit<Locality, 'cluster'>): Promise<Side> {
  const trustDomain = `${cluster}.test`;
  const ca = await CertificateAuthority.loadOrCreate({ dir: path.join(dir, cluster), trustDomain });
  const svid = new SvidRotator({ ca, spiffeId: `spiffe://${trustDomain}/gateway/gw-${cluster}`, ttlSeconds: 3600 });
  const trust = new TrustStore();
  trust.set(ca.bundle());
  return { cluster, trustDomain, locality: { ...locality, cluster }, ca, svid, trust, catalog: new Catalog({ localCluster: cluster }) };
}

export interface Remote {
  side: Side;
  eastWest: EastWestServer;
  gateway: GatewayRecord;
}

/** One service of the test, published in the clusters it names, each with its own backend. */
export interface Published {
  key: string;
  /** `http://<key>:8080` */
  url: string;
  local: ScriptedBackend | undefined;
  b: ScriptedBackend | undefined;
  c: ScriptedBackend | undefined;
}

export interface RetryWorld {
  a: Side;
  b: Remote;
  c: Remote;
  proxy: OutboundProxy;
  proxyPort: number;
  outliers: OutlierTracker;
  /** Publishes `name.demo` with a backend in each cluster given (local = A's own cluster). */
  publish(name: string, modes: { local?: Mode; b?: Mode; c?: Mode }): Promise<Published>;
  /** The FailoverPolicy of a service in A's policy set (the set is read per request). */
  setFailover(service: string, overrides: FailoverOverrides): CompiledFailover;
  close(): Promise<void>;
}

let seq = 0;

function recordOf(origin: string, name: string, port: number): ServiceRecord {
  seq += 1;
  return {
    origin, name, namespace: 'demo', version: { origin, epoch: 1, seq }, deleted: false, exported: true,
    ports: [{ name: 'http', port: 8080, protocol: 'http' }],
    endpoints: [{
      address: '127.0.0.1', ports: { http: port }, locality: { cloud: 'local', region: `region-${origin}`, zone: 'z1', cluster: origin },
      kind: 'vm', identity: `spiffe://${origin}.test/ns/demo/sa/${name}`, health: 'healthy', weight: 1, labels: {},
    }],
  };
}

export interface RetryWorldOptions {
  /** A's connect timeout per candidate. Default 2000 ms. */
  connectTimeoutMs?: number;
}

export async function makeRetryWorld(options: RetryWorldOptions = {}): Promise<RetryWorld> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'causeway-retries-'));
  const a = await makeSide(tmp, 'a', { cloud: 'local', region: 'region-1', zone: 'z1' });
  const sideB = await makeSide(tmp, 'b', { cloud: 'local', region: 'region-1', zone: 'z2' });
  const sideC = await makeSide(tmp, 'c', { cloud: 'local', region: 'region-2', zone: 'z1' });
  for (const side of [a, sideB, sideC]) for (const other of [a, sideB, sideC]) if (side !== other) side.trust.set(other.ca.bundle());
  // Both remote gateways let A's workloads in.
  const rules: AccessRule[] = [{ to: '*', from: ['spiffe://a.test/*'] }];

  async function remote(side: Side): Promise<Remote> {
    const eastWest = new EastWestServer({
      svid: side.svid, trust: side.trust, catalog: side.catalog, localTrustDomain: side.trustDomain, access: () => rules,
      connectTimeoutMs: 2000, random: () => 0.5,
    });
    const bound = await eastWest.listen('127.0.0.1', 0);
    const gateway: GatewayRecord = {
      cluster: side.cluster, trustDomain: side.trustDomain, identity: side.svid.current().spiffeId,
      eastWestAddress: `127.0.0.1:${bound.port}`, locality: side.locality,
    };
    a.catalog.setGateway(gateway);
    return { side, eastWest, gateway };
  }
  const b = await remote(sideB);
  const c = await remote(sideC);

  const failovers = new Map<string, CompiledFailover>();
  let set: PolicySet = policySet();
  const outliers = new OutlierTracker();
  const engine = new PolicyEngine({
    catalog: a.catalog, policies: policiesFrom(() => set), localTrustDomain: a.trustDomain, locality: a.locality,
    outliers, random: () => 0.5,
  });
  const tunnels = new TunnelClient({ svid: a.svid, trust: a.trust, connectTimeoutMs: options.connectTimeoutMs ?? 2000 });
  const proxy = new OutboundProxy({
    catalog: a.catalog, tunnels, locality: a.locality, engine, outliers, callerIdentity: () => CLIENT,
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
  });
  const proxyPort = (await proxy.listen('127.0.0.1', 0)).port;
  const backends: ScriptedBackend[] = [];

  return {
    a, b, c, proxy, proxyPort, outliers,
    async publish(name, modes) {
      const published: Published = { key: `${name}.demo`, url: `http://${name}.demo:8080`, local: undefined, b: undefined, c: undefined };
      if (modes.local !== undefined) {
        published.local = await startBackend('a', modes.local);
        a.catalog.applyLocal(recordOf('a', name, published.local.port));
      }
      for (const [cluster, target] of [['b', b], ['c', c]] as const) {
        const mode = modes[cluster];
        if (mode === undefined) continue;
        const backend = await startBackend(cluster, mode);
        published[cluster] = backend;
        const record = recordOf(cluster, name, backend.port);
        target.side.catalog.applyLocal(record);
        a.catalog.applyRemote([record]);
      }
      for (const backend of [published.local, published.b, published.c]) if (backend !== undefined) backends.push(backend);
      return published;
    },
    setFailover(service, overrides) {
      const compiled = failover(service, overrides);
      failovers.set(service, compiled);
      set = policySet({ version: set.version + 1, failover: Object.fromEntries(failovers) });
      return compiled;
    },
    async close() {
      await proxy.close();
      engine.close();
      await tunnels.close();
      await b.eastWest.close(100);
      await c.eastWest.close(100);
      await Promise.all(backends.map((backend) => backend.close()));
      for (const side of [a, sideB, sideC]) side.svid.close();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

export interface RawAnswer {
  /** Every byte the caller received, as latin1. */
  raw: string;
  status: number;
  headers: Record<string, string>;
  body: string;
  ms: number;
}

/**
 * Sends one request on a fresh connection to the proxy (`Connection: close`, so the proxy
 * ends the connection after the answer) and returns every byte that came back.
 */
export function send(port: number, method: string, url: string, options: { body?: string; headers?: Record<string, string> } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no end of the answer within 15 s: ${Buffer.concat(chunks).toString('latin1')}`));
    }, 15_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      const end = raw.indexOf('\r\n\r\n');
      const lines = raw.slice(0, end < 0 ? raw.length : end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ raw, status: Number(lines[0]?.split(' ')[1] ?? 0), headers, body: end < 0 ? '' : raw.slice(end + 4), ms: performance.now() - started });
    });
    const host = new URL(url).host;
    const extra = Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    const body = options.body ?? '';
    const length = options.body === undefined ? '' : `Content-Length: ${Buffer.byteLength(body)}\r\n`;
    socket.write(`${method} ${url}/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${length}${extra}\r\n${body}`);
  });
}

/** Sends a request and leaves: after `afterMs`, an RST (`reset`) or a FIN and close (`close`). */
export function sendAndLeave(port: number, url: string, afterMs: number, how: 'reset' | 'close'): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.write(`GET ${url}/ HTTP/1.1\r\nHost: ${new URL(url).host}\r\n\r\n`);
    setTimeout(() => {
      if (how === 'reset') socket.resetAndDestroy();
      else socket.destroy();
      resolve(received);
    }, afterMs);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Relay {
  port: number;
  /** Stops relaying both ways and holds new connections without a byte: a frozen (SIGSTOP) gateway. */
  freeze(): void;
  close(): void;
}

/** A TCP relay to 127.0.0.1:`target` that can be frozen, for a gateway that stops answering. */
export async function startRelay(target: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  let frozen = false;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const server = createServer((client) => {
    track(client);
    if (frozen) {
      client.pause();
      return;
    }
    const upstream = connect(target, '127.0.0.1');
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    freeze() {
      frozen = true;
      for (const socket of sockets) {
        socket.unpipe();
        socket.pause();
      }
    },
    close() {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}
