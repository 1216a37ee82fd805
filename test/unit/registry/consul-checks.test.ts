import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changedServices, checkTable } from '../../../registry/sources/consul-checks.js';

const check = (Node: string, CheckID: string, ServiceID: string, ServiceName: string, Status: string, ModifyIndex: number): Record<string, unknown> =>
  ({ Node, CheckID, Name: CheckID, Status, ServiceID, ServiceName, ModifyIndex, CreateIndex: 1 });

describe('Consul check tables', () => {
  const before = checkTable([
    check('vm-1', 'serfHealth', '', '', 'passing', 5),
    check('vm-1', 'service:web-1', 'web-1', 'web', 'passing', 6),
    check('vm-1', 'service:api-1', 'api-1', 'api', 'passing', 7),
    check('vm-2', 'service:web-2', 'web-2', 'web', 'passing', 8),
    check('vm-3', 'service:db-1', 'db-1', 'db', 'critical', 9),
  ]);
  const on = (services: Record<string, string[]>) => (node: string): string[] => services[node] ?? [];

  it('an unchanged list changes nothing; a status or ModifyIndex change names its service', () => {
    assert.deepEqual(changedServices(before, before, on({})), new Set());
    const after = new Map(before);
    after.set('vm-2\u0000service:web-2', { ...before.get('vm-2\u0000service:web-2')!, modifyIndex: 12 });
    after.set('vm-3\u0000service:db-1', { ...before.get('vm-3\u0000service:db-1')!, status: 'passing' });
    assert.deepEqual(changedServices(before, after, on({})), new Set(['db', 'web']));
  });

  it('a check added or removed names its service, and a renamed service both names', () => {
    const after = new Map(before);
    after.delete('vm-3\u0000service:db-1');
    after.set('vm-4\u0000service:cache-1', { node: 'vm-4', modifyIndex: 20, status: 'passing', serviceId: 'cache-1', serviceName: 'cache' });
    after.set('vm-2\u0000service:web-2', { node: 'vm-2', modifyIndex: 21, status: 'passing', serviceId: 'web-2', serviceName: 'www' });
    assert.deepEqual(changedServices(before, after, on({})), new Set(['db', 'cache', 'www', 'web']));
  });

  it('a node-level check names every service on its node: those read there and those with checks there', () => {
    const after = new Map(before);
    after.set('vm-1\u0000serfHealth', { node: 'vm-1', modifyIndex: 30, status: 'critical', serviceId: '', serviceName: '' });
    assert.deepEqual(changedServices(before, after, on({ 'vm-1': ['nochecks'], 'vm-2': ['other'] })), new Set(['nochecks', 'web', 'api']));
    const gone = new Map(before);
    gone.delete('vm-1\u0000serfHealth');
    assert.deepEqual(changedServices(before, gone, on({})), new Set(['web', 'api']));
  });

  it('reads only entries with a node and a check ID, and a non-list as empty', () => {
    assert.equal(checkTable({ not: 'a list' }).size, 0);
    const table = checkTable([null, 'x', { Node: 'vm-1' }, { Node: 'vm-1', CheckID: 'c', Status: 7 }]);
    assert.deepEqual([...table.values()], [{ node: 'vm-1', modifyIndex: -1, status: '', serviceId: '', serviceName: '' }]);
  });
});
