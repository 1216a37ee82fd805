// Two in-process gateways for the xDS client tests (issue 13), each client (grpc-js, Python's
// grpcio) resolving `xds:///grpcecho.demo:9000` through the same setup: A (cluster-a) serves
// xDS in plaintext and exports grpcecho with two local gRPC backends (127.0.0.2, 127.0.0.3);
// B (cluster-b, peered with A) serves it with two more (127.0.0.1). The caller is the
// workload A registers at 127.0.0.1 — plaintext xDS clients are known by their source address.
// Every backend answers a call with its name, so a test can see who answered.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { stringify } from 'yaml';
import { createLogger, silentLogger } from '../../registry/index.js';
import { Gateway, loadConfig } from '../../gateway/index.js';
import { makeTempDir } from './paths.js';
import { waitFor } from './wait-for.js';

/** The xDS target every client resolves. */
export const XDS_TARGET = 'xds:///grpcecho.demo:9000';
/** The workload A registers at 127.0.0.1: the identity of every plaintext xDS client of the tests. */
export const XDS_CALLER = 'spiffe://cluster-a.example.org/ns/demo/sa/client';

const identity = (b: Buffer): Buffer => b;
/** Raw-bytes messages: the path and framing are real gRPC, no .proto needed. */
export const ECHO: grpc.ServiceDefinition = {
  unary: {
    path: '/test.Echo/Unary', requestStream: false, responseStream: false,
    requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity,
  },
};

const EPHEMERAL = { eastWest: '127.0.0.1:0', federation: '127.0.0.1:0', outbound: '127.0.0.1:0', admin: '127.0.0.1:0', identity: '127.0.0.1:0' };

interface Backend { port: number; close(): Promise<void> }

/** A gRPC backend answering with its name. */
async function backend(name: string, host: string): Promise<Backend> {
  const server = new grpc.Server();
  server.addService(ECHO, { unary: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => done(null, Buffer.from(name)) });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { port, close: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

export interface XdsFederation {
  a: Gateway;
  b: Gateway;
  /** A's xDS listener, host:port. */
  xds: string;
  /** The temp dir (configs, data dirs); removed by close(). */
  dir: string;
  /** A bootstrap (gRFC A27) pointing at A's xDS listener: plaintext, xDS v3. */
  bootstrap(nodeId: string): Record<string, unknown>;
  /** Rewrites A's config file with its grpcecho endpoints at `health` and reloads A, as an operator would. */
  setLocalHealth(health: 'healthy' | 'unhealthy'): Promise<void>;
  /** Stops the gateways and backends, removes the temp dir. */
  close(): Promise<void>;
}

/** Starts the backends and both gateways, peers A with B and waits until A knows cluster-b's grpcecho. */
export async function startXdsFederation(prefix: string): Promise<XdsFederation> {
  const tmp = await makeTempDir(prefix);
  const backends: Backend[] = [];
  const gateways: Gateway[] = [];
  const close = async (): Promise<void> => {
    // A first: its clients lose their control plane before their fallback goes away.
    for (const g of gateways.splice(0).reverse()) await g.close();
    await Promise.all(backends.splice(0).map((x) => x.close()));
    await tmp.remove();
  };
  try {
    const [a1, a2, b1, b2] = await Promise.all([backend('a1', '127.0.0.2'), backend('a2', '127.0.0.3'), backend('b1', '127.0.0.1'), backend('b2', '127.0.0.1')]);
    backends.push(a1!, a2!, b1!, b2!);
    const port = (p: number): Record<string, number> => ({ grpc: p });
    const grpcecho = (endpoints: Array<Record<string, unknown>>): Record<string, unknown> => ({
      name: 'grpcecho', namespace: 'demo', export: true, ports: [{ name: 'grpc', port: 9000, protocol: 'grpc' }], endpoints,
    });
    const configA = (health: string): Record<string, unknown> => ({
      cluster: 'cluster-a', trustDomain: 'cluster-a.example.org', gatewayName: 'gw', dataDir: path.join(tmp.dir, 'a'), listen: EPHEMERAL,
      outbound: { identifyCallersBySourceAddress: true },
      xds: { listen: '127.0.0.1:0', plaintext: true },
      services: [
        { name: 'client', namespace: 'demo', ports: [{ name: 'http', port: 80 }], endpoints: [{ address: '127.0.0.1', ports: { http: 1 }, identity: XDS_CALLER, kind: 'vm' }] },
        grpcecho([
          { address: '127.0.0.2', ports: port(a1!.port), identity: 'spiffe://cluster-a.example.org/ns/demo/sa/grpcecho', kind: 'vm', health },
          { address: '127.0.0.3', ports: port(a2!.port), identity: 'spiffe://cluster-a.example.org/ns/demo/sa/grpcecho', kind: 'vm', health },
        ]),
      ],
      access: [{ to: 'grpcecho.demo', from: ['spiffe://cluster-a.example.org/ns/demo/*'] }],
    });
    const fileA = path.join(tmp.dir, 'a.yaml');
    await writeFile(fileA, stringify(configA('healthy')));
    const fileB = path.join(tmp.dir, 'b.yaml');
    await writeFile(fileB, stringify({
      cluster: 'cluster-b', trustDomain: 'cluster-b.example.org', gatewayName: 'gw', dataDir: path.join(tmp.dir, 'b'), listen: EPHEMERAL,
      services: [grpcecho([
        { address: '127.0.0.1', ports: port(b1!.port), identity: 'spiffe://cluster-b.example.org/ns/demo/sa/grpcecho', kind: 'vm' },
        { address: '127.0.0.1', ports: port(b2!.port), identity: 'spiffe://cluster-b.example.org/ns/demo/sa/grpcecho', kind: 'vm' },
      ])],
      access: [{ to: 'grpcecho.demo', from: ['spiffe://cluster-a.example.org/ns/demo/*'] }],
    }));
    const b = await Gateway.start(await loadConfig(fileB), { logger: silentLogger() });
    gateways.push(b);
    const a = await Gateway.start(await loadConfig(fileA), { logger: process.env.XDS_TEST_LOG === undefined ? silentLogger() : createLogger({ level: 'debug' }), configFile: fileA });
    gateways.push(a);
    await a.peers.addPeer(await b.peers.createToken({ ttlSeconds: 600 }));
    await waitFor('cluster-b\'s grpcecho in A', () => (a.catalog.resolve('grpcecho.demo')?.clusters.get('cluster-b')?.length === 2 ? true : undefined));
    const xds = a.listeners.xds;
    if (xds === undefined) throw new Error('gateway A has no xDS listener');
    return {
      a, b, xds, dir: tmp.dir, close,
      bootstrap: (nodeId) => ({
        xds_servers: [{ server_uri: xds, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
        node: { id: nodeId, locality: { zone: 'zone-a' } },
      }),
      setLocalHealth: async (health) => {
        await writeFile(fileA, stringify(configA(health)));
        await a.reload();
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
