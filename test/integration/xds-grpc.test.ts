// A real proxyless gRPC client (@grpc/grpc-js-xds) resolves a service through the xDS server of
// its gateway (issue 13): `xds:///grpcecho.demo:9000` balances over cluster-a's two endpoints
// (priority 0); when they turn unhealthy, the client moves to the next priority — its gateway's
// outbound listener, which carries each call to cluster-b's endpoints — without a restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { ECHO, XDS_CALLER, XDS_TARGET, startXdsFederation, type XdsFederation } from '../helpers/xds-federation.js';
import { waitFor } from '../helpers/wait-for.js';

interface EchoClient extends grpc.Client {
  unary(request: Buffer, callback: (err: grpc.ServiceError | null, reply?: Buffer) => void): grpc.ClientUnaryCall;
}
const EchoClient = grpc.makeGenericClientConstructor(ECHO, 'Echo') as unknown as new (target: string, creds: grpc.ChannelCredentials) => EchoClient;

describe('xDS: a grpc-js client resolves a federated service and fails over by priority', () => {
  let fed: XdsFederation | undefined;
  let client: EchoClient | undefined;

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
    fed = await startXdsFederation('xds-grpc');
    // grpc-js-xds reads its bootstrap when the first xds: channel is made.
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify(fed.bootstrap('xds-grpc-test'));
    grpcXds.register();
    client = new EchoClient(XDS_TARGET, grpc.credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    await fed?.close();
  });

  it('round-robins over the local cluster\'s endpoints (priority 0)', async () => {
    const seen = await waitFor('both local endpoints to answer', async () => {
      const got = await answers(10).catch(() => new Set<string>());
      return got.size === 2 ? got : undefined;
    });
    assert.deepEqual([...seen].sort(), ['a1', 'a2']);
    const clients = fed!.a.xds!.clients();
    assert.equal(clients.length, 1);
    assert.equal(clients[0]?.identity, XDS_CALLER);
    // Every type the client asked for was acknowledged at the version sent.
    for (const type of clients[0]?.types ?? []) assert.equal(type.acked, type.sent?.version, JSON.stringify(type));
  });

  it('moves to the next priority — the gateway, and through it cluster-b — when the local endpoints turn unhealthy', async () => {
    await fed!.setLocalHealth('unhealthy');
    const seen = await waitFor('cluster-b to answer', async () => {
      const got = await answers(10).catch(() => new Set<string>());
      return [...got].every((n) => n.startsWith('b')) && got.size === 2 ? got : undefined;
    });
    assert.deepEqual([...seen].sort(), ['b1', 'b2']);
  });
});
