import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { workloadCallerRefusal } from '../../../gateway/caller-identity.js';

const peer = (spiffeId: string): { spiffeId: string; trustDomain: string; fingerprint: string } =>
  ({ spiffeId, trustDomain: new URL(spiffeId).host, fingerprint: '00' });

describe('who may call the outbound listener with a client certificate', () => {
  it('admits workloads of the local trust domain', () => {
    for (const id of ['spiffe://a.test/ns/demo/sa/client', 'spiffe://a.test/vm/host-1', 'spiffe://a.test/gateways/not-a-gateway']) {
      assert.equal(workloadCallerRefusal(peer(id), 'a.test'), undefined, id);
    }
  });

  it('refuses another trust domain, naming both', () => {
    assert.match(String(workloadCallerRefusal(peer('spiffe://b.test/ns/demo/sa/client'), 'a.test')), /trust domain b\.test; .* own trust domain a\.test only/);
  });

  it('refuses gateway identities: gateways speak for workloads, they are not callers', () => {
    for (const id of ['spiffe://a.test/gateway/gw-a', 'spiffe://a.test/gateway/other', 'spiffe://a.test/gateway']) {
      assert.match(String(workloadCallerRefusal(peer(id), 'a.test')), /is a gateway identity/, id);
    }
  });
});
