import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayMetrics } from '../../../../gateway/telemetry/metrics.js';
import type { TelemetryEvent } from '../../../../gateway/telemetry/events.js';
import type { RequestRecord } from '../../../../gateway/dataplane/request-record.js';
import { Exposition } from '../../../helpers/prometheus-text.js';

function metrics(caps: { identities?: number; services?: number } = {}): GatewayMetrics {
  return new GatewayMetrics({
    localCluster: 'cluster-a', clusterOfGateway: (id) => (id.includes('cluster-b') ? 'cluster-b' : undefined),
    maxSourceIdentities: caps.identities ?? 100, maxServices: caps.services ?? 1000, processMetrics: false,
  });
}

function request(fields: Partial<RequestRecord>): TelemetryEvent {
  return {
    type: 'request',
    record: { at: new Date().toISOString(), method: 'GET', service: 'echo.demo', port: 8080, route: 'x', status: 200, durationMs: 3, source: 'anonymous', ...fields },
  };
}

describe('gateway metrics', () => {
  it('bounds the source identity label: 10,000 distinct callers give at most cap + 1 series, and every request is counted', async () => {
    const cap = 50;
    const m = metrics({ identities: cap });
    for (let i = 0; i < 10_000; i += 1) m.observe(request({ source: `spiffe://td-${i % 97}.example.org/ns/n${i}/sa/caller-${i}`, cluster: 'cluster-b' }));
    const e = new Exposition((await m.exposition()).body);
    const identities = new Set(e.samples('causeway_requests_total').map((s) => s.labels?.source_identity));
    assert.equal(identities.size, cap + 1);
    assert.ok(identities.has('other'));
    assert.equal(e.sum('causeway_requests_total'), 10_000);
    assert.equal(e.sum('causeway_requests_total', { source_identity: 'other' }), 10_000 - cap);
    // A full cap does not swallow anonymous callers.
    m.observe(request({ source: 'anonymous', cluster: 'cluster-b' }));
    const after = new Exposition((await m.exposition()).body);
    assert.equal(after.sum('causeway_requests_total', { source_identity: 'anonymous' }), 1);
  });

  it('never makes a label of a name the caller invented, and caps destination services', async () => {
    const m = metrics({ services: 3 });
    for (let i = 0; i < 20; i += 1) m.observe(request({ service: `made-up-${i}.nowhere`, status: 502, code: 'CW_SERVICE_UNKNOWN' }));
    for (let i = 0; i < 10; i += 1) m.observe(request({ service: `svc-${i}.demo` }));
    const e = new Exposition((await m.exposition()).body);
    const services = [...new Set(e.samples('causeway_requests_total').map((s) => s.labels?.destination_service))].sort();
    assert.deepEqual(services, ['other', 'svc-0.demo', 'svc-1.demo', 'svc-2.demo', 'unknown']);
    // The caller's doing: a client error, whatever status the gateway answered it with.
    assert.equal(e.sum('causeway_requests_total', { destination_service: 'unknown', outcome: 'client_error', code: '502' }), 20);
    assert.equal(e.sum('causeway_requests_total', { destination_service: 'other' }), 7);
  });

  it('counts tunnels as connections and HTTP carried inside CONNECT by its requests', async () => {
    const m = metrics();
    m.observe(request({ method: 'CONNECT', route: 'remote cluster-b via gw -> 10.0.0.1:5432', cluster: 'cluster-b' }));
    m.observe(request({ method: 'CONNECT', route: 'http inside CONNECT' }));
    m.observe(request({ method: 'CONNECT', route: undefined, status: 403, code: 'CW_ACCESS_DENIED' }));
    m.observe({ type: 'tunnel.closed', direction: 'outbound', service: 'echo.demo', port: 8080, source: 'anonymous', bytesSent: 100, bytesReceived: 2000, durationMs: 5 });
    const e = new Exposition((await m.exposition()).body);
    assert.equal(e.sum('causeway_connections_total', { outcome: 'success', destination_cluster: 'cluster-b' }), 1);
    assert.equal(e.sum('causeway_connections_total', { outcome: 'denied' }), 1);
    assert.equal(e.sum('causeway_connections_total'), 2);
    assert.equal(e.sum('causeway_requests_total'), 0);
    assert.equal(e.sum('causeway_sent_bytes_total', { protocol: 'tcp' }), 100);
    assert.equal(e.sum('causeway_received_bytes_total', { protocol: 'tcp' }), 2000);
    // One tunnel opened (the refused one and the HTTP one are not tunnels), then closed.
    assert.equal(m.openOutboundTunnels, 0);
  });

  it('counts failovers, retries, denials by rule, ejections, replication lag and peer messages', async () => {
    const m = metrics();
    m.observe(request({ cluster: 'cluster-b', failover: true, retries: 2 }));
    m.observe({ type: 'inbound', at: '', kind: 'http', source: 'spiffe://cluster-b.example.org/ns/x/sa/y', peer: 'spiffe://cluster-b.example.org/gateway/gw', service: 'echo.demo', port: 8080, status: 403, code: 'CW_ACCESS_DENIED', rule: 'deny-x rules[0]', durationMs: 1 });
    m.observe({ type: 'outlier.ejected', at: '', gateway: 'spiffe://cluster-b.example.org/gateway/gw', cluster: 'cluster-b', service: 'echo.demo', port: 8080, ejections: 1, reason: '5xx' });
    m.observe({ type: 'peer.records', peer: 'b', cluster: 'cluster-b', kind: 'delta', records: 3, accepted: true, lagMs: 40 });
    m.observe({ type: 'peer.records', peer: 'b', cluster: 'cluster-b', kind: 'delta', records: 1, accepted: false });
    m.observe({ type: 'peer.link', peer: 'b', cluster: 'cluster-b', state: 'disconnected', error: 'gone' });
    m.observe({ type: 'policy.refused', source: 'directory', problems: 2 });
    const e = new Exposition((await m.exposition()).body);
    assert.equal(e.sum('causeway_failovers_total', { destination_cluster: 'cluster-b' }), 1);
    assert.equal(e.sum('causeway_retries_total'), 2);
    assert.equal(e.sum('causeway_access_denials_total', { rule: 'deny-x rules[0]' }), 1);
    assert.equal(e.sum('causeway_requests_total', { direction: 'inbound', source_cluster: 'cluster-b', outcome: 'denied', source_identity: 'cluster-b.example.org/ns/x/sa/y' }), 1);
    assert.equal(e.sum('causeway_outlier_ejections_total', { destination_cluster: 'cluster-b' }), 1);
    assert.equal(e.sum('causeway_peer_messages_received_total', { result: 'accepted' }), 1);
    assert.equal(e.sum('causeway_peer_messages_received_total', { result: 'rejected' }), 1);
    assert.equal(e.sum('causeway_peer_link_changes_total', { state: 'disconnected' }), 1);
    assert.equal(e.sum('causeway_policy_refusals_total', { source: 'directory' }), 1);
    assert.match(e.text, /^causeway_replication_lag_seconds_count\{peer="b"\} 1$/m);
    assert.match(e.text, /^causeway_replication_lag_seconds_bucket\{le="0\.05",peer="b"\} 1$/m);
    assert.match(e.text, /^causeway_replication_lag_seconds_bucket\{le="0\.025",peer="b"\} 0$/m);
  });

  it('counts source pushes and start failures, CA changes and SVID renewals', async () => {
    const m = metrics();
    for (let i = 0; i < 3; i += 1) m.observe({ type: 'source.update', source: 'k8s', kind: 'kubernetes' });
    m.observe({ type: 'source.synced', source: 'k8s', kind: 'kubernetes', services: 3 });
    m.observe({ type: 'source.error', source: 'dc1', kind: 'consul', reason: 'refused' });
    m.observe({ type: 'ca.changed', trustDomain: 'a.example.org', change: 'bundle', sequence: 2 });
    m.observe({ type: 'ca.changed', trustDomain: 'a.example.org', change: 'activated', sequence: 2 });
    m.observe({ type: 'svid.rotated', spiffeId: 'spiffe://a.example.org/gateway/gw', notAfter: '' });
    m.observe({ type: 'svid.renewal-failed', spiffeId: 'spiffe://a.example.org/gateway/gw', reason: 'expired authority' });
    const e = new Exposition((await m.exposition()).body);
    assert.equal(e.sum('causeway_source_updates_total', { source: 'k8s', kind: 'kubernetes' }), 3);
    assert.equal(e.sum('causeway_source_errors_total', { source: 'dc1' }), 1);
    assert.equal(e.sum('causeway_ca_changes_total', { change: 'bundle' }), 1);
    assert.equal(e.sum('causeway_ca_changes_total', { change: 'activated' }), 1);
    assert.equal(e.sum('causeway_svid_renewals_total', { result: 'renewed' }), 1);
    assert.equal(e.sum('causeway_svid_renewals_total', { result: 'failed' }), 1);
  });
});
