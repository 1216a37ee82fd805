import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger, type Store } from '../../../../registry/index.js';
import { PortAssignments } from '../../../../gateway/consul/port-assignments.js';

/** A Store in memory (the data dir's FileStore keeps the same JSON). */
function memoryStore(initial: Record<string, unknown> = {}): Store & { values: Map<string, unknown> } {
  const values = new Map(Object.entries(initial));
  return {
    values,
    load: async <T>(name: string) => values.get(name) as T | undefined,
    save: async (name, value) => void values.set(name, structuredClone(value)),
    remove: async (name) => void values.delete(name),
    close: async () => undefined,
  };
}

describe('PortAssignments', () => {
  it('gives each service port the lowest free port, keeps it, and saves only changes', async () => {
    const store = memoryStore();
    const ports = new PortAssignments(store, 'p', { first: 100, last: 102 }, silentLogger());
    await ports.load();
    assert.deepEqual(ports.assign(['b.x:80', 'a.x:80']), []);
    await ports.save();
    assert.deepEqual(store.values.get('p'), { version: 1, ports: { 'b.x:80': 100, 'a.x:80': 101 } });
    store.values.set('p', 'untouched');
    assert.deepEqual(ports.assign(['a.x:80', 'b.x:80']), []);
    await ports.save();
    assert.equal(store.values.get('p'), 'untouched', 'nothing changed: nothing written');
  });

  it('takes a port back only when the range is full, from a service port no longer wanted', async () => {
    const ports = new PortAssignments(memoryStore(), 'p', { first: 100, last: 101 }, silentLogger());
    await ports.load();
    ports.assign(['a.x:80', 'b.x:80']);
    // b.x is gone, but its port stays its own while there is room.
    assert.deepEqual(ports.assign(['a.x:80']), []);
    assert.equal(ports.get('b.x:80'), 101);
    assert.deepEqual(ports.assign(['a.x:80', 'c.x:80', 'd.x:80']), ['d.x:80'], 'one port to give back, two asking');
    assert.deepEqual(Object.fromEntries(ports.entries()), { 'a.x:80': 100, 'c.x:80': 101 });
  });

  it('drops saved ports outside the range (a changed config) and duplicates', async () => {
    const store = memoryStore({ p: { version: 1, ports: { 'a.x:80': 100, 'b.x:80': 100, 'c.x:80': 250, 'd.x:80': 'x' } } });
    const ports = new PortAssignments(store, 'p', { first: 100, last: 110 }, silentLogger());
    await ports.load();
    assert.deepEqual(Object.fromEntries(ports.entries()), { 'a.x:80': 100 });
    await ports.save();
    assert.deepEqual(store.values.get('p'), { version: 1, ports: { 'a.x:80': 100 } });
  });
});
