import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { AccessLog } from '../../../../gateway/telemetry/access-log.js';
import type { TelemetryEvent } from '../../../../gateway/telemetry/events.js';
import type { RequestRecord } from '../../../../gateway/dataplane/request-record.js';

function capture(sample: number, random?: () => number): { log: AccessLog; lines: () => Array<Record<string, unknown>> } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => { text += chunk.toString(); });
  const log = new AccessLog({ destination: stream, sample, localCluster: 'cluster-b', ...(random === undefined ? {} : { random }) });
  return { log, lines: () => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

function request(fields: Partial<RequestRecord>): TelemetryEvent {
  return {
    type: 'request',
    record: { at: '2026-01-01T00:00:00.000Z', method: 'GET', service: 'echo.demo', port: 8080, route: 'local 10.0.0.1:80', status: 200, durationMs: 3.14159, source: 'spiffe://a/ns/x/sa/y', ...fields },
  };
}

describe('access log', () => {
  it('writes one JSON line per request with who, what, where and how it ended', async () => {
    const { log, lines } = capture(1);
    log.observe(request({ cluster: 'cluster-b', endpoint: '10.0.0.1:80', failover: true, retries: 1, requestBytes: 80, responseBytes: 512 }));
    log.observe({ type: 'inbound', at: '2026-01-01T00:00:00.000Z', kind: 'tcp', source: 'anonymous', peer: 'spiffe://a/gateway/gw', service: 'db.demo', port: 5432, status: 403, code: 'CW_ACCESS_DENIED', rule: 'default', durationMs: 0.5 });
    log.observe({ type: 'tunnel.closed', direction: 'outbound', service: 'db.demo', port: 5432, source: 'anonymous', cluster: 'cluster-b', bytesSent: 10, bytesReceived: 20, durationMs: 1000 });
    log.observe({ type: 'peer.link', peer: 'b', cluster: 'b', state: 'connected' });
    await new Promise((resolve) => setImmediate(resolve));
    const [first, second, third, ...rest] = lines();
    assert.deepEqual(rest, [], 'peer events are not access-log lines');
    assert.deepEqual({ ...first, time: undefined }, {
      log: 'access', time: undefined, msg: 'request', direction: 'outbound', at: '2026-01-01T00:00:00.000Z', source: 'spiffe://a/ns/x/sa/y', method: 'GET',
      target: 'echo.demo:8080', cluster: 'cluster-b', endpoint: '10.0.0.1:80', route: 'local 10.0.0.1:80', status: 200, outcome: 'success',
      failover: true, retries: 1, requestBytes: 80, responseBytes: 512, durationMs: 3.1,
    });
    assert.equal(second?.rule, 'default');
    assert.equal(second?.outcome, 'denied');
    assert.equal(second?.cluster, 'cluster-b');
    assert.equal(third?.msg, 'tunnel closed');
    assert.equal(third?.bytesReceived, 20);
  });

  it('samples successes only: every failure and denial is kept', async () => {
    let n = 0;
    // Alternates below and above a 0.5 sample: half the successes are kept.
    const { log, lines } = capture(0.5, () => ((n += 1) % 2 === 0 ? 0.9 : 0.1));
    for (let i = 0; i < 10; i += 1) log.observe(request({}));
    for (let i = 0; i < 3; i += 1) log.observe(request({ status: 502, code: 'CW_UPSTREAM_CONNECT' }));
    for (let i = 0; i < 2; i += 1) log.observe(request({ status: 403, code: 'CW_ACCESS_DENIED' }));
    await new Promise((resolve) => setImmediate(resolve));
    const kept = lines();
    assert.equal(kept.filter((l) => l.outcome === 'success').length, 5);
    assert.equal(kept.filter((l) => l.outcome === 'error').length, 3);
    assert.equal(kept.filter((l) => l.outcome === 'denied').length, 2);
  });

  it('logs nothing at sample 0 but failures, and nothing at all once closed', async () => {
    const { log, lines } = capture(0);
    log.observe(request({}));
    log.observe(request({ status: 503, code: 'CW_NO_HEALTHY_ENDPOINT' }));
    await log.close();
    log.observe(request({ status: 503, code: 'CW_NO_HEALTHY_ENDPOINT' }));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(lines().map((l) => l.status), [503]);
  });
});
