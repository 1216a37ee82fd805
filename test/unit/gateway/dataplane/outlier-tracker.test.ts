import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutlierTracker, gatewayKey } from '../../../../gateway/dataplane/outlier-tracker.js';

function tracker(): { outliers: OutlierTracker; advance: (ms: number) => void } {
  let now = 1_000_000;
  return { outliers: new OutlierTracker({ now: () => now }), advance: (ms) => (now += ms) };
}

describe('OutlierTracker', () => {
  it('ejects a gateway after 3 consecutive failures, not before', () => {
    const { outliers } = tracker();
    outliers.recordFailure('gw');
    outliers.recordFailure('gw');
    assert.equal(outliers.isEjected('gw'), false);
    outliers.recordFailure('gw');
    assert.equal(outliers.isEjected('gw'), true);
    assert.equal(outliers.isEjected('other'), false);
  });

  it('a success resets the count of consecutive failures', () => {
    const { outliers } = tracker();
    outliers.recordFailure('gw');
    outliers.recordFailure('gw');
    outliers.recordSuccess('gw');
    outliers.recordFailure('gw');
    outliers.recordFailure('gw');
    assert.equal(outliers.isEjected('gw'), false);
  });

  it('ejects for 10 s, then 20 s on the next ejection, capped at 5 min', () => {
    const { outliers, advance } = tracker();
    const eject = (): void => { for (let i = 0; i < 3; i++) outliers.recordFailure('gw'); };
    const expected = [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000];
    for (const duration of expected) {
      eject();
      advance(duration - 1);
      assert.equal(outliers.isEjected('gw'), true, `still ejected just before ${duration} ms`);
      advance(1);
      assert.equal(outliers.isEjected('gw'), false, `back after ${duration} ms`);
    }
  });

  it('failures reported while ejected do not stretch the ejection', () => {
    const { outliers, advance } = tracker();
    for (let i = 0; i < 3; i++) outliers.recordFailure('gw');
    advance(5_000);
    for (let i = 0; i < 10; i++) outliers.recordFailure('gw');
    advance(5_000);
    assert.equal(outliers.isEjected('gw'), false);
    assert.equal(outliers.snapshot()[0]?.ejections, 1);
  });

  it('after a success the next ejection is back to the base time', () => {
    const { outliers, advance } = tracker();
    for (let i = 0; i < 3; i++) outliers.recordFailure('gw');
    advance(10_000);
    outliers.recordSuccess('gw');
    assert.deepEqual(outliers.snapshot(), []);
    for (let i = 0; i < 3; i++) outliers.recordFailure('gw');
    advance(10_000);
    assert.equal(outliers.isEjected('gw'), false);
  });

  it('honours configured thresholds and refuses nonsense ones', () => {
    let now = 0;
    const outliers = new OutlierTracker({ consecutiveFailures: 1, baseEjectionMs: 100, maxEjectionMs: 100, now: () => new Date(now) });
    outliers.recordFailure('gw');
    assert.equal(outliers.isEjected('gw'), true);
    now = 100;
    assert.equal(outliers.isEjected('gw'), false);
    assert.throws(() => new OutlierTracker({ consecutiveFailures: 0 }), RangeError);
    assert.throws(() => new OutlierTracker({ baseEjectionMs: 1000, maxEjectionMs: 10 }), RangeError);
  });

  it('keys gateways by identity and address', () => {
    assert.equal(gatewayKey({ identity: 'spiffe://b/gateway/gw', eastWestAddress: '10.0.0.1:15443' }), 'spiffe://b/gateway/gw@10.0.0.1:15443');
  });
});
