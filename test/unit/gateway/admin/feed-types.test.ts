import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerStatus } from '../../../../federation/index.js';
import type { PeerView, TrafficView } from '../../../../gateway/admin/dashboard/feed-types.js';
import { TrafficWindow, type TrafficSnapshot } from '../../../../gateway/telemetry/traffic-window.js';

// The page declares its own view of the live feed (it is typechecked for the browser, apart from
// the server's code). These conversions compile only while the server's types still give the page
// every field it reads, with the types it expects: a rename on either side fails `tsc`.
const asTraffic = (snapshot: TrafficSnapshot): TrafficView => snapshot;
const asPeer = (peer: PeerStatus): PeerView => peer;

describe('the dashboard\'s view of the live feed', () => {
  it('is what the server\'s traffic window sends', () => {
    let now = 1_000_000;
    const window = new TrafficWindow({ localCluster: 'a', clusterOfGateway: () => undefined, now: () => now });
    window.observe({
      type: 'request',
      record: { at: new Date(now).toISOString(), service: 'echo.demo', port: 8080, cluster: 'b', status: 200, durationMs: 3, source: 'anonymous' },
    } as Parameters<TrafficWindow['observe']>[0]);
    now += 10;
    const view = asTraffic(window.snapshot());
    assert.deepEqual(view.edges.map((e) => [e.direction, e.from, e.to, e.service, e.requests]), [['outbound', 'a', 'b', 'echo.demo', 1]]);
    assert.equal(view.totals.requests, 1);
  });
});
