import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyseFailover, noneInFlightBefore, settledOn } from '../../helpers/failover-timeline.js';
import type { RequestRecord } from '../../helpers/open-loop-client.js';

// The failover test's verdicts and the benchmark's met / not met rest on this arithmetic, so
// it is checked on records written by hand: one request every 10 ms, B fails at 1000 ms and
// is restored at 3000 ms, observation ends at 5000 ms.

type Served = 'b' | 'c' | 'timeout' | '502';

function records(serve: (sentMs: number) => Served): RequestRecord[] {
  const out: RequestRecord[] = [];
  for (let sent = 0, seq = 0; sent < 5000; sent += 10, seq++) {
    const how = serve(sent);
    if (how === 'timeout') out.push({ seq, sentMs: sent, endMs: sent + 2000, outcome: 'timeout' });
    else if (how === '502') out.push({ seq, sentMs: sent, endMs: sent + 5, outcome: 'status', status: 502, code: 'CW_UPSTREAM_CONNECT' });
    else out.push({ seq, sentMs: sent, endMs: sent + 5, outcome: 'ok', status: 200, cluster: `cluster-${how}` });
  }
  return out;
}

const EVENT = { from: 'cluster-b', to: 'cluster-c', faultMs: 1000, restoreMs: 3000, endMs: 5000 };

describe('failover timeline', () => {
  it('a clean switch: nothing failed, moved at once, back at once', () => {
    const f = analyseFailover(records((t) => (t >= 1000 && t < 3000 ? 'c' : 'b')), EVENT);
    assert.deepEqual(
      [f.failedBefore, f.failedAtFault, f.lastFailedAfterFaultMs, f.firstOnOtherMs, f.movedAfterMs, f.failedAtRestore, f.failbackAfterMs],
      [0, 0, undefined, 0, 0, 0, 0],
    );
    assert.deepEqual(f.answeredDuringFault, { 'cluster-c': 200 });
  });

  it('counts a request in flight at the fault, and times the last failure by when it was sent', () => {
    // 990 ms: sent before the fault, times out after it. 1000–1190 ms: refused. 1500: one more.
    const f = analyseFailover(records((t) => (t === 990 || (t >= 1000 && t < 1200) || t === 1500 ? 'timeout'
      : t >= 1000 && t < 3000 ? 'c' : 'b')), EVENT);
    assert.equal(f.failedBefore, 0);
    assert.equal(f.failedAtFault, 1 + 20 + 1);
    assert.equal(f.lastFailedAfterFaultMs, 500);
    assert.equal(f.firstOnOtherMs, 200);
    assert.equal(f.otherAnsweringAtMs, 205);
    assert.equal(f.movedAfterMs, 510);
    assert.deepEqual(f.failureKinds, { timeout: 22 });
  });

  it('a request in flight at the fault that fails counts as 0 ms after it', () => {
    const f = analyseFailover(records((t) => (t === 990 ? 'timeout' : t >= 1000 && t < 3000 ? 'c' : 'b')), EVENT);
    assert.equal(f.lastFailedAfterFaultMs, 0);
  });

  it('never moved: traffic kept failing until the restore; failures after it count for the failback', () => {
    const f = analyseFailover(records((t) => (t >= 1000 && t < 3400 ? '502' : 'b')), EVENT);
    assert.equal(f.movedAfterMs, undefined);
    assert.equal(f.firstOnOtherMs, undefined);
    assert.equal(f.failedAtFault, 200);
    assert.equal(f.failedAtRestore, 40);
    assert.equal(f.failbackAfterMs, 400);
    assert.deepEqual(f.failureKinds, { 'status 502 CW_UPSTREAM_CONNECT': 240 });
  });

  it('a tail shorter than the stable window is not a move, nor a failback', () => {
    const f = analyseFailover(records((t) => (t >= 1000 && t < 2500 ? '502' : t >= 2500 && t < 4500 ? 'c' : 'b')), EVENT);
    assert.equal(f.movedAfterMs, undefined, 'only 500 ms on C before the restore');
    assert.equal(f.failbackAfterMs, undefined, 'only 500 ms back on B before the end');
  });

  it('failures that ended before the fault are the set-up\'s, not the fault\'s', () => {
    const f = analyseFailover(records((t) => (t < 100 ? '502' : t >= 1000 && t < 3000 ? 'c' : 'b')), EVENT);
    assert.equal(f.failedBefore, 10);
    assert.equal(f.failedAtFault, 0);
  });

  it('settledOn: a window of answers from one cluster, after a point, with nothing pending', () => {
    const all = records((t) => (t < 2000 ? 'b' : 'c'));
    assert.equal(settledOn(all, 'cluster-c', 2000, 1000, 3500), true);
    assert.equal(settledOn(all, 'cluster-c', 2000, 1000, 3100), false, 'the window reaches back before 2000 ms');
    assert.equal(settledOn(all, 'cluster-b', 0, 1000, 1500), true);
    const pending = all.map((r) => (r.sentMs === 3000 ? { ...r, outcome: undefined, endMs: undefined } : r));
    assert.equal(settledOn(pending, 'cluster-c', 2000, 1000, 3500), false);
    assert.equal(noneInFlightBefore(pending, 3000), true);
    assert.equal(noneInFlightBefore(pending, 3010), false);
  });
});
