// A real proxyless gRPC client (@grpc/grpc-js-xds) resolves a service through the xDS server of
// its gateway (issue 13): `xds:///grpcecho.demo:9000` balances over cluster-a's two endpoints
// (priority 0); when they turn unhealthy, the client moves to the next priority — its gateway's
// outbound listener, which carries each call to cluster-b's endpoints — without a restart. The
// client is its own process (test/fixtures/xds-echo-client.mjs says why), as an application is.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES } from '../helpers/paths.js';
import { XDS_CALLER, XDS_TARGET, startXdsFederation, type XdsFederation } from '../helpers/xds-federation.js';
import { XdsClientProcess } from '../helpers/xds-client-process.js';
import { waitFor } from '../helpers/wait-for.js';

const NODE_ID = 'xds-grpc-test';

describe('xDS: a grpc-js client resolves a federated service and fails over by priority', () => {
  let fed: XdsFederation | undefined;
  let client: XdsClientProcess | undefined;

  /** Who answered 10 calls, once exactly the answers of `expected` came. */
  const until = (what: string, expected: string[]): Promise<string[]> => waitFor(what, async () => {
    const got = [...new Set(await client!.answers(10))].sort();
    return got.join() === expected.join() ? got : undefined;
  }, 30_000);

  before(async () => {
    fed = await startXdsFederation('xds-grpc');
    const bootstrap = path.join(fed.dir, 'bootstrap.json');
    await writeFile(bootstrap, JSON.stringify(fed.bootstrap(NODE_ID)));
    const trace = process.env.XDS_TEST_LOG === undefined ? {} : { GRPC_VERBOSITY: 'DEBUG', GRPC_TRACE: 'xds_client,xds_resolver' };
    client = XdsClientProcess.start('grpc-js', process.execPath, [path.join(FIXTURES, 'xds-echo-client.mjs'), XDS_TARGET],
      { GRPC_XDS_BOOTSTRAP: bootstrap, ...trace }, path.join(fed.dir, 'grpc-js.log'));
  });

  after(async () => {
    await client?.close();
    await fed?.close();
  });

  it('round-robins over the local cluster\'s endpoints (priority 0)', async () => {
    assert.deepEqual(await until('both local endpoints to answer', ['a1', 'a2']), ['a1', 'a2']);
    const clients = fed!.a.xds!.clients().filter((c) => c.node === NODE_ID);
    assert.equal(clients.length, 1);
    assert.equal(clients[0]?.identity, XDS_CALLER);
    // Every type the client asked for was acknowledged at the version sent.
    for (const type of clients[0]?.types ?? []) assert.equal(type.acked, type.sent?.version, JSON.stringify(type));
  });

  it('moves to the next priority — the gateway, and through it cluster-b — when the local endpoints turn unhealthy', async () => {
    await fed!.setLocalHealth('unhealthy');
    assert.deepEqual(await until('cluster-b to answer', ['b1', 'b2']), ['b1', 'b2']);
  });
});
