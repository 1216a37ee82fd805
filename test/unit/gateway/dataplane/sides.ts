// Test fixture: two in-process "sides" (clusters) with their own CA, a TrustStore holding
// both bundles, and Catalogs filled directly (no peering): B runs the services, A knows B's
// exported records and B's gateway. Real sockets on 127.0.0.1, real TLS.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { ClientHttp2Stream } from 'node:http2';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Catalog, type Endpoint, type GatewayRecord, type Locality, type ServicePort, type ServiceRecord } from '../../../../registry/index.js';
import { CertificateAuthority, SvidRotator, TrustStore } from '../../../../federation/index.js';
import type { AccessRule } from '../../../../gateway/dataplane/access-rules.js';
import { EastWestServer, type EastWestServerOptions } from '../../../../gateway/dataplane/eastwest-server.js';

export interface Side {
  cluster: string;
  trustDomain: string;
  locality: Locality;
  ca: CertificateAuthority;
  svid: SvidRotator;
  trust: TrustStore;
  catalog: Catalog;
  /** Writes a record of this side's own cluster (local) with the next version. */
  putLocal(name: string, endpoints: Endpoint[], options?: { exported?: boolean; port?: number }): ServiceRecord;
}

export interface World {
  a: Side;
  b: Side;
  /** B's east-west listener; its access rules are `rulesB` (mutable). */
  eastWestB: EastWestServer;
  rulesB: AccessRule[];
  gatewayB: GatewayRecord;
  /** HTTP backend in B answering JSON {cluster, method, path, headers, body}. */
  httpPort: number;
  /** TCP backend in B: echoes bytes; on the client's FIN writes "bye" and ends. */
  echoPort: number;
  /** A port on 127.0.0.1 that nothing listens on. */
  deadPort: number;
  tmp: string;
  close(): Promise<void>;
}

let seq = 0;

export function endpointOf(port: number, overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    address: '127.0.0.1', ports: { http: port }, locality: { cloud: 'local', region: 'r', zone: 'z', cluster: 'x' },
    kind: 'vm', identity: 'spiffe://b.test/ns/demo/sa/echo', health: 'healthy', weight: 1, labels: {}, ...overrides,
  };
}

/** A record as the origin cluster would write it (for applyLocal on its own side, applyRemote elsewhere). */
export function recordOf(origin: string, name: string, endpoints: Endpoint[], options: { exported?: boolean; port?: number; protocol?: ServicePort['protocol'] } = {}): ServiceRecord {
  seq += 1;
  return {
    origin, name, namespace: 'demo', version: { origin, epoch: 1, seq }, deleted: false, exported: options.exported ?? true,
    // A tcp* service is a byte stream (CONNECT to an http port is served as HTTP).
    ports: [{ name: 'http', port: options.port ?? 8080, protocol: options.protocol ?? (name.startsWith('tcp') ? 'tcp' : 'http') }], endpoints,
  };
}

async function makeSide(dir: string, cluster: string, locality: Omit<Locality, 'cluster'>): Promise<Side> {
  const trustDomain = `${cluster}.test`;
  const ca = await CertificateAuthority.loadOrCreate({ dir: path.join(dir, cluster), trustDomain });
  const svid = new SvidRotator({ ca, spiffeId: `spiffe://${trustDomain}/gateway/gw-${cluster}`, ttlSeconds: 3600 });
  const trust = new TrustStore();
  trust.set(ca.bundle());
  const catalog = new Catalog({ localCluster: cluster });
  return {
    cluster, trustDomain, locality: { ...locality, cluster }, ca, svid, trust, catalog,
    putLocal(name, endpoints, options = {}) {
      const record = recordOf(cluster, name, endpoints, options);
      catalog.applyLocal(record);
      return record;
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Backend {
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:0; close() destroys open connections so it never waits on a test's leftovers. */
async function listenBackend(server: HttpServer | TcpServer): Promise<Backend> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    }),
  };
}

function startHttpBackend(cluster: string): Promise<Backend> {
  return listenBackend(createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = req.url?.startsWith('/status/') ? Number(req.url.slice(8)) : 200;
      res.writeHead(status, { 'content-type': 'application/json', connection: 'keep-alive, x-backend-hop', 'x-backend-hop': '1', 'x-backend': cluster });
      res.end(JSON.stringify({ cluster, method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
  }));
}

function startEchoBackend(): Promise<Backend> {
  return listenBackend(createTcpServer({ allowHalfOpen: true }, (socket) => {
    socket.on('data', (chunk) => socket.write(chunk));
    socket.on('end', () => socket.end('bye'));
    socket.on('error', () => socket.destroy());
  }));
}

export interface WorldOptions {
  /** Extra options for B's east-west listener (pool limits, timeouts). */
  eastWest?: Partial<EastWestServerOptions>;
}

export async function makeWorld(options: WorldOptions = {}): Promise<World> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'causeway-dataplane-'));
  const a = await makeSide(tmp, 'a', { cloud: 'local', region: 'region-a', zone: 'z1' });
  const b = await makeSide(tmp, 'b', { cloud: 'local', region: 'region-b', zone: 'z1' });
  a.trust.set(b.ca.bundle());
  b.trust.set(a.ca.bundle());

  const http = await startHttpBackend('b');
  const echo = await startEchoBackend();
  const httpPort = http.port;
  const echoPort = echo.port;
  const deadPort = await freePort();

  const rulesB: AccessRule[] = [];
  const eastWestB = new EastWestServer({
    svid: b.svid, trust: b.trust, catalog: b.catalog, localTrustDomain: b.trustDomain, access: () => rulesB,
    connectTimeoutMs: 2000, random: () => 0.5, ...options.eastWest,
  });
  const bound = await eastWestB.listen('127.0.0.1', 0);
  const gatewayB: GatewayRecord = {
    cluster: 'b', trustDomain: b.trustDomain, identity: b.svid.current().spiffeId,
    eastWestAddress: `127.0.0.1:${bound.port}`, locality: b.locality,
  };
  a.catalog.setGateway(gatewayB);

  return {
    a, b, eastWestB, rulesB, gatewayB, httpPort, echoPort, deadPort, tmp,
    async close() {
      await eastWestB.close(100);
      await http.close();
      await echo.close();
      a.svid.close();
      b.svid.close();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

/** Publishes a service of B into both catalogs (B's local record; A learns it as remote). */
export function publishInB(world: World, name: string, endpoints: Endpoint[], options: { exported?: boolean; port?: number; protocol?: ServicePort['protocol'] } = {}): void {
  const record = world.b.putLocal(name, endpoints, options);
  if (record.exported) world.a.catalog.applyRemote([record]);
}

/** Sends `text` through a tunnel to the TCP echo backend and reads until it ends the stream ("bye"). */
export function echoThrough(stream: ClientHttp2Stream, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    stream.on('data', (c: Buffer) => (seen += c.toString()));
    stream.once('end', () => resolve(seen));
    stream.once('error', reject);
    stream.end(text);
  });
}
