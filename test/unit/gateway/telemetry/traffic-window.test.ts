import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventBus } from '../../../../registry/index.js';
import { TrafficWindow } from '../../../../gateway/telemetry/traffic-window.js';
import type { TelemetryEvent } from '../../../../gateway/telemetry/events.js';
import type { RequestRecord } from '../../../../gateway/dataplane/request-record.js';

function request(fields: Partial<RequestRecord>): TelemetryEvent {
  return {
    type: 'request',
    record: { at: new Date(0).toISOString(), method: 'GET', service: 'echo.demo', port: 8080, route: 'x', status: 200, durationMs: 10, source: 'anonymous', ...fields },
  };
}

describe('traffic window', () => {
  it('gives rate, success rate and p99 per edge over the window, and drops an edge idle for a whole window', () => {
    let now = 1_000_000;
    const window = new TrafficWindow({ localCluster: 'a', clusterOfGateway: () => 'b', windowSeconds: 10, now: () => now });
    for (let i = 0; i < 100; i += 1) window.observe(request({ cluster: 'b', durationMs: i + 1, status: i < 5 ? 503 : 200 }));
    window.observe({ type: 'inbound', at: '', kind: 'http', source: 'anonymous', peer: 'spiffe://b/gateway/gw', service: 'echo.demo', port: 8080, status: 200, durationMs: 2 });
    const snapshot = window.snapshot();
    const outbound = snapshot.edges.find((e) => e.direction === 'outbound');
    assert.deepEqual(outbound, { direction: 'outbound', from: 'a', to: 'b', service: 'echo.demo', rps: 10, successRate: 0.95, p99Ms: 99, requests: 100, errors: 5 });
    assert.deepEqual(snapshot.edges.find((e) => e.direction === 'inbound')?.from, 'b');
    assert.deepEqual(snapshot.totals, { requests: 101, errors: 5, denials: 0, failovers: 0 });
    now += 11_000;
    assert.deepEqual(window.snapshot().edges, []);
    assert.equal(window.snapshot().totals.requests, 101, 'totals are since start');
  });

  it('lists failovers, denials and ejections newest first, folding repeats within 5 s into one line', () => {
    const window = new TrafficWindow({ localCluster: 'a', clusterOfGateway: () => undefined });
    const at = (s: number): string => new Date(s * 1000).toISOString();
    window.observe(request({ at: at(0), cluster: 'b', failover: true }));
    window.observe(request({ at: at(1), cluster: 'b', failover: true }));
    window.observe(request({ at: at(2), status: 403, code: 'CW_ACCESS_DENIED', source: 'spiffe://a/ns/x/sa/y' }));
    window.observe({ type: 'outlier.ejected', at: at(3), gateway: 'spiffe://b/gateway/gw', cluster: 'b', service: 'echo.demo', port: 8080, ejections: 1, reason: '5 consecutive failures' });
    window.observe(request({ at: at(9), cluster: 'b', failover: true }));
    const recent = window.snapshot().recent;
    assert.deepEqual(recent.map((e) => [e.kind, e.count]), [['failover', 1], ['ejection', 1], ['denial', 1], ['failover', 2]]);
    assert.equal(window.snapshot().totals.failovers, 3);
    assert.equal(window.snapshot().totals.denials, 1);
  });

  it('keeps at most recentLimit notable events', () => {
    const window = new TrafficWindow({ localCluster: 'a', clusterOfGateway: () => undefined, recentLimit: 3 });
    for (let i = 0; i < 10; i += 1) window.observe(request({ service: `s${i}.demo`, status: 403, code: 'CW_ACCESS_DENIED' }));
    assert.deepEqual(window.snapshot().recent.map((e) => e.service), ['s9.demo:8080', 's8.demo:8080', 's7.demo:8080']);
  });
});

describe('event bus', () => {
  it('delivers to every subscriber in order; one that throws is reported and stops nothing', () => {
    const errors: unknown[] = [];
    const bus = new EventBus<number>((err) => errors.push(err));
    const seen: string[] = [];
    bus.subscribe((n) => seen.push(`a${n}`));
    const off = bus.subscribe(() => {
      throw new Error('broken subscriber');
    });
    bus.subscribe((n) => seen.push(`c${n}`));
    bus.publish(1);
    off();
    bus.publish(2);
    assert.deepEqual(seen, ['a1', 'c1', 'a2', 'c2']);
    assert.equal(errors.length, 1);
    assert.equal(bus.size, 2);
  });
});
