import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { makeTempDir } from '../../../helpers/paths.js';
import { waitFor } from '../../../helpers/wait-for.js';
import { startSide, stopSide, type Side } from './sides.js';

const REDEEM = '/causeway.federation.v1.Federation/Redeem';
const RESOURCE_EXHAUSTED = '8';

/** A TLS session to the federation port WITHOUT a client certificate: what anyone can open. */
function anonymousSession(side: Side): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(`https://${side.federation}`, {
      ca: [...side.ca.bundle().rootsPem], minVersion: 'TLSv1.3', checkServerIdentity: () => undefined, servername: side.trustDomain,
    });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

/**
 * Starts a Redeem call whose gRPC length prefix (gRPC over HTTP/2, "Length-Prefixed-Message")
 * announces `declared` bytes, then streams up to `send` bytes of it from one reused buffer, so
 * the client holds no more than a chunk. Resolves with the grpc-status the server ended with.
 */
function bigRedeem(session: ClientHttp2Session, declared: number, send: number): Promise<{ status: string; sent: number }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': REDEEM, 'content-type': 'application/grpc', te: 'trailers' });
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(declared, 1);
    const chunk = Buffer.alloc(64 * 1024, 0x0a);
    let sent = 0;
    let status: string | undefined;
    const pump = (): void => {
      while (status === undefined && sent < send && !stream.destroyed) {
        sent += chunk.length;
        if (!stream.write(chunk)) {
          stream.once('drain', pump);
          return;
        }
      }
    };
    const done = (headers: Record<string, unknown>): void => {
      const value = headers['grpc-status'];
      if (value !== undefined && status === undefined) {
        status = String(value);
        resolve({ status, sent });
        stream.close();
      }
    };
    stream.on('response', done);
    stream.on('trailers', done);
    stream.on('error', (err) => (status === undefined ? reject(err) : undefined));
    stream.on('close', () => (status === undefined ? reject(new Error(`stream closed without a grpc-status after ${sent} bytes`)) : undefined));
    stream.on('data', () => undefined);
    stream.write(prefix);
    pump();
  });
}

describe('federation listener limits', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let a: Side;
  let b: Side;

  before(async () => {
    tmp = await makeTempDir('fed-limits');
    // Short timeouts: the old listener's socket idle timer would have fired at 1 s here.
    const fast = { heartbeatMs: 100, deadAfterMs: 800, listener: { idleTimeoutMs: 1000 } };
    [a, b] = await Promise.all([startSide(tmp.dir, 'cluster-a', 'a.test', fast), startSide(tmp.dir, 'cluster-b', 'b.test', fast)]);
  });

  after(async () => {
    await Promise.all([stopSide(a), stopSide(b)]);
    await tmp?.remove();
  });

  it('refuses an anonymous caller\'s big message with RESOURCE_EXHAUSTED from its length prefix, memory bounded', async () => {
    const session = await anonymousSession(b);
    try {
      // One call announcing 32 MiB (below the 64 MiB Link limit that used to apply to it):
      // refused before the payload is read, not after buffering it.
      const one = await bigRedeem(session, 32 * 1024 * 1024, 32 * 1024 * 1024);
      assert.equal(one.status, RESOURCE_EXHAUSTED);
      assert.ok(one.sent <= 4 * 1024 * 1024, `refused only after ${one.sent} bytes`);

      // Many calls at once, each trying to send 8 MiB: the server's memory stays flat.
      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      const results = await Promise.all(Array.from({ length: 10 }, () => bigRedeem(session, 8 * 1024 * 1024, 8 * 1024 * 1024)));
      const grownMiB = (process.memoryUsage().rss - rssBefore) / (1024 * 1024);
      for (const r of results) assert.equal(r.status, RESOURCE_EXHAUSTED);
      assert.ok(grownMiB < 48, `RSS grew by ${grownMiB.toFixed(1)} MiB for 80 MiB offered`);
    } finally {
      session.close();
    }
  });

  it('keeps a link up for 3x the idle timeout with zero reconnects: heartbeats decide liveness', async () => {
    await a.peers.addPeer(await b.peers.createToken({ ttlSeconds: 60 }));
    const up = (side: Side, cluster: string) => side.peers.list().find((p) => p.cluster === cluster && p.state === 'connected');
    await waitFor('A linked', () => up(a, 'cluster-b'));
    await waitFor('B linked', () => up(b, 'cluster-a'));
    await new Promise((resolve) => setTimeout(resolve, 3200));
    const fromA = up(a, 'cluster-b');
    const fromB = up(b, 'cluster-a');
    assert.ok(fromA && fromB, 'both sides still connected');
    assert.equal(fromA.connects, 1, 'A never reconnected');
    assert.equal(fromB.connects, 1, 'B never accepted a second link');
    assert.ok(Date.now() - (fromA.lastContactMs ?? 0) < 800, 'heartbeats kept flowing');
  });
});
