import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CatalogChange, ServiceRecord } from '../../../../registry/index.js';
import { backoffDelay } from '../../../../federation/peering/index.js';
import { hostPortProblem } from '../../../../federation/peering/address.js';
import { decodeHello, decodeRecords, toWireRecord } from '../../../../federation/peering/frames.js';
import { deltaRecords } from '../../../../federation/peering/replication.js';

const locality = { cloud: 'aws', region: 'eu-west-1', zone: 'eu-west-1a', cluster: 'cluster-b' };

function record(name: string, overrides: Partial<ServiceRecord> = {}): ServiceRecord {
  return {
    origin: 'cluster-b',
    name,
    namespace: 'prod',
    version: { origin: 'cluster-b', epoch: 1_700_000_000_000, seq: 3 },
    deleted: false,
    exported: true,
    ports: [{ name: 'http', port: 8080, protocol: 'http' }],
    endpoints: [{
      address: '10.1.2.3', ports: { http: 8080 }, locality, kind: 'pod', identity: 'spiffe://b.test/ns/prod/sa/pay',
      health: 'healthy', weight: 1, labels: { version: 'v1' },
    }],
    ...overrides,
  };
}

/** What proto-loader hands us: uint64 as decimal strings. */
function asDecoded(r: ServiceRecord): unknown {
  const w = toWireRecord(r);
  return { ...w, version: { ...w.version!, epoch: String(w.version!.epoch), seq: String(w.version!.seq) } };
}

describe('link frames', () => {
  it('round-trips a record through its wire form, versions as decimal strings', () => {
    const errors: string[] = [];
    const original = record('pay');
    assert.deepEqual(decodeRecords([asDecoded(original)], 'cluster-b', errors), [original]);
    assert.deepEqual(errors, []);
  });

  it('collects every problem of every record, naming its path', () => {
    const errors: string[] = [];
    const huge = asDecoded(record('big')) as { version: { seq: string } };
    huge.version.seq = '18446744073709551615';
    const decoded = decodeRecords([
      asDecoded(record('pay')),
      asDecoded(record('other', { origin: 'cluster-c', version: { origin: 'cluster-c', epoch: 1, seq: 1 } })),
      huge,
      asDecoded(record('pay')),
      { ...(asDecoded(record('nover')) as object), version: null },
    ], 'cluster-b', errors);
    assert.deepEqual(decoded.map((r) => r.name), ['pay']);
    assert.ok(errors.some((e) => e.startsWith('records[1].origin: "cluster-c" is not the sending peer\'s cluster')), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('records[2].version.seq')), errors.join('\n'));
    assert.ok(errors.some((e) => e === 'records[3]: duplicates records[0] (pay.prod)'), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('records[4].version')), errors.join('\n'));
    const notAList: string[] = [];
    decodeRecords({ length: 1 }, 'cluster-b', notAList);
    assert.deepEqual(notAList, ['records: is not a list']);
  });

  it('validates Hello fields', () => {
    const good = {
      cluster: 'cluster-b', trustDomain: 'b.test', gatewayId: 'spiffe://b.test/gateway/gw-b', eastWestAddress: '[::1]:15443',
      locality: { ...locality, cluster: '' }, protocolVersion: 1,
    };
    const errors: string[] = [];
    assert.deepEqual(decodeHello(good, errors), {
      cluster: 'cluster-b', trustDomain: 'b.test', identity: 'spiffe://b.test/gateway/gw-b', eastWestAddress: '[::1]:15443', locality,
    });
    assert.deepEqual(errors, []);
    const bad: string[] = [];
    assert.equal(decodeHello({ ...good, protocolVersion: 2, eastWestAddress: 'gw-b:15443', gatewayId: 'https://b.test', locality: null }, bad), undefined);
    assert.equal(bad.length, 4, bad.join('\n'));
    assert.match(bad.join('\n'), /protocolVersion: 2 is not supported/);
    assert.match(bad.join('\n'), /eastWestAddress: "gw-b" is not an IP address/);
  });

  it('refuses a Hello whose locality the catalog would refuse (empty region, over-long zone)', () => {
    // Regression: such a Hello used to pass decodeHello and then throw inside the catalog,
    // in the stream's data handler.
    const hello = {
      cluster: 'cluster-b', trustDomain: 'b.test', gatewayId: 'spiffe://b.test/gateway/gw-b', eastWestAddress: '127.0.0.1:15443',
      locality: { ...locality, region: '', zone: 'z'.repeat(300) }, protocolVersion: 1,
    };
    const errors: string[] = [];
    assert.equal(decodeHello(hello, errors), undefined);
    assert.ok(errors.some((e) => e.startsWith('hello.locality.region')), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('hello.locality.zone')), errors.join('\n'));
  });

  it('sends only exported local records, and a tombstone when a record stops being exported', () => {
    const pay = record('pay');
    const hidden = record('hidden', { exported: false });
    const unexported = record('pay', { exported: false, version: { origin: 'cluster-b', epoch: pay.version.epoch, seq: 4 } });
    const remote = record('far', { origin: 'cluster-c', version: { origin: 'cluster-c', epoch: 1, seq: 1 } });
    const change = (r: ServiceRecord, previous?: ServiceRecord): CatalogChange => ({ index: 0, record: r, previous });
    const peer = { name: 'cluster-a', cluster: 'cluster-a', labels: {} };
    assert.deepEqual(deltaRecords([change(pay), change(hidden), change(remote)], 'cluster-b', peer), [pay]);
    const sent = deltaRecords([change(unexported, pay)], 'cluster-b', peer);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.deleted, true);
    assert.deepEqual(sent[0]?.endpoints, []);
    assert.equal(sent[0]?.version.seq, 4);
    assert.deepEqual(deltaRecords([change(hidden, hidden)], 'cluster-b', peer), []);
  });

  it('checks host:port addresses without resolving names', () => {
    assert.equal(hostPortProblem('127.0.0.1:15012'), undefined);
    assert.equal(hostPortProblem('[::1]:15012'), undefined);
    assert.match(hostPortProblem('::1:15012') ?? '', /not host:port|brackets/);
    assert.match(hostPortProblem('localhost:15012') ?? '', /not an IP address/);
    assert.match(hostPortProblem('127.0.0.1:0') ?? '', /out of range/);
    assert.match(hostPortProblem('127.0.0.1') ?? '', /not host:port/);
  });

  it('backs off exponentially with jitter up to the cap', () => {
    const b = { initialMs: 250, maxMs: 30_000 };
    assert.equal(backoffDelay(0, b, () => 0), 125);
    assert.equal(backoffDelay(0, b, () => 1), 250);
    assert.equal(backoffDelay(3, b, () => 1), 2000);
    assert.equal(backoffDelay(20, b, () => 1), 30_000);
    assert.equal(backoffDelay(20, b, () => 0), 15_000);
  });
});
