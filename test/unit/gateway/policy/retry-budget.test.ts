import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetryBudget } from '../../../../gateway/dataplane/retry-budget.js';
import type { CompiledRetries } from '../../../../gateway/policy/policy-set.js';
import { failover } from './policy-builders.js';

function retries(budgetPercent: number, minRetriesPerSecond: number): CompiledRetries {
  return failover('x', { retries: { budgetPercent, minRetriesPerSecond } }).retries;
}

/** How many retries the budget grants in a row, right now. */
function grants(budget: RetryBudget, service: string, policy: CompiledRetries, limit = 10_000): number {
  let granted = 0;
  while (granted < limit && budget.tryRetry(service, policy)) granted += 1;
  return granted;
}

describe('RetryBudget', () => {
  it('grants budgetPercent of the requests of the last second', () => {
    let now = 1_000_000;
    const budget = new RetryBudget(() => now);
    for (let i = 0; i < 200; i += 1) budget.noteRequest('payments.prod');
    assert.equal(grants(budget, 'payments.prod', retries(20, 0)), 40);
    // Spent: more requests earn more retries, 20% of them.
    for (let i = 0; i < 50; i += 1) budget.noteRequest('payments.prod');
    now += 100;
    assert.equal(grants(budget, 'payments.prod', retries(20, 0)), 10);
  });

  it('grants minRetriesPerSecond whatever the budget (a quiet service can still retry)', () => {
    const now = 1_000_000;
    const budget = new RetryBudget(() => now);
    assert.equal(grants(budget, 'quiet.prod', retries(20, 3)), 3, 'no request yet: the minimum');
    const other = new RetryBudget(() => now);
    for (let i = 0; i < 10; i += 1) other.noteRequest('quiet.prod');
    assert.equal(grants(other, 'quiet.prod', retries(20, 3)), 3, '20% of 10 is 2: the minimum of 3 wins');
    const busy = new RetryBudget(() => now);
    for (let i = 0; i < 100; i += 1) busy.noteRequest('quiet.prod');
    assert.equal(grants(busy, 'quiet.prod', retries(20, 3)), 20, 'the minimum is a floor, not added to the budget');
    assert.equal(grants(new RetryBudget(() => now), 'quiet.prod', retries(0, 0)), 0, 'budget 0 and minimum 0: no retries');
  });

  it('keeps one budget per service', () => {
    const budget = new RetryBudget(() => 5_000);
    for (let i = 0; i < 100; i += 1) budget.noteRequest('a.prod');
    assert.equal(grants(budget, 'a.prod', retries(10, 0)), 10);
    assert.equal(grants(budget, 'b.prod', retries(10, 0)), 0, 'b.prod had no request of its own');
  });

  it('slides: the previous second counts for the part of it the window still covers', () => {
    let now = 10_000;
    const budget = new RetryBudget(() => now);
    const policy = retries(10, 0);
    for (let i = 0; i < 100; i += 1) budget.noteRequest('s.prod');
    assert.equal(grants(budget, 's.prod', policy), 10);
    // Half-way into the next second: half of the last second's 100 requests and 10 retries
    // count. 50 requests earn 5 retries, 5 are still counted as used: none left.
    now = 11_500;
    assert.equal(grants(budget, 's.prod', policy), 0);
    // 100 new requests: 150 count, 15 allowed, 5 used.
    for (let i = 0; i < 100; i += 1) budget.noteRequest('s.prod');
    assert.equal(grants(budget, 's.prod', policy), 10);
    // Near the end of that second the old second has faded: (100 + 100 x 0.05) x 10% = 10.5
    // allowed, 10 + 10 x 0.05 = 10.5 used: none left.
    now = 11_950;
    assert.equal(grants(budget, 's.prod', policy), 0);
  });

  it('forgets everything after two quiet seconds', () => {
    let now = 10_000;
    const budget = new RetryBudget(() => now);
    const policy = retries(50, 0);
    for (let i = 0; i < 100; i += 1) budget.noteRequest('s.prod');
    assert.equal(grants(budget, 's.prod', policy), 50);
    now = 12_100;
    assert.equal(grants(budget, 's.prod', policy), 0, 'the old requests no longer earn retries');
    for (let i = 0; i < 10; i += 1) budget.noteRequest('s.prod');
    assert.equal(grants(budget, 's.prod', policy), 5, 'nor do the old retries count as used');
  });

  it('a storm: with every request failing, retries stay within the budget of each second', () => {
    let now = 0;
    const budget = new RetryBudget(() => now);
    const policy = retries(20, 10);
    let requests = 0;
    let retried = 0;
    // 1,000 requests a second for 5 seconds, each asking for a retry.
    for (let ms = 0; ms < 5000; ms += 1) {
      now = 100_000 + ms;
      budget.noteRequest('storm.prod');
      requests += 1;
      if (budget.tryRetry('storm.prod', policy)) retried += 1;
    }
    assert.equal(requests, 5000);
    assert.ok(retried >= 0.18 * requests && retried <= 0.21 * requests, `${retried} retries for ${requests} requests`);
  });
});
