import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changedServices, checkTable } from '../../../registry/sources/consul-checks.js';

const check = (Node: string, CheckID: string, ServiceID: string, ServiceName: string, Status: string, CreateIndex: number): Record<string, unknown> =>
  ({ Node, CheckID, Name: CheckID, Status, ServiceID, ServiceName, CreateIndex, ModifyIndex: CreateIndex + 1, Output: '' });

describe('Consul check tables', () => {
  const before = checkTable([
    check('vm-1', 'serfHealth', '', '', 'passing', 5),
    check('vm-1', 'service:web-1', 'web-1', 'web', 'passing', 6),
    check('vm-1', 'service:api-1', 'api-1', 'api', 'passing', 7),
    check('vm-2', 'service:web-2', 'web-2', 'web', 'passing', 8),
    check('vm-3', 'service:db-1', 'db-1', 'db', 'critical', 9),
  ]);
  const on = (services: Record<string, string[]>) => (node: string): string[] => services[node] ?? [];

  it('an unchanged list changes nothing, nor does a write of output alone; a status change or a check registered again names its service', () => {
    assert.deepEqual(changedServices(before, before, on({})), new Set());
    const outputOnly = checkTable([...before.keys()].map((key, i) => {
      const c = before.get(key)!;
      return { ...check(c.node, key.split('\u0000')[1]!, c.serviceId, c.serviceName, c.status, c.createIndex), ModifyIndex: 100 + i, Output: 'HTTP GET: 200 OK' };
    }));
    assert.deepEqual(changedServices(before, outputOnly, on({})), new Set(), 'check_update_interval writes are not health changes');
    const after = new Map(before);
    after.set('vm-2\u0000service:web-2', { ...before.get('vm-2\u0000service:web-2')!, createIndex: 12 });
    after.set('vm-3\u0000service:db-1', { ...before.get('vm-3\u0000service:db-1')!, status: 'passing' });
    assert.deepEqual(changedServices(before, after, on({})), new Set(['db', 'web']));
  });

  it('a check added or removed names its service, and a renamed service both names', () => {
    const after = new Map(before);
    after.delete('vm-3\u0000service:db-1');
    after.set('vm-4\u0000service:cache-1', { node: 'vm-4', createIndex: 20, status: 'passing', serviceId: 'cache-1', serviceName: 'cache' });
    after.set('vm-2\u0000service:web-2', { node: 'vm-2', createIndex: 8, status: 'passing', serviceId: 'web-2', serviceName: 'www' });
    assert.deepEqual(changedServices(before, after, on({})), new Set(['db', 'cache', 'www', 'web']));
  });

  it('a node-level check names every service on its node: those read there and those with checks there', () => {
    const after = new Map(before);
    after.set('vm-1\u0000serfHealth', { node: 'vm-1', createIndex: 30, status: 'critical', serviceId: '', serviceName: '' });
    assert.deepEqual(changedServices(before, after, on({ 'vm-1': ['nochecks'], 'vm-2': ['other'] })), new Set(['nochecks', 'web', 'api']));
    const gone = new Map(before);
    gone.delete('vm-1\u0000serfHealth');
    assert.deepEqual(changedServices(before, gone, on({})), new Set(['web', 'api']));
  });

  it('reads only entries with a node and a check ID, and a non-list as empty', () => {
    assert.equal(checkTable({ not: 'a list' }).size, 0);
    const table = checkTable([null, 'x', { Node: 'vm-1' }, { Node: 'vm-1', CheckID: 'c', Status: 7 }]);
    assert.deepEqual([...table.values()], [{ node: 'vm-1', createIndex: -1, status: '', serviceId: '', serviceName: '' }]);
  });
});
