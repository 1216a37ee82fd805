import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogThrottle } from '../../../../federation/trust/log-throttle.js';

describe('LogThrottle', () => {
  it('lets `limit` lines through per window and reports the held-back count when the next window opens', () => {
    let now = 0;
    const throttle = new LogThrottle(2, 1000, () => now);
    const reported: number[] = [];
    const allowed = Array.from({ length: 5 }, () => throttle.allow((n) => reported.push(n)));
    assert.deepEqual(allowed, [true, true, false, false, false]);
    assert.equal(reported.length, 0);
    now = 1000;
    assert.equal(throttle.allow((n) => reported.push(n)), true);
    assert.deepEqual(reported, [3]);
    now = 2500;
    throttle.allow((n) => reported.push(n));
    assert.deepEqual(reported, [3], 'nothing held back, nothing reported');
  });
});
