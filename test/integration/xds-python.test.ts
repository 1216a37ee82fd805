// A second, independent xDS client (issue 13): Python's grpcio — gRPC's C-core, whose xDS
// client shares no code with grpc-js — resolves `xds:///grpcecho.demo:9000` through the
// gateway's xDS server from a bootstrap file, as a real child process: round robin over
// cluster-a's endpoints (priority 0), then, once they turn unhealthy, the gateway's outbound
// listener and through it cluster-b, with the same process and channel.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AdsClientStatus } from '../../gateway/xds/ads-stream.js';
import { TYPE_URLS } from '../../gateway/xds/xds-protos.js';
import { FIXTURES } from '../helpers/paths.js';
import { XDS_CALLER, XDS_TARGET, startXdsFederation, type XdsFederation } from '../helpers/xds-federation.js';
import { waitFor } from '../helpers/wait-for.js';
import { XdsClientProcess } from '../helpers/xds-client-process.js';

/**
 * Debian's interpreter: python3-grpcio (scripts/install-test-tools.sh installs it) goes into
 * its dist-packages, which a pyenv or venv `python3` earlier on PATH does not see.
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(FIXTURES, 'xds_echo_client.py');
const NODE_ID = 'xds-python-test';

describe('xDS: Python\'s grpcio (C-core) resolves a federated service and fails over by priority', () => {
  let fed: XdsFederation | undefined;
  let client: XdsClientProcess | undefined;

  /** Who answered 10 calls, once both answers of `expected` came and nothing else did. */
  const until = (what: string, expected: string[]): Promise<string[]> => waitFor(what, async () => {
    const got = [...new Set(await client!.answers(10))].sort();
    return got.join() === expected.join() ? got : undefined;
  }, 30_000);

  /** The Python client's status on the gateway, by its node id (the bootstrap's). */
  const status = (): AdsClientStatus => {
    const clients = fed!.a.xds!.clients();
    const mine = clients.find((c) => c.node === NODE_ID);
    assert.ok(mine !== undefined, `no xDS client with node id ${NODE_ID}: ${JSON.stringify(clients)}`);
    return mine;
  };

  before(async () => {
    const probe = spawnSync(PYTHON, ['-c', 'import grpc'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(probe.status, 0, `${PYTHON} cannot import grpc (Debian package python3-grpcio; scripts/install-test-tools.sh installs it): ${probe.error?.message ?? probe.stderr}`);
    fed = await startXdsFederation('xds-python');
    const bootstrap = path.join(fed.dir, 'bootstrap.json');
    await writeFile(bootstrap, JSON.stringify(fed.bootstrap(NODE_ID)));
    // XDS_TEST_LOG: the C-core's own trace of its xDS client and resolver (each request, ACK and NACK) in the log.
    const trace = process.env.XDS_TEST_LOG === undefined ? { GRPC_VERBOSITY: 'error' } : { GRPC_VERBOSITY: 'debug', GRPC_TRACE: 'xds_client,xds_resolver' };
    client = XdsClientProcess.start('Python', PYTHON, [SCRIPT, XDS_TARGET], { GRPC_XDS_BOOTSTRAP: bootstrap, ...trace }, path.join(fed.dir, 'python.log'));
  });

  after(async () => {
    await client?.close();
    await fed?.close();
  });

  it('round-robins over the local cluster\'s endpoints (priority 0), every type ACKed at the version sent', async () => {
    assert.deepEqual(await until('both local endpoints to answer the Python client', ['a1', 'a2']), ['a1', 'a2']);
    const mine = status();
    assert.equal(mine.identity, XDS_CALLER);
    // LDS → RDS → CDS → EDS, each for the target's one name, each accepted as sent.
    assert.deepEqual(mine.types.map((t) => t.typeUrl).sort(), [TYPE_URLS.cluster, TYPE_URLS.endpoints, TYPE_URLS.listener, TYPE_URLS.route].sort());
    for (const type of mine.types) {
      assert.deepEqual(type.names, ['grpcecho.demo:9000'], JSON.stringify(type));
      assert.ok(type.sent !== undefined && type.sent.resources === 1, JSON.stringify(type));
      assert.equal(type.acked, type.sent.version, JSON.stringify(type));
      assert.equal(type.nacked, undefined, JSON.stringify(type));
    }
    assert.deepEqual(fed!.a.xds!.recentNacks(), []);
  });

  it('moves to the next priority — the gateway, and through it cluster-b — when the local endpoints turn unhealthy', async () => {
    const healthy = status().types.find((t) => t.typeUrl === TYPE_URLS.endpoints)?.acked;
    await fed!.setLocalHealth('unhealthy');
    assert.deepEqual(await until('cluster-b to answer the Python client', ['b1', 'b2']), ['b1', 'b2']);
    // The move came with a new load assignment, pushed on the same stream and ACKed.
    const endpoints = status().types.find((t) => t.typeUrl === TYPE_URLS.endpoints);
    assert.notEqual(endpoints?.acked, healthy, JSON.stringify(endpoints));
    assert.equal(endpoints?.acked, endpoints?.sent?.version, JSON.stringify(endpoints));
    assert.deepEqual(fed!.a.xds!.recentNacks(), []);
  });
});
