// The Consul API double's check list (GET /v1/health/state/:state) and its write semantics, driven
// through the real `consul` client where it can be: the bridge's scalable watch depends on the
// checks table having its own index, and on a registration that changes nothing moving no index.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import Consul from 'consul';
import { indexOf, withResponse } from '../../helpers/consul-response.js';
import { ConsulApiDouble, type CheckServiceNode, type ConsulCheck } from '../../doubles/consul-api.js';
import { CatalogState } from '../../doubles/consul-catalog-state.js';

async function checks(client: Consul, opts: Record<string, unknown>): Promise<{ index: number; body: ConsulCheck[]; ms: number }> {
  const t0 = performance.now();
  const [res, body] = (await client.health.state({ state: 'any', ...opts, ctx: withResponse() } as never)) as unknown as [IncomingMessage, ConsulCheck[]];
  return { index: indexOf(res), body, ms: performance.now() - t0 };
}

async function servicesIndex(client: Consul): Promise<number> {
  const [res] = (await client.catalog.service.list({ ctx: withResponse() } as never)) as unknown as [IncomingMessage];
  return indexOf(res);
}

describe('Consul API double: GET /v1/health/state/:state', () => {
  let consul: ConsulApiDouble;
  let client: Consul;
  let base = '';

  before(async () => {
    consul = new ConsulApiDouble({ jitter: false });
    const { host, port } = await consul.start();
    base = `http://${host}:${port}`;
    client = new Consul({ host, port, secure: false });
    consul.registerService({ node: 'vm-1', address: '10.0.0.1', service: 'web', id: 'web-1', tags: ['v1'], port: 8080 });
    consul.registerService({ node: 'vm-2', address: '10.0.0.2', service: 'web', id: 'web-2', port: 8080, checks: [{ checkId: 'http', status: 'critical' }] });
    // A node-level check (no ServiceID), as an agent's serfHealth.
    await client.catalog.register({ node: 'vm-1', address: '10.0.0.1', checks: [{ checkid: 'serfHealth', name: 'Serf Health Status', status: 'passing' }] } as never);
  });
  after(async () => {
    client?.destroy();
    await consul?.close();
  });

  it('lists every check with its node, service and indexes (any), in node then check order; a status lists only its own', async () => {
    const all = await checks(client, {});
    assert.ok(all.index > 1);
    assert.deepEqual(all.body.map((c) => [c.Node, c.CheckID, c.Status, c.ServiceID, c.ServiceName]), [
      ['consul-server-1', 'serfHealth', 'passing', '', ''],
      ['vm-1', 'serfHealth', 'passing', '', ''],
      ['vm-1', 'service:web-1', 'passing', 'web-1', 'web'],
      ['vm-2', 'http', 'critical', 'web-2', 'web'],
    ]);
    const web1 = all.body.find((c) => c.CheckID === 'service:web-1');
    assert.deepEqual(web1 && [web1.ServiceTags, web1.Type, web1.CreateIndex > 0, web1.ModifyIndex >= web1.CreateIndex], [['v1'], '', true, true]);
    assert.equal(Math.max(...all.body.map((c) => c.ModifyIndex)), all.index, 'X-Consul-Index is the checks table index');
    assert.deepEqual((await checks(client, { state: 'critical' })).body.map((c) => c.CheckID), ['http']);
    assert.equal((await checks(client, { state: 'passing' })).body.length, 3);
    assert.deepEqual((await checks(client, { state: 'warning' })).body, []);
  });

  it('blocks on the checks table: a service registered without checks does not wake it, a check change does', async () => {
    const first = await checks(client, {});
    const quiet = checks(client, { index: String(first.index), wait: '400ms' });
    setTimeout(() => consul.registerService({ node: 'vm-9', address: '10.0.0.9', service: 'other', port: 1, checks: [] }), 50).unref();
    const unchanged = await quiet;
    assert.ok(unchanged.ms >= 390, `woke after ${unchanged.ms} ms for a change to the services table only`);
    assert.equal(unchanged.index, first.index);

    const pending = checks(client, { index: String(first.index), wait: '10s' });
    setTimeout(() => consul.setCheckStatus('vm-2', 'http', 'passing'), 100).unref();
    const next = await pending;
    assert.ok(next.ms >= 90 && next.ms < 3000, `returned after ${next.ms} ms`);
    assert.ok(next.index > first.index);
    const http = next.body.find((c) => c.CheckID === 'http');
    assert.deepEqual(http && [http.Status, http.ModifyIndex], ['passing', next.index]);
    consul.deregister('vm-9');
  });

  it('an output-only write (an agent\'s check_update_interval sync) moves the check\'s ModifyIndex and the list\'s index, not its status', async () => {
    const first = await checks(client, {});
    const pending = checks(client, { index: String(first.index), wait: '10s' });
    setTimeout(() => consul.setCheckOutput('vm-1', 'service:web-1', 'HTTP GET http://10.0.0.1:8080/health: 200 OK'), 50).unref();
    const next = await pending;
    const web1 = next.body.find((c) => c.CheckID === 'service:web-1');
    assert.deepEqual(web1 && [web1.Status, web1.Output, web1.ModifyIndex], ['passing', 'HTTP GET http://10.0.0.1:8080/health: 200 OK', next.index]);
    const before = consul.index;
    consul.setCheckOutput('vm-1', 'service:web-1', 'HTTP GET http://10.0.0.1:8080/health: 200 OK');
    assert.equal(consul.index, before, 'the same output again is no write');
    assert.throws(() => consul.setCheckOutput('vm-1', 'nope', 'x'), /no check nope on node vm-1/);
  });

  it('a registration that changes nothing moves no table index; a new port moves the services indexes, not the checks\'', async () => {
    const input = { node: 'vm-1', address: '10.0.0.1', service: 'web', id: 'web-1', tags: ['v1'], port: 8080 };
    const [catalogBefore, checksBefore] = [await servicesIndex(client), await checks(client, {})];
    const raftBefore = consul.index;
    consul.registerService(input);
    assert.ok(consul.index > raftBefore, 'the write took a raft index');
    assert.equal(await servicesIndex(client), catalogBefore);
    assert.equal((await checks(client, {})).index, checksBefore.index);

    consul.registerService({ ...input, port: 9090 });
    assert.ok(await servicesIndex(client) > catalogBefore, 'the services table changed');
    const checksAfter = await checks(client, {});
    assert.equal(checksAfter.index, checksBefore.index, 'the checks table did not');
    const modify = (list: ConsulCheck[]): number | undefined => list.find((c) => c.CheckID === 'service:web-1')?.ModifyIndex;
    assert.equal(modify(checksAfter.body), modify(checksBefore.body));
    const entries = (await client.health.service('web')) as CheckServiceNode[];
    assert.equal(entries.find((e) => e.Service.ID === 'web-1')?.Service.Port, 9090);
    consul.registerService(input);
  });

  it('refuses an empty state with Consul\'s 400 "Missing check state"; an unknown state matches no check; other methods get 405', async () => {
    const empty = await fetch(`${base}/v1/health/state/`);
    assert.deepEqual([empty.status, await empty.text()], [400, 'Missing check state']);
    // Consul's state store looks an unknown status up in its status index and finds nothing.
    const bogus = await fetch(`${base}/v1/health/state/bogus`);
    assert.deepEqual([bogus.status, await bogus.json()], [200, []]);
    assert.equal(Number(bogus.headers.get('x-consul-index')), (await checks(client, {})).index);
    assert.equal((await fetch(`${base}/v1/health/state/any`, { method: 'POST' })).status, 405);
    assert.equal((await fetch(`${base}/v1/health/state/any?index=x`)).status, 400);
    // The client refuses an unknown state before sending anything.
    const before = consul.requestLog().length;
    await assert.rejects(client.health.state('bogus' as never), /state invalid: bogus/);
    assert.equal(consul.requestLog().length, before);
  });
});

describe('Consul API double at 20,000 instances', () => {
  it('reads a service\'s health in time proportional to that service, and lists 20,000 checks', { timeout: 120_000 }, async () => {
    const state = new CatalogState('dc1');
    const t0 = performance.now();
    for (let s = 0; s < 2000; s += 1) {
      for (let i = 0; i < 10; i += 1) {
        const id = `svc-${s}-${i}`;
        state.register({
          node: `node-${s}-${i}`, address: `10.${s >> 8}.${s & 255}.${i + 1}`,
          service: { id, service: `svc-${s}`, tags: [], address: '', port: 8080, meta: {} },
          checks: [{ checkId: `service:${id}`, name: 'check', status: 'passing', serviceId: id, notes: '' }],
        });
      }
    }
    const registerMs = performance.now() - t0;
    // Every service once, as a refresh of the whole catalog reads it. Scanning every service and
    // every check per instance made this ~2,000 x 220,000 steps (seconds); indexed it is milliseconds.
    const t1 = performance.now();
    for (let s = 0; s < 2000; s += 1) assert.equal(state.healthService(`svc-${s}`, { passing: false }).body.length, 10);
    const readAllMs = performance.now() - t1;
    const t2 = performance.now();
    const all = state.healthState('any');
    const stateMs = performance.now() - t2;
    assert.equal(all.body.length, 20_000);
    assert.ok(registerMs < 10_000, `20,000 registrations took ${registerMs.toFixed(0)} ms`);
    assert.ok(readAllMs < 1_000, `reading all 2,000 services took ${readAllMs.toFixed(0)} ms`);
    assert.ok(stateMs < 1_000, `the check list took ${stateMs.toFixed(0)} ms`);
  });
});
