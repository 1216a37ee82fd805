import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCausewayError } from '../../../../registry/index.js';
import { RateLimiter } from '../../../../federation/index.js';

describe('RateLimiter', () => {
  it('allows a burst, then the sustained rate, per client', () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 2, burst: 3 }, { now: () => now });
    for (let i = 0; i < 3; i++) limiter.take('10.0.0.1');
    assert.throws(() => limiter.take('10.0.0.1'), (err) => isCausewayError(err, 'CW_RATE_LIMITED') && err.details[0] === 'retryAfterSeconds=1');
    limiter.take('10.0.0.2'); // another client has its own bucket
    now += 500; // one token back at 2/s
    limiter.take('10.0.0.1');
    assert.throws(() => limiter.take('10.0.0.1'), (err) => isCausewayError(err, 'CW_RATE_LIMITED'));
  });

  it('bounds its memory: the least recently seen client is forgotten first', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 }, { now: () => 0, maxClients: 2 });
    limiter.take('a');
    limiter.take('b');
    limiter.take('c'); // evicts a
    limiter.take('a'); // a starts again with a full bucket
    assert.throws(() => limiter.take('c'), (err) => isCausewayError(err, 'CW_RATE_LIMITED'));
  });

  it('refuses a nonsensical limit', () => {
    assert.throws(() => new RateLimiter({ perSecond: 0, burst: 1 }), (err) => isCausewayError(err, 'CW_USAGE'));
  });
});
