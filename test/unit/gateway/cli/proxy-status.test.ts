import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { syncState } from '../../../../gateway/cli/proxy-status-command.js';

describe('causeway proxy-status: the sync state of one resource type', () => {
  const sent = { version: 'v2', nonce: '7', resources: 1, at: '' };
  it('says SYNCED when the latest was acknowledged (a version in state of the world, a nonce in incremental xDS)', () => {
    assert.equal(syncState({ typeUrl: 't', names: [], wildcard: false, sent, acked: 'v2' }), 'SYNCED');
    assert.equal(syncState({ typeUrl: 't', names: [], wildcard: false, sent, acked: '7' }), 'SYNCED');
  });
  it('says STALE while the latest is unacknowledged, NACKED once rejected, NOT SENT before anything went out', () => {
    assert.equal(syncState({ typeUrl: 't', names: [], wildcard: false, sent, acked: 'v1' }), 'STALE');
    assert.equal(syncState({ typeUrl: 't', names: [], wildcard: false, sent }), 'STALE');
    assert.equal(syncState({ typeUrl: 't', names: [], wildcard: false, sent, acked: 'v1', nacked: { version: 'v2', error: 'bad', at: '' } }), 'NACKED');
    assert.equal(syncState({ typeUrl: 't', names: ['x'], wildcard: false }), 'NOT SENT');
    assert.equal(syncState(undefined), '-');
  });
});
