import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CausewayError, ErrorCodes, type ErrorCode } from '../../../../registry/index.js';
import { BootstrapPeerings, type BootstrapCredential, type BootstrapPeeringSpec, type PeerStatus } from '../../../../federation/peering/index.js';
import { waitFor } from '../../../helpers/wait-for.js';

const FAST = { initialMs: 10, maxMs: 40 };

function spec(name: string, expSeconds = Math.floor(Date.now() / 1000) + 600, id = 'a'.repeat(32)): BootstrapPeeringSpec {
  const credential: BootstrapCredential = { from: 'cluster-a', to: name, id, exp: expSeconds, secret: 'f'.repeat(64) };
  return { name, address: '10.0.0.2:15012', credential };
}

/**
 * A peer manager stand-in: each addBootstrapPeer answers with the next verdict of `script`
 * (an error code, or 'ok'); the last one repeats.
 */
class FakePeers {
  readonly calls: string[] = [];
  private readonly peered: PeerStatus[] = [];
  constructor(readonly script: Array<ErrorCode | 'ok'>, peered: string[] = []) {
    for (const name of peered) this.peered.push({ name, state: 'connected' } as PeerStatus);
  }

  addBootstrapPeer(credential: BootstrapCredential): Promise<PeerStatus> {
    this.calls.push(credential.to);
    const verdict = this.script[Math.min(this.calls.length - 1, this.script.length - 1)] ?? 'ok';
    if (verdict !== 'ok') return Promise.reject(new CausewayError(verdict, `verdict ${verdict}`));
    const status = { name: credential.to, state: 'connecting' } as PeerStatus;
    this.peered.push(status);
    return Promise.resolve(status);
  }

  list(): PeerStatus[] {
    return [...this.peered];
  }
}

describe('BootstrapPeerings: the background redemptions of peering.peers', () => {
  it('retries with backoff while the dialled gateway is unreachable, showing the last error, until it is done', async () => {
    const peers = new FakePeers([ErrorCodes.PEER_UNREACHABLE, ErrorCodes.BOOTSTRAP_DISABLED]);
    const runner = new BootstrapPeerings({ peers, backoff: FAST });
    runner.update([spec('cluster-b')]);
    // update() only schedules; the first attempt is under way, not awaited.
    const first = runner.status()[0];
    assert.equal(first?.state, 'pending');
    assert.equal(first?.attempts, 1);
    // A gateway without its key yet is retried too (it may be about to get one).
    const pending = await waitFor('failed attempts shown', () => {
      const s = runner.status()[0];
      return s !== undefined && s.attempts >= 3 && s.lastErrorCode !== undefined ? s : undefined;
    });
    assert.equal(pending.state, 'pending');
    assert.equal(pending.lastErrorCode, ErrorCodes.BOOTSTRAP_DISABLED);
    assert.equal(pending.lastError, 'verdict CW_BOOTSTRAP_DISABLED');
    assert.ok(pending.nextAttemptAt !== undefined);
    peers.script.push('ok');
    const done = await waitFor('done', () => (runner.status()[0]?.state === 'done' ? runner.status()[0] : undefined));
    assert.ok(done.attempts >= 3);
    assert.equal(done.lastError, undefined);
    assert.ok(peers.calls.every((n) => n === 'cluster-b'));
    await runner.close();
  });

  it('gives up for good on a used, altered or misdirected credential, with the reason', async () => {
    for (const code of [ErrorCodes.TOKEN_USED, ErrorCodes.TOKEN_TAMPERED, ErrorCodes.TOKEN_WRONG_PEER, ErrorCodes.TOKEN_EXPIRED]) {
      const peers = new FakePeers([code]);
      const runner = new BootstrapPeerings({ peers, backoff: FAST });
      runner.update([spec('cluster-b')]);
      const failed = await waitFor(`failed on ${code}`, () => (runner.status()[0]?.state === 'failed' ? runner.status()[0] : undefined));
      assert.equal(failed.lastErrorCode, code);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(peers.calls.length, 1, 'no retry after a final verdict');
      await runner.close();
    }
  });

  it('stops at the credential\'s expiry, and never tries an expired one', async () => {
    const peers = new FakePeers([ErrorCodes.PEER_UNREACHABLE]);
    const runner = new BootstrapPeerings({ peers, backoff: { initialMs: 50, maxMs: 200 } });
    runner.update([spec('cluster-b', Math.floor(Date.now() / 1000) + 1), spec('cluster-c', Math.floor(Date.now() / 1000) - 1)]);
    const expired = runner.status().find((s) => s.name === 'cluster-c');
    assert.equal(expired?.state, 'failed');
    assert.equal(expired?.lastErrorCode, ErrorCodes.TOKEN_EXPIRED);
    const b = await waitFor('cluster-b given up at expiry', () => {
      const s = runner.status().find((e) => e.name === 'cluster-b');
      return s?.state === 'failed' ? s : undefined;
    }, 5000);
    assert.equal(b.lastErrorCode, ErrorCodes.TOKEN_EXPIRED);
    assert.match(b.lastError ?? '', /expired at .* before a redemption succeeded/);
    assert.ok(peers.calls.every((name) => name === 'cluster-b'));
    await runner.close();
  });

  it('is done at once for a peer already known by that name (a restart spends nothing)', async () => {
    const peers = new FakePeers(['ok'], ['cluster-b']);
    const runner = new BootstrapPeerings({ peers, backoff: FAST });
    runner.update([spec('cluster-b')]);
    assert.equal(runner.status()[0]?.state, 'done');
    assert.equal(runner.status()[0]?.attempts, 0);
    assert.deepEqual(peers.calls, []);
    await runner.close();
  });

  it('follows reloads: a dropped entry stops retrying, a new credential starts over; close() leaves no timer', async () => {
    const peers = new FakePeers([ErrorCodes.PEER_UNREACHABLE]);
    const runner = new BootstrapPeerings({ peers, backoff: FAST });
    runner.update([spec('cluster-b'), spec('cluster-c')]);
    await waitFor('both retried', () => (peers.calls.filter((n) => n === 'cluster-c').length >= 2 ? true : undefined));
    runner.update([spec('cluster-b', undefined, 'b'.repeat(32))]);
    assert.deepEqual(runner.status().map((s) => [s.name, s.credentialId, s.attempts]), [['cluster-b', 'b'.repeat(32), 1]]);
    const callsOfC = peers.calls.filter((n) => n === 'cluster-c').length;
    await runner.close();
    const total = peers.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(peers.calls.length, total, 'no attempt after close()');
    assert.equal(peers.calls.filter((n) => n === 'cluster-c').length, callsOfC);
    assert.equal(runner.status()[0]?.nextAttemptAt, undefined);
    assert.throws(() => runner.update([]), /closed/);
  });
});
