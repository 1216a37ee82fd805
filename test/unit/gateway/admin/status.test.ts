import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endpointState, reachabilityOf } from '../../../../gateway/admin/status.js';

describe('status: reachability of a cluster', () => {
  const live = [{ ejected: false }];

  it('is local for the local cluster, whatever else holds', () => {
    assert.equal(reachabilityOf(true, undefined, []), 'local');
  });

  it('is unreachable while the peer link is not connected', () => {
    for (const link of ['connecting', 'disconnected', 'removed'] as const) assert.equal(reachabilityOf(false, link, live), 'unreachable', link);
    assert.equal(reachabilityOf(false, 'connected', live), 'reachable');
  });

  it('is unreachable without any gateway, ejected when every gateway is', () => {
    assert.equal(reachabilityOf(false, 'connected', []), 'unreachable');
    assert.equal(reachabilityOf(false, 'connected', [{ ejected: true }, { ejected: true }]), 'ejected');
    assert.equal(reachabilityOf(false, 'connected', [{ ejected: true }, { ejected: false }]), 'reachable');
    // Learned through another peer: no link of ours to judge by, only its gateways.
    assert.equal(reachabilityOf(false, undefined, [{ ejected: true }]), 'ejected');
  });

  it('is unreachable when every gateway is dead (no PING answer, cannot be dialed), ejected when each is dead or ejected', () => {
    assert.equal(reachabilityOf(false, 'connected', [{ ejected: false, condition: 'dead' }, { ejected: false, condition: 'dead' }]), 'unreachable');
    assert.equal(reachabilityOf(false, 'connected', [{ ejected: false, condition: 'dead' }, { ejected: true, condition: 'up' }]), 'ejected');
    assert.equal(reachabilityOf(false, 'connected', [{ ejected: false, condition: 'dead' }, { ejected: false, condition: 'up' }]), 'reachable');
  });

  it('shows stale health as such: an endpoint of an unreachable or ejected cluster is never healthy', () => {
    assert.equal(endpointState('healthy', 'unreachable'), 'unreachable');
    assert.equal(endpointState('healthy', 'ejected'), 'ejected');
    assert.equal(endpointState('healthy', 'reachable'), 'healthy');
    assert.equal(endpointState('unhealthy', 'local'), 'unhealthy');
  });
});
