// A peer that goes silent is reported stale — in /metrics, the status API and `causeway
// status` — within its heartbeat window, long before the link's watchdog gives up on it
// (issue 12, "Tests that must exist"). B is a real process frozen with SIGSTOP: its socket
// stays open, so nothing but the missing heartbeats can tell.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { spawnGateway, type GatewayProcess } from '../../gateway/index.js';
import { makeTempDir } from '../helpers/paths.js';
import { Exposition } from '../helpers/prometheus-text.js';
import { runCli } from '../helpers/run-cli.js';
import { getJson, waitFor } from '../helpers/wait-for.js';

const HEARTBEAT_MS = 200;
// Far past the test: the link must still be up (not merely down) while it is stale.
const DEAD_AFTER = '60s';
const EPHEMERAL = { admin: '127.0.0.1:0', outbound: '127.0.0.1:0', federation: '127.0.0.1:0', eastWest: '127.0.0.1:0', identity: '127.0.0.1:0' };

interface PeerView { name: string; state: string; stale: boolean; silentMs?: number }

describe('a silent peer is stale within its heartbeat window', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let a: GatewayProcess | undefined;
  let b: GatewayProcess | undefined;
  const files = { a: '', b: '' };

  const peerB = async (): Promise<PeerView | undefined> =>
    (await getJson<{ peers: PeerView[] }>(`http://${a!.listeners.admin}/v1/status`)).peers.find((p) => p.name === 'cluster-b');
  const staleMetric = async (): Promise<number> => (await Exposition.fetch(a!.listeners.admin)).sum('causeway_peer_stale', { peer: 'cluster-b' });

  before(async () => {
    tmp = await makeTempDir('peer-staleness');
    for (const side of ['a', 'b'] as const) {
      files[side] = path.join(tmp.dir, `${side}.yaml`);
      await writeFile(files[side], stringify({
        cluster: `cluster-${side}`, trustDomain: `cluster-${side}.causeway.test`, gatewayName: `gw-${side}`, dataDir: path.join(tmp.dir, side), listen: EPHEMERAL,
        limits: { federation: { heartbeatInterval: `${HEARTBEAT_MS}ms`, deadAfter: DEAD_AFTER } },
      }));
    }
    b = await spawnGateway(files.b, { logFile: path.join(tmp.dir, 'b.log') });
    a = await spawnGateway(files.a, { logFile: path.join(tmp.dir, 'a.log') });
    const token = await runCli(['peer', 'token', '--config', files.b]);
    assert.equal(token.code, 0, token.stderr);
    const added = await runCli(['peer', 'add', token.stdout.trim(), '--config', files.a]);
    assert.equal(added.code, 0, added.stderr);
    await waitFor('the link up', async () => ((await peerB())?.state === 'connected' ? true : undefined));
  });

  after(async () => {
    if (b !== undefined && b.child.exitCode === null) b.child.kill('SIGCONT');
    await Promise.all([a?.stop(), b?.stop()]);
    await tmp?.remove();
  });

  it('a live peer is never shown stale', async () => {
    // Ten reads over two seconds (ten heartbeat intervals): a false alarm would show.
    for (let i = 0; i < 10; i += 1) {
      const peer = await peerB();
      assert.equal(peer?.state, 'connected');
      assert.equal(peer?.stale, false, `stale while heartbeats flow: ${JSON.stringify(peer)}`);
      assert.equal(await staleMetric(), 0);
      await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS));
    }
  });

  it('a frozen peer is stale in status, metrics and the CLI while its link is still up, and fresh again once it thaws', async () => {
    const frozenAt = Date.now();
    b!.child.kill('SIGSTOP');
    const seen = await waitFor('A to report B stale', async () => {
      const peer = await peerB();
      return peer?.stale === true ? { peer, afterMs: Date.now() - frozenAt } : undefined;
    }, 20_000, 50);
    // Stale, not down: the watchdog (deadAfter 60 s) has not ended the link.
    assert.equal(seen.peer.state, 'connected');
    assert.ok((seen.peer.silentMs ?? 0) > 2 * HEARTBEAT_MS, `silent ${seen.peer.silentMs} ms`);
    assert.ok(seen.afterMs < 10_000, `stale only ${seen.afterMs} ms after the freeze`);
    const metrics = await Exposition.fetch(a!.listeners.admin);
    assert.equal(metrics.sum('causeway_peer_stale', { peer: 'cluster-b' }), 1);
    assert.equal(metrics.sum('causeway_peer_link_up', { peer: 'cluster-b' }), 1);
    assert.ok(metrics.sum('causeway_peer_silence_seconds', { peer: 'cluster-b' }) > (2 * HEARTBEAT_MS) / 1000);
    const status = await runCli(['status', '--config', files.a]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^peer +cluster-b +cluster-b +connected, STALE \(nothing received for \d+ ms\)/m, status.stdout);

    b!.child.kill('SIGCONT');
    await waitFor('A to hear from B again', async () => ((await peerB())?.stale === false && (await staleMetric()) === 0 ? true : undefined));
    const thawed = await runCli(['status', '--config', files.a]);
    assert.match(thawed.stdout, /^peer +cluster-b +cluster-b +connected, last heard \d+ ms ago/m, thawed.stdout);
  });
});
