// A second, independent xDS client (issue 13): Python's grpcio — gRPC's C-core, whose xDS
// client shares no code with grpc-js — resolves `xds:///grpcecho.demo:9000` through the
// gateway's xDS server from a bootstrap file, as a real child process: round robin over
// cluster-a's endpoints (priority 0), then, once they turn unhealthy, the gateway's outbound
// listener and through it cluster-b, with the same process and channel.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import type { AdsClientStatus } from '../../gateway/xds/ads-stream.js';
import { TYPE_URLS } from '../../gateway/xds/xds-protos.js';
import { FIXTURES } from '../helpers/paths.js';
import { XDS_CALLER, XDS_TARGET, startXdsFederation, type XdsFederation } from '../helpers/xds-federation.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Debian's interpreter: python3-grpcio (scripts/install-test-tools.sh installs it) goes into
 * its dist-packages, which a pyenv or venv `python3` earlier on PATH does not see.
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(FIXTURES, 'xds_echo_client.py');
const NODE_ID = 'xds-python-test';
/** One reply covers n calls of at most 5 s each in the script; this only catches a hung process. */
const REPLY_TIMEOUT_MS = 60_000;

/** The Python client process: one line in (how many calls), one JSON line out (who answered). */
class PythonClient {
  private readonly replies: AsyncIterator<string>;
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess, private readonly logFile: string) {
    this.replies = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    // 'error' without 'exit' when the process could not be started at all.
    this.exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    // A write to a process that has exited fails (EPIPE); answers() reports the exit itself.
    child.stdin!.on('error', () => undefined);
  }

  static start(bootstrapFile: string, logFile: string): PythonClient {
    const log = openSync(logFile, 'w');
    // XDS_TEST_LOG: the C-core's own trace of its xDS client and resolver (each request, ACK and NACK) in the log.
    const trace = process.env.XDS_TEST_LOG === undefined ? { GRPC_VERBOSITY: 'error' } : { GRPC_VERBOSITY: 'debug', GRPC_TRACE: 'xds_client,xds_resolver' };
    const child = spawn(PYTHON, [SCRIPT, XDS_TARGET], {
      // Only what the client needs: no GRPC_* of this process (grpc-js reads some of the same names).
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GRPC_XDS_BOOTSTRAP: bootstrapFile, ...trace },
      stdio: ['pipe', 'pipe', log],
    });
    closeSync(log);
    return new PythonClient(child, logFile);
  }

  /** Who answered `n` calls in a row; rejects with the client's error (or its log, when it died). */
  async answers(n: number): Promise<string[]> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`the Python client exited: ${this.logTail()}`);
    this.child.stdin!.write(`${n}\n`);
    let timer: NodeJS.Timeout | undefined;
    const line = await Promise.race([
      this.replies.next(),
      this.exited.then(() => {
        throw new Error(`the Python client exited: ${this.logTail()}`);
      }),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          // Killed: a late reply would otherwise answer the next question.
          this.child.kill('SIGKILL');
          reject(new Error(`no reply from the Python client within ${REPLY_TIMEOUT_MS} ms: ${this.logTail()}`));
        }, REPLY_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    if (line.done === true) throw new Error(`the Python client closed its output: ${this.logTail()}`);
    const reply = JSON.parse(line.value) as { answers?: string[]; error?: string };
    if (reply.answers === undefined) throw new Error(`the Python client's call failed: ${reply.error}`);
    return reply.answers;
  }

  /** End of input closes the channel and exits; a process that does not is killed. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  private logTail(): string {
    return readFileSync(this.logFile, 'utf8').slice(-2000) || '(nothing on stderr)';
  }
}

describe('xDS: Python\'s grpcio (C-core) resolves a federated service and fails over by priority', () => {
  let fed: XdsFederation | undefined;
  let client: PythonClient | undefined;

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
    client = PythonClient.start(bootstrap, path.join(fed.dir, 'python.log'));
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
