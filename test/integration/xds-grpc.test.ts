// A real proxyless gRPC client (@grpc/grpc-js-xds) resolves a service through the xDS server of
// its gateway (issue 13): `xds:///grpcecho.demo:9000` balances over cluster-a's two endpoints
// (priority 0); when they turn unhealthy, the client moves to the next priority — its gateway's
// outbound listener, which carries each call to cluster-b's endpoints — without a restart.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { stringify } from 'yaml';
import { createLogger, silentLogger } from '../../registry/index.js';
import { Gateway, loadConfig } from '../../gateway/index.js';
import { makeTempDir } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait-for.js';

const identity = (b: Buffer): Buffer => b;
/** Raw-bytes messages: the path and framing are real gRPC, no .proto needed. */
const ECHO: grpc.ServiceDefinition = {
  unary: {
    path: '/test.Echo/Unary', requestStream: false, responseStream: false,
    requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity,
  },
};
interface EchoClient extends grpc.Client {
  unary(request: Buffer, callback: (err: grpc.ServiceError | null, reply?: Buffer) => void): grpc.ClientUnaryCall;
}
const EchoClient = grpc.makeGenericClientConstructor(ECHO, 'Echo') as unknown as new (target: string, creds: grpc.ChannelCredentials) => EchoClient;

const CALLER = 'spiffe://cluster-a.example.org/ns/demo/sa/client';
const EPHEMERAL = { eastWest: '127.0.0.1:0', federation: '127.0.0.1:0', outbound: '127.0.0.1:0', admin: '127.0.0.1:0', identity: '127.0.0.1:0' };

/** A gRPC backend answering with its name. */
async function backend(name: string, host: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = new grpc.Server();
  server.addService(ECHO, { unary: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => done(null, Buffer.from(name)) });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { port, close: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

describe('xDS: a grpc-js client resolves a federated service and fails over by priority', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  const backends: Array<Awaited<ReturnType<typeof backend>>> = [];
  let a: Gateway | undefined;
  let b: Gateway | undefined;
  let client: EchoClient | undefined;
  let fileA = '';
  let configA: (health: string) => Record<string, unknown>;

  const call = (): Promise<string> => new Promise((resolve, reject) => {
    client!.unary(Buffer.from('hi'), (err, reply) => (err ? reject(err) : resolve(reply!.toString())));
  });
  /** Who answered `n` calls in a row. */
  const answers = async (n: number): Promise<Set<string>> => {
    const seen = new Set<string>();
    for (let i = 0; i < n; i += 1) seen.add(await call());
    return seen;
  };

  before(async () => {
    tmp = await makeTempDir('xds-grpc');
    const [a1, a2, b1, b2] = await Promise.all([backend('a1', '127.0.0.2'), backend('a2', '127.0.0.3'), backend('b1', '127.0.0.1'), backend('b2', '127.0.0.1')]);
    backends.push(a1!, a2!, b1!, b2!);
    const port = (p: number): Record<string, number> => ({ grpc: p });
    const grpcecho = (endpoints: Array<Record<string, unknown>>): Record<string, unknown> => ({
      name: 'grpcecho', namespace: 'demo', export: true, ports: [{ name: 'grpc', port: 9000, protocol: 'grpc' }], endpoints,
    });
    configA = (health) => ({
      cluster: 'cluster-a', trustDomain: 'cluster-a.example.org', gatewayName: 'gw', dataDir: path.join(tmp.dir, 'a'), listen: EPHEMERAL,
      outbound: { identifyCallersBySourceAddress: true },
      xds: { listen: '127.0.0.1:0', plaintext: true },
      services: [
        { name: 'client', namespace: 'demo', ports: [{ name: 'http', port: 80 }], endpoints: [{ address: '127.0.0.1', ports: { http: 1 }, identity: CALLER, kind: 'vm' }] },
        grpcecho([
          { address: '127.0.0.2', ports: port(a1!.port), identity: 'spiffe://cluster-a.example.org/ns/demo/sa/grpcecho', kind: 'vm', health },
          { address: '127.0.0.3', ports: port(a2!.port), identity: 'spiffe://cluster-a.example.org/ns/demo/sa/grpcecho', kind: 'vm', health },
        ]),
      ],
      access: [{ to: 'grpcecho.demo', from: ['spiffe://cluster-a.example.org/ns/demo/*'] }],
    });
    fileA = path.join(tmp.dir, 'a.yaml');
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
    b = await Gateway.start(await loadConfig(fileB), { logger: silentLogger() });
    a = await Gateway.start(await loadConfig(fileA), { logger: process.env.XDS_TEST_LOG === undefined ? silentLogger() : createLogger({ level: 'debug' }), configFile: fileA });
    await a.peers.addPeer(await b.peers.createToken({ ttlSeconds: 600 }));
    await waitFor('cluster-b\'s grpcecho in A', () => (a!.catalog.resolve('grpcecho.demo')?.clusters.get('cluster-b')?.length === 2 ? true : undefined));
    // grpc-js-xds reads its bootstrap when the first xds: channel is made.
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
      xds_servers: [{ server_uri: a.listeners.xds, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: 'xds-grpc-test', locality: { zone: 'zone-a' } },
    });
    grpcXds.register();
    client = new EchoClient('xds:///grpcecho.demo:9000', grpc.credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    await a?.close();
    await b?.close();
    await Promise.all(backends.map((x) => x.close()));
    await tmp?.remove();
  });

  it('round-robins over the local cluster\'s endpoints (priority 0)', async () => {
    const seen = await waitFor('both local endpoints to answer', async () => {
      const got = await answers(10).catch(() => new Set<string>());
      return got.size === 2 ? got : undefined;
    });
    assert.deepEqual([...seen].sort(), ['a1', 'a2']);
    const clients = a!.xds!.clients();
    assert.equal(clients.length, 1);
    assert.equal(clients[0]?.identity, CALLER);
    // Every type the client asked for was acknowledged at the version sent.
    for (const type of clients[0]?.types ?? []) assert.equal(type.acked, type.sent?.version, JSON.stringify(type));
  });

  it('moves to the next priority — the gateway, and through it cluster-b — when the local endpoints turn unhealthy', async () => {
    await writeFile(fileA, stringify(configA('unhealthy')));
    await a!.reload();
    const seen = await waitFor('cluster-b to answer', async () => {
      const got = await answers(10).catch(() => new Set<string>());
      return [...got].every((n) => n.startsWith('b')) && got.size === 2 ? got : undefined;
    });
    assert.deepEqual([...seen].sort(), ['b1', 'b2']);
  });
});
