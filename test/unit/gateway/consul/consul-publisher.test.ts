// The Consul publisher against the Consul API double, through the real consul client, with a
// catalog filled directly: retries after failed writes, instances removed behind its back,
// names it must not publish. (The end-to-end behaviour is test/integration/consul-publish.test.ts.)
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { Catalog, silentLogger, type ServiceKey, type ServiceRecord, type Store } from '../../../../registry/index.js';
import { ConsulPublisher } from '../../../../gateway/consul/consul-publisher.js';
import { ForwardListeners } from '../../../../gateway/dataplane/forward-listeners.js';
import { ConsulApiDouble, type CheckServiceNode } from '../../../doubles/consul-api.js';
import { portIsFree } from '../../../helpers/ports.js';
import { waitFor } from '../../../helpers/wait-for.js';

let seq = 0;
function record(name: string, namespace: string): ServiceRecord {
  seq += 1;
  return {
    origin: 'a', name, namespace, version: { origin: 'a', epoch: 1, seq }, deleted: false, exported: false,
    ports: [{ name: 'http', port: 80, protocol: 'http' }],
    endpoints: [{ address: '10.1.0.1', ports: { http: 8080 }, locality: { cloud: 'c', region: 'r', zone: 'z', cluster: 'a' }, kind: 'vm', identity: `spiffe://a.test/ns/${namespace}/sa/${name}`, health: 'healthy', weight: 1, labels: {} }],
  };
}

const memoryStore = (): Store => {
  const values = new Map<string, unknown>();
  return { load: async <T>(n: string) => values.get(n) as T | undefined, save: async (n, v) => void values.set(n, v), remove: async (n) => void values.delete(n), close: async () => undefined };
};

/** In front of the double: answers 500 to every request while `failing`. */
function flakyProxy(target: { host: string; port: number }): { server: Server; failing: boolean } {
  const state = { failing: false, server: undefined as unknown as Server };
  state.server = createServer((req, res) => {
    if (state.failing) {
      req.resume();
      res.writeHead(500, { 'content-type': 'text/plain' }).end('rpc error: leader unavailable');
      return;
    }
    const upstream = request({ host: target.host, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  return state;
}

async function freeRange(count: number): Promise<number> {
  for (;;) {
    const first = 20_000 + Math.floor(Math.random() * 10_000);
    if ((await Promise.all(Array.from({ length: count }, (_, i) => portIsFree(first + i)))).every(Boolean)) return first;
  }
}

describe('ConsulPublisher', () => {
  let consul: ConsulApiDouble;
  let proxy: ReturnType<typeof flakyProxy>;
  let proxyPort = 0;
  let forwards: ForwardListeners;
  let publisher: ConsulPublisher | undefined;
  let imported = new Set<ServiceKey>();

  const inConsul = async (name: string): Promise<CheckServiceNode[]> =>
    (await (await fetch(`http://127.0.0.1:${proxyPort}/v1/health/service/${name}`)).json()) as CheckServiceNode[];
  const start = async (catalog: Catalog, resyncMs = 60_000): Promise<ConsulPublisher> => {
    const first = await freeRange(3);
    publisher = new ConsulPublisher({
      name: 'dc1', consul: { host: '127.0.0.1', port: proxyPort },
      publish: { services: ['*'], address: '127.0.0.1', ports: { first, last: first + 2 }, node: 'causeway-test' },
      node: 'causeway-test', gateway: 'spiffe://a.test/gateway/gw', catalog, forwards, store: memoryStore(),
      health: () => ({ status: 'passing', notes: 'ok' }),
      guard: { importedKeys: () => imported, synced: async () => undefined },
      resyncMs, debounceMs: 10, logger: silentLogger(),
    });
    await publisher.start();
    return publisher;
  };

  before(async () => {
    consul = new ConsulApiDouble({ jitter: false });
    const target = await consul.start();
    proxy = flakyProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxyPort = (proxy.server.address() as AddressInfo).port;
    forwards = new ForwardListeners({ handler: { forward: (socket) => socket.destroy() } });
  });
  afterEach(async () => {
    proxy.failing = false;
    await publisher?.close();
    publisher = undefined;
    imported = new Set();
    consul.deregister('causeway-test');
  });
  after(async () => {
    await forwards.close();
    await new Promise((resolve) => proxy.server.close(resolve));
    await consul.close();
  });

  it('says why Consul refused a write, and retries until it takes it', async () => {
    proxy.failing = true;
    const catalog = new Catalog({ localCluster: 'a' });
    catalog.applyLocal(record('billing', 'prod'));
    const p = await start(catalog);
    const error = await waitFor('the failure in lastError', () => p.lastError());
    assert.match(error, new RegExp(`^publish: Consul at 127\\.0\\.0\\.1:${proxyPort}: .*leader unavailable`));
    proxy.failing = false;
    await waitFor('billing-prod registered after the retry', async () => ((await inConsul('billing-prod')).length === 1 ? true : undefined), 10_000);
    await waitFor('the error cleared', () => (p.lastError() === undefined ? true : undefined));
  });

  it('writes again an instance removed behind its back, at the next read of its node', async () => {
    const catalog = new Catalog({ localCluster: 'a' });
    catalog.applyLocal(record('billing', 'prod'));
    await start(catalog, 200);
    await waitFor('billing-prod registered', async () => ((await inConsul('billing-prod')).length === 1 ? true : undefined));
    consul.deregister('causeway-test', 'causeway-billing-prod-80');
    assert.equal((await inConsul('billing-prod')).length, 0);
    await waitFor('billing-prod back', async () => ((await inConsul('billing-prod')).length === 1 ? true : undefined));
  });

  it('leaves out a name two mesh services would share, and one Consul has of its own', async () => {
    const catalog = new Catalog({ localCluster: 'a' });
    for (const [name, namespace] of [['a-b', 'c'], ['a', 'b-c'], ['billing', 'prod'], ['ledger', 'prod']] as const) catalog.applyLocal(record(name, namespace));
    imported = new Set(['billing-prod.legacy']);
    const p = await start(catalog);
    await waitFor('ledger-prod registered', async () => ((await inConsul('ledger-prod')).length === 1 ? true : undefined));
    assert.deepEqual((await inConsul('a-b-c')).map((e) => e.Service.Meta['causeway-service']), ['a-b.c']);
    assert.deepEqual(await inConsul('billing-prod'), []);
    assert.equal(p.lastError(), 'publish: a.b-c is not published: a-b.c is a-b-c in Consul already; billing.prod is not published: Consul already has a service billing-prod of its own');
  });
});
