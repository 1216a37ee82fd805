// The Consul API double, driven through the real `consul` client (v2, promise-based) as the Consul
// catalog bridge will drive it. The double must behave like Consul where the bridge depends on it:
// blocking queries, index resets, the passing filter, ACL refusals and catalog writes.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import Consul from 'consul';
import { indexOf, withResponse } from '../../helpers/consul-response.js';
import { ConsulApiDouble, type CheckServiceNode } from '../../doubles/consul-api.js';

async function health(consul: Consul, opts: Record<string, unknown>): Promise<{ res: IncomingMessage; body: CheckServiceNode[]; ms: number }> {
  const t0 = performance.now();
  const [res, body] = (await consul.health.service({ service: 'web', ...opts, ctx: withResponse() } as never)) as unknown as [IncomingMessage, CheckServiceNode[]];
  return { res, body, ms: performance.now() - t0 };
}

async function rejection(p: Promise<unknown>): Promise<{ status: number | undefined; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as Error & { response?: { statusCode?: number } };
    return { status: e.response?.statusCode, message: e.message };
  }
  assert.fail('expected the call to be refused');
}

describe('Consul API double (through the real consul client)', () => {
  let consul: ConsulApiDouble;
  let client: Consul;
  let base = '';

  before(async () => {
    consul = new ConsulApiDouble({ jitter: false });
    const { host, port } = await consul.start();
    base = `http://${host}:${port}`;
    client = new Consul({ host, port, secure: false });
    consul.registerService({ node: 'vm-1', address: '10.0.0.1', nodeMeta: { zone: 'a' }, service: 'web', id: 'web-1', tags: ['v1'], port: 8080, meta: { version: '1' } });
    consul.registerService({ node: 'vm-2', address: '10.0.0.2', service: 'web', id: 'web-2', tags: ['v2'], port: 8080, serviceAddress: '10.0.1.2' });
  });
  after(async () => {
    client?.destroy();
    await consul?.close();
  });

  it('lists services with their tags, the server\'s own consul service included', async () => {
    const services = await client.catalog.service.list();
    assert.deepEqual(services, { consul: [], web: ['v1', 'v2'] });
  });

  it('answers health entries in Consul\'s CheckServiceNode shape, and ?passing filters out warning and critical', async () => {
    const all = await health(client, {});
    assert.equal(all.res.headers['x-consul-knownleader'], 'true');
    assert.equal(all.res.headers['x-consul-lastcontact'], '0');
    assert.ok(indexOf(all.res) > 0);
    const one = all.body.find((e) => e.Service.ID === 'web-1');
    assert.deepEqual(one?.Node && { Node: one.Node.Node, Address: one.Node.Address, Datacenter: one.Node.Datacenter, Meta: one.Node.Meta },
      { Node: 'vm-1', Address: '10.0.0.1', Datacenter: 'dc1', Meta: { zone: 'a' } });
    assert.deepEqual(one && { ...one.Service, CreateIndex: 0, ModifyIndex: 0 },
      { ID: 'web-1', Service: 'web', Tags: ['v1'], Address: '', Port: 8080, Meta: { version: '1' }, CreateIndex: 0, ModifyIndex: 0 });
    assert.deepEqual(one?.Checks.map((c) => [c.CheckID, c.Status, c.ServiceID]), [['service:web-1', 'passing', 'web-1']]);

    consul.setCheckStatus('vm-2', 'service:web-2', 'warning');
    assert.deepEqual((await health(client, { passing: true })).body.map((e) => e.Service.ID), ['web-1']);
    // `?passing` with no value, as curl users write it, means true.
    const raw = (await (await fetch(`${base}/v1/health/service/web?passing`)).json()) as CheckServiceNode[];
    assert.deepEqual(raw.map((e) => e.Service.ID), ['web-1']);
    consul.setCheckStatus('vm-2', 'service:web-2', 'critical');
    assert.equal((await health(client, {})).body.length, 2, 'without passing, unhealthy instances are still listed');
    consul.setCheckStatus('vm-2', 'service:web-2', 'passing');
    assert.equal((await health(client, { passing: true })).body.length, 2);
  });

  it('refuses an unknown datacenter with Consul\'s 500 "No path to datacenter"', async () => {
    const r = await rejection(client.health.service({ service: 'web', dc: 'dc9' }));
    assert.equal(r.status, 500);
    assert.match(r.message, /No path to datacenter/);
  });

  it('a blocking query returns on a change, with a higher index and the new body', async () => {
    const first = await health(client, {});
    const pending = health(client, { index: String(indexOf(first.res)), wait: '10s' });
    setTimeout(() => consul.setCheckStatus('vm-1', 'service:web-1', 'critical'), 150).unref();
    const next = await pending;
    assert.ok(next.ms >= 100 && next.ms < 3000, `returned after ${next.ms} ms`);
    assert.ok(indexOf(next.res) > indexOf(first.res));
    assert.equal(next.body.find((e) => e.Service.ID === 'web-1')?.Checks[0]?.Status, 'critical');
    consul.setCheckStatus('vm-1', 'service:web-1', 'passing');
  });

  it('a blocking query with no change returns after wait with the same index and body', async () => {
    const first = await health(client, {});
    const next = await health(client, { index: String(indexOf(first.res)), wait: '300ms' });
    assert.ok(next.ms >= 290 && next.ms < 1500, `returned after ${next.ms} ms`);
    assert.equal(indexOf(next.res), indexOf(first.res));
    assert.deepEqual(next.body, first.body);
  });

  it('a change to another service does not wake a health query (per-endpoint index)', async () => {
    const first = await health(client, {});
    const pending = health(client, { index: String(indexOf(first.res)), wait: '400ms' });
    setTimeout(() => consul.registerService({ node: 'vm-9', service: 'other' }), 50).unref();
    const next = await pending;
    assert.ok(next.ms >= 390, `woke after ${next.ms} ms for an unrelated change`);
    assert.equal(indexOf(next.res), indexOf(first.res));
    assert.ok(consul.index > indexOf(first.res), 'the global index moved on');
    consul.deregister('vm-9');
  });

  it('a stale index returns at once, and the log says it did not block', async () => {
    const first = await health(client, {});
    const stale = await health(client, { index: String(indexOf(first.res) - 1), wait: '10s' });
    assert.ok(stale.ms < 500, `stale index blocked ${stale.ms} ms`);
    const last = consul.requestLog().at(-1);
    assert.deepEqual(last && { path: last.path, index: last.index, blocked: last.blocked },
      { path: '/v1/health/service/web', index: indexOf(first.res) - 1, blocked: false });
  });

  it('refuses bad index and wait values with 400', async () => {
    assert.equal((await fetch(`${base}/v1/catalog/services?index=abc`)).status, 400);
    const bad = await fetch(`${base}/v1/catalog/services?index=1&wait=soon`);
    assert.deepEqual([bad.status, await bad.text()], [400, 'Invalid wait time']);
  });

  it('index going backwards: a blocked query answers at once with the lower index, and watch resets to 0', { timeout: 15_000 }, async () => {
    const first = await health(client, {});
    const high = indexOf(first.res);
    const pending = health(client, { index: String(high), wait: '10s' });
    setTimeout(() => consul.resetIndex(2), 100).unref();
    const after = await pending;
    assert.ok(after.ms < 3000);
    assert.equal(indexOf(after.res), 2, 'X-Consul-Index went backwards');

    // The client's watch helper applies the documented reset rule (restart from 0) and keeps following.
    const seen: string[][] = [];
    const watch = client.watch({ method: client.health.service, options: { service: 'web', wait: '5s' } as never });
    watch.on('change', (data: CheckServiceNode[]) => seen.push(data.map((e) => e.Service.ID).sort()));
    const until = (what: string, ok: () => boolean): Promise<void> => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`watch never saw ${what}: ${JSON.stringify(seen)}`)), 5000);
      const check = (): void => {
        if (!ok()) return;
        clearTimeout(timer);
        watch.off('change', check);
        resolve();
      };
      watch.on('change', check);
      check();
    });
    try {
      await until('the first answer', () => seen.length >= 1);
      const answered = seen.length;
      const logFrom = consul.requestLog().length;
      // Reset only once the watch is parked on its blocking query, so the reset is what wakes it.
      while (consul.blockedQueries === 0) await new Promise((r) => setTimeout(r, 10));
      consul.resetIndex(1);
      // The watch reports the reset as a change and re-reads from index 0.
      await until('the reset', () => seen.length > answered);
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(consul.requestLog().slice(logFrom).some((r) => r.index === 0), 'the watch restarted from index 0');
      consul.registerService({ node: 'vm-3', address: '10.0.0.3', service: 'web', id: 'web-3', port: 8080 });
      await until('web-3', () => seen.at(-1)?.includes('web-3') === true);
      assert.ok(consul.requestLog().some((r) => r.path === '/v1/health/service/web' && r.index !== undefined && r.index > 1
        && r.responseIndex !== undefined && r.responseIndex < r.index), 'some query saw the index go backwards');
    } finally {
      watch.end();
    }
    consul.deregister('vm-3', 'web-3');
  });

  it('registers and deregisters external services through the client', async () => {
    await client.catalog.register({
      node: 'external-db', address: '10.9.0.50', nodemeta: { 'external-node': 'true' },
      service: { id: 'payments-1', service: 'payments', address: '10.9.0.51', port: 8443, tags: ['causeway'], meta: { 'causeway-key': 'payments.prod' } },
      checks: [{ checkid: 'causeway:payments-1', name: 'Causeway health', serviceid: 'payments-1', status: 'passing' }],
    });
    assert.deepEqual((await client.catalog.service.list())['payments'], ['causeway']);
    const entries = (await client.health.service({ service: 'payments', passing: true })) as CheckServiceNode[];
    assert.deepEqual(entries.map((e) => [e.Node.Node, e.Service.Address, e.Service.Port, e.Checks[0]?.CheckID]),
      [['external-db', '10.9.0.51', 8443, 'causeway:payments-1']]);

    await client.catalog.deregister({ node: 'external-db', serviceid: 'payments-1' });
    assert.equal((await client.catalog.service.list())['payments'], undefined);
    assert.deepEqual(await client.health.service('payments'), []);
  });

  it('refuses bad register and deregister bodies with 400 and Consul\'s messages, changing nothing', async () => {
    const before = consul.index;
    const noName = await rejection(client.catalog.register({ node: 'n', address: '10.0.0.9', service: { id: 'x' } as never }));
    assert.deepEqual([noName.status, /Must provide service name with ID/.test(noName.message)], [400, true]);
    const put = async (path: string, body: string): Promise<[number, string]> => {
      const r = await fetch(`${base}${path}`, { method: 'PUT', body });
      return [r.status, await r.text()];
    };
    assert.deepEqual(await put('/v1/catalog/register', '{"Address":"10.0.0.9"}'), [400, 'Must provide node']);
    assert.deepEqual(await put('/v1/catalog/register', '{"Node":"n"}'), [400, 'Must provide address']);
    const [status, text] = await put('/v1/catalog/register', '{"Node":"n","Address":"10.0.0.9","Service":{"Service":"s","Port":"80"}}');
    assert.equal(status, 400);
    assert.match(text, /^Request decode failed: /);
    assert.match((await put('/v1/catalog/register', 'not json'))[1], /^Request decode failed: /);
    assert.deepEqual(await put('/v1/catalog/register', '{"Node":"n","Address":"a","Checks":[{"CheckID":"c","ServiceID":"nope"}]}'),
      [400, "Unknown service ID 'nope' for check ID 'c'"]);
    assert.deepEqual(await put('/v1/catalog/deregister', '{}'), [400, 'Must provide node']);
    assert.equal(consul.index, before, 'no refused write took an index');
  });

  it('the request log shows a watch using blocking queries, not polling', async () => {
    const from = consul.requestLog().length;
    const watch = client.watch({ method: client.catalog.service.list, options: { wait: '2s' } as never });
    let changes = 0;
    watch.on('change', () => { changes += 1; });
    watch.on('error', () => {});
    try {
      const parked = async (): Promise<void> => { while (consul.blockedQueries === 0) await new Promise((r) => setTimeout(r, 10)); };
      await parked();
      await new Promise((r) => setTimeout(r, 200));
      consul.registerService({ node: 'vm-5', service: 'api' });
      await new Promise((r) => setTimeout(r, 50));
      await parked();
      consul.deregister('vm-5');
      await new Promise((r) => setTimeout(r, 50));
      await parked();
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      watch.end();
    }
    const log = consul.requestLog().slice(from).filter((r) => r.path === '/v1/catalog/services');
    assert.ok(changes >= 3, `saw ${changes} changes`);
    // One initial read, then one blocked query per change: 1.1 s of watching costs ~3 requests, not a poll loop.
    assert.ok(log.length <= 5, `${log.length} requests`);
    assert.equal(log[0]?.blocked, false);
    assert.ok(log.slice(1).every((r) => r.blocked && r.index !== undefined && r.index > 0), JSON.stringify(log));
  });
});

describe('Consul API double: ACLs, jitter and close', () => {
  it('refuses without a token (Permission denied), with a wrong one (ACL not found), and answers with the right one', async () => {
    const consul = new ConsulApiDouble({ token: 's3cret' });
    const { host, port } = await consul.start();
    const anonymous = new Consul({ host, port, secure: false });
    const wrong = new Consul({ host, port, secure: false, defaults: { token: 'guess' } });
    const right = new Consul({ host, port, secure: false, defaults: { token: 's3cret' } });
    try {
      const denied = await rejection(anonymous.catalog.service.list());
      assert.equal(denied.status, 403);
      assert.match(denied.message, /Permission denied/);
      const unknown = await rejection(wrong.health.service('consul'));
      assert.equal(unknown.status, 403);
      assert.match(unknown.message, /ACL not found/);
      assert.equal((await rejection(anonymous.catalog.register({ node: 'n', address: 'a' }))).status, 403);
      assert.deepEqual(await right.catalog.service.list(), { consul: [] });
      const viaQuery = await fetch(`http://${host}:${port}/v1/catalog/services?token=s3cret`);
      assert.equal(viaQuery.status, 200);
    } finally {
      for (const c of [anonymous, wrong, right]) c.destroy();
      await consul.close();
    }
  });

  it('adds the injected jitter, given up to wait/16', async () => {
    const asked: number[] = [];
    const consul = new ConsulApiDouble({ jitter: (max) => { asked.push(max); return max; } });
    const { host, port } = await consul.start();
    const client = new Consul({ host, port, secure: false });
    try {
      const first = await health(client, { service: 'consul' });
      const next = await health(client, { service: 'consul', index: String(indexOf(first.res)), wait: '320ms' });
      assert.deepEqual(asked, [20]);
      assert.ok(next.ms >= 335, `returned after ${next.ms} ms`);
    } finally {
      client.destroy();
      await consul.close();
    }
  });

  it('close() ends blocked queries and frees the port at once', async () => {
    const consul = new ConsulApiDouble();
    const { host, port } = await consul.start();
    const client = new Consul({ host, port, secure: false });
    const first = await health(client, { service: 'consul' });
    const blocked = health(client, { service: 'consul', index: String(indexOf(first.res)), wait: '10m' }).then(() => 'answered', () => 'dropped');
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    await consul.close();
    await consul.close();
    assert.equal(await blocked, 'dropped');
    assert.ok(performance.now() - t0 < 1000);
    client.destroy();
  });
});
