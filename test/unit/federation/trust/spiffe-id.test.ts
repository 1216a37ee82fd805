import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCausewayError } from '../../../../registry/index.js';
import { gatewaySpiffeId, isValidTrustDomain, matchSpiffePattern, parseSpiffeId } from '../../../../federation/index.js';

describe('SPIFFE IDs', () => {
  it('parses valid IDs', () => {
    assert.deepEqual(parseSpiffeId('spiffe://example.org/ns/prod/sa/pay'), { trustDomain: 'example.org', path: '/ns/prod/sa/pay', uri: 'spiffe://example.org/ns/prod/sa/pay' });
    assert.deepEqual(parseSpiffeId('spiffe://us-east-1.aws_x.example.org'), { trustDomain: 'us-east-1.aws_x.example.org', path: '', uri: 'spiffe://us-east-1.aws_x.example.org' });
    assert.equal(gatewaySpiffeId('a.test', 'gw-1'), 'spiffe://a.test/gateway/gw-1');
  });

  const rejected: Array<[string, RegExp]> = [
    ['', /empty/],
    ['http://example.org/x', /scheme/],
    ['SPIFFE://example.org/x', /scheme/],
    ['spiffe:///x', /trust domain is empty/],
    ['spiffe://Example.org/x', /lower-case/],
    ['spiffe://example.org:8443/x', /port/],
    ['spiffe://user@example.org/x', /userinfo/],
    ['spiffe://example.org/x?y=1', /query/],
    ['spiffe://example.org/x#f', /fragment/],
    ['spiffe://example.org/x/', /trailing/],
    ['spiffe://example.org//x', /empty path segment/],
    ['spiffe://example.org/./x', /"\." and "\.\."/],
    ['spiffe://example.org/a/../b', /"\." and "\.\."/],
    ['spiffe://example.org/a b', /characters outside/],
    [`spiffe://example.org/${'a'.repeat(2100)}`, /longer than 2048/],
  ];
  for (const [value, reason] of rejected) {
    it(`rejects ${JSON.stringify(value.slice(0, 40))}`, () => {
      assert.throws(() => parseSpiffeId(value), (err) => isCausewayError(err, 'CW_SPIFFE_ID_INVALID') && reason.test(err.message));
    });
  }

  it('validates trust domains', () => {
    assert.equal(isValidTrustDomain('cluster-a.causeway.test'), true);
    assert.equal(isValidTrustDomain(''), false);
    assert.equal(isValidTrustDomain('Upper.example'), false);
    assert.equal(isValidTrustDomain('a/b'), false);
  });

  it('matches exact IDs and /* patterns, never a bare prefix', () => {
    assert.equal(matchSpiffePattern('spiffe://a/ns/x/sa/y', 'spiffe://a/ns/x/sa/y'), true);
    assert.equal(matchSpiffePattern('spiffe://a/ns/x/*', 'spiffe://a/ns/x/sa/y'), true);
    assert.equal(matchSpiffePattern('spiffe://a/*', 'spiffe://a/gateway/g'), true);
    assert.equal(matchSpiffePattern('spiffe://a/ns/x/*', 'spiffe://a/ns/x'), false);
    assert.equal(matchSpiffePattern('spiffe://a/ns/x/*', 'spiffe://a/ns/xy/sa/y'), false);
    assert.equal(matchSpiffePattern('spiffe://a/*', 'spiffe://ab/ns/x'), false);
  });
});
