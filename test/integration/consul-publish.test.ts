import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../registry/index.js';
import { Gateway, loadConfig, parseConfigText } from '../../gateway/index.js';
import { ConsulApiDouble, type CheckServiceNode } from '../doubles/consul-api.js';
import { makeTempDir } from '../helpers/paths.js';
import { portIsFree } from '../helpers/ports.js';
import { getJson, waitFor } from '../helpers/wait-for.js';

const LISTEN = '{ eastWest: "127.0.0.1:0", federation: "127.0.0.1:0", outbound: "127.0.0.1:0", admin: "127.0.0.1:0", identity: "127.0.0.1:0" }';
const TOKEN = 'publish-token';

interface StatusAnswer { sources: Array<{ name: string; synced: boolean; lastError?: string }> }

/** `count` consecutive ports on 127.0.0.1 that are free now (a publish range). */
async function freeRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 30_000 + Math.floor(Math.random() * 25_000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => portIsFree(first + i)));
    if (free.every(Boolean)) return first;
  }
  throw new Error(`no ${count} consecutive free ports`);
}

/**
 * Federated services published into Consul (sources.consul[].publish): B's services, peered
 * into A, appear in A's Consul datacenter as external services at A's forward ports, with a
 * check A keeps; a Consul-native client that reads the address from Consul reaches them; health,
 * removals, a full port range and a restart behave as docs/consul.md says — and the import of
 * the same datacenter and the publisher never feed each other.
 */
describe('Consul publish: federated services as Consul external services', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let consul: ConsulApiDouble;
  let consulBase = '';
  let backend: Server;
  let backendPort = 0;
  let first = 0;
  let bFile = '';
  let a: Gateway | undefined;
  let b: Gateway | undefined;

  const inConsul = async (name: string): Promise<CheckServiceNode[]> => {
    const res = await fetch(`${consulBase}/v1/health/service/${name}`, { headers: { 'x-consul-token': TOKEN } });
    return (await res.json()) as CheckServiceNode[];
  };
  const checkOf = async (name: string): Promise<string | undefined> => (await inConsul(name))[0]?.Checks.find((c) => c.CheckID.startsWith('causeway:'))?.Status;
  const service = (name: string, namespace: string, health = 'healthy'): string => `
  - name: ${name}
    namespace: ${namespace}
    export: true
    ports: [{ name: http, port: 8080, protocol: http }]
    endpoints: [{ address: 127.0.0.1, ports: { http: ${backendPort} }, health: ${health}, identity: "spiffe://cluster-b.example.org/ns/${namespace}/sa/${name}" }]`;
  const writeB = (services: string): Promise<void> => writeFile(bFile, `
cluster: cluster-b
trustDomain: cluster-b.example.org
dataDir: ${path.join(tmp.dir, 'b')}
listen: ${LISTEN}
services:${services}
access:
  - { to: "*", from: ["spiffe://cluster-a.example.org/*", anonymous] }
`);
  const aConfig = (): string => `
cluster: cluster-a
trustDomain: cluster-a.example.org
gatewayName: gw-a
dataDir: ${path.join(tmp.dir, 'a')}
listen: ${LISTEN}
sources:
  consul:
    - name: consul-dc1
      address: "${consulBase.slice('http://'.length)}"
      tokenFile: ${path.join(tmp.dir, 'consul.token')}
      namespace: legacy
      wait: 1s
      publish:
        services: ["billing.prod", "payments.*", "*.legacy"]
        address: 127.0.0.1
        ports: "${first}-${first + 2}"
`;
  const startA = async (): Promise<Gateway> => Gateway.start(parseConfigText(aConfig()), { logger: silentLogger() });

  before(async () => {
    tmp = await makeTempDir('consul-publish');
    consul = new ConsulApiDouble({ jitter: false, token: TOKEN });
    const address = await consul.start();
    consulBase = `http://${address.host}:${address.port}`;
    await writeFile(path.join(tmp.dir, 'consul.token'), `${TOKEN}\n`, { mode: 0o600 });
    // A Consul-native service: A imports it (legacy-api.legacy) and must never publish it back.
    consul.registerService({ node: 'vm-1', address: '10.2.0.1', service: 'legacy-api', port: 9000 });
    // Left on A's node by an earlier run: withdrawn at start.
    consul.registerService({ node: 'causeway-gw-a', address: '127.0.0.1', service: 'old-prod', id: 'causeway-old-prod-80', port: 1 });
    backend = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url, host: req.headers.host }));
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    backendPort = (backend.address() as AddressInfo).port;
    first = await freeRange(3);
    bFile = path.join(tmp.dir, 'b.yaml');
    await writeB(service('billing', 'prod') + service('payments', 'prod') + service('payments', 'staging'));
    b = await Gateway.start(await loadConfig(bFile), { configFile: bFile, logger: silentLogger() });
    a = await startA();
    await a.peers.addPeer(await b.peers.createToken({ ttlSeconds: 600 }));
  });

  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await new Promise((resolve) => backend?.close(resolve));
    await consul?.close();
    await tmp?.remove();
  });

  it('registers each federated service on an external node at a forward port, with a passing check', async () => {
    const entries = await waitFor('billing-prod in Consul, passing', async () => {
      const found = await inConsul('billing-prod');
      return found[0]?.Checks.some((c) => c.Status === 'passing') === true ? found : undefined;
    });
    assert.equal(entries.length, 1);
    const [entry] = entries;
    assert.equal(entry!.Node.Node, 'causeway-gw-a');
    assert.equal(entry!.Node.Address, '127.0.0.1');
    assert.deepEqual([entry!.Node.Meta['external-node'], entry!.Node.Meta['external-probe']], ['true', 'false']);
    assert.equal(entry!.Service.ID, 'causeway-billing-prod-8080');
    assert.equal(entry!.Service.Address, '127.0.0.1');
    assert.ok(entry!.Service.Port >= first && entry!.Service.Port <= first + 2, `port ${entry!.Service.Port} in the range`);
    assert.deepEqual(entry!.Service.Tags, ['http']);
    assert.deepEqual([entry!.Service.Meta['causeway-service'], entry!.Service.Meta['causeway-port'], entry!.Service.Meta['causeway-gateway']],
      ['billing.prod', '8080', a!.identity]);
    await waitFor('payments-prod and payments-staging', async () => ((await inConsul('payments-prod')).length === 1 && (await inConsul('payments-staging')).length === 1 ? true : undefined));
    const ports = [...a!.consulPublishing.list().get('consul-dc1')!.ports().values()].sort();
    assert.deepEqual(ports, [first, first + 1, first + 2], 'one fixed forward port per published service port');
    // Withdrawn at start: what the node held and nothing publishes.
    await waitFor('the stale instance withdrawn', async () => ((await inConsul('old-prod')).length === 0 ? true : undefined));
  });

  it('never publishes what the same datacenter\'s import brought in, nor imports what it published', async () => {
    await waitFor('legacy-api.legacy imported', () => a!.catalog.resolve('legacy-api.legacy'));
    assert.deepEqual(await inConsul('legacy-api-legacy'), []);
    assert.equal(a!.catalog.resolve('billing-prod.legacy'), undefined, 'our own instances are not imported back');
    // The import sees old-prod's withdrawal at its next service-list answer (its watches ask at most once a second).
    await waitFor('only legacy-api.legacy imported', () => (a!.catalog.serviceKeys().filter((k) => k.endsWith('.legacy')).join() === 'legacy-api.legacy' ? true : undefined));
  });

  it('is reached by a Consul-native client at the address and port Consul gives it', async () => {
    const [entry] = (await (await fetch(`${consulBase}/v1/health/service/billing-prod?passing`, { headers: { 'x-consul-token': TOKEN } })).json()) as CheckServiceNode[];
    const answer = await fetch(`http://${entry!.Service.Address}:${entry!.Service.Port}/invoices?id=7`);
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('causeway-route') ?? '', /^remote cluster-b via /);
    assert.deepEqual(await answer.json(), { path: '/invoices?id=7', host: 'billing.prod:8080' });
  });

  it('follows the federated service\'s health: critical with no healthy endpoint, passing again after', async () => {
    await writeB(service('billing', 'prod', 'unhealthy') + service('payments', 'prod') + service('payments', 'staging'));
    await b!.reload();
    await waitFor('billing-prod critical', async () => ((await checkOf('billing-prod')) === 'critical' ? true : undefined));
    assert.match((await inConsul('billing-prod'))[0]!.Checks.find((c) => c.CheckID.startsWith('causeway:'))!.Notes, /no healthy endpoint/);
    assert.equal(await checkOf('payments-prod'), 'passing');
    await writeB(service('billing', 'prod') + service('payments', 'prod') + service('payments', 'staging'));
    await b!.reload();
    await waitFor('billing-prod passing', async () => ((await checkOf('billing-prod')) === 'passing' ? true : undefined));
  });

  it('says in the source status when the port range is full, and deregisters what is no longer published', async () => {
    await writeB(service('billing', 'prod') + service('payments', 'prod') + service('payments', 'staging') + service('payments', 'dev'));
    await b!.reload();
    const status = await waitFor('the range-full error', async () => {
      const source = (await getJson<StatusAnswer>(`http://${a!.listeners.admin}/v1/status`)).sources.find((s) => s.name === 'consul-dc1');
      return source?.lastError?.includes('payments.dev') === true ? source : undefined;
    });
    assert.match(status.lastError ?? '', new RegExp(`publish: ports ${first}-${first + 2} are all taken \\(3 published service ports\\): not published: payments\\.dev:8080`));
    assert.deepEqual(await inConsul('payments-dev'), []);
    const stagingPort = a!.consulPublishing.list().get('consul-dc1')!.ports().get('payments.staging:8080');

    await writeB(service('billing', 'prod') + service('payments', 'prod') + service('payments', 'dev'));
    await b!.reload();
    await waitFor('payments-staging deregistered', async () => ((await inConsul('payments-staging')).length === 0 ? true : undefined));
    const dev = await waitFor('payments-dev published on the port given back', async () => (await inConsul('payments-dev'))[0]);
    assert.equal(dev.Service.Port, stagingPort);
    await waitFor('the error cleared', async () => {
      const source = (await getJson<StatusAnswer>(`http://${a!.listeners.admin}/v1/status`)).sources.find((s) => s.name === 'consul-dc1');
      return source !== undefined && source.lastError === undefined ? true : undefined;
    });
  });

  it('keeps every port across a restart, critical while the gateway is down', async () => {
    const before = new Map(a!.consulPublishing.list().get('consul-dc1')!.ports());
    const billingPort = (await inConsul('billing-prod'))[0]!.Service.Port;
    await a!.close();
    assert.equal(await checkOf('billing-prod'), 'critical', 'a stopping gateway marks what it published critical');
    const saved = JSON.parse(await readFile(path.join(tmp.dir, 'a', 'state', 'consul-publish-consul-dc1.json'), 'utf8')) as { ports: Record<string, number> };
    assert.deepEqual(new Map(Object.entries(saved.ports)), before);
    a = await startA();
    await waitFor('billing-prod passing again', async () => ((await checkOf('billing-prod')) === 'passing' ? true : undefined));
    assert.equal((await inConsul('billing-prod'))[0]!.Service.Port, billingPort);
    assert.deepEqual(new Map(a.consulPublishing.list().get('consul-dc1')!.ports()), before);
    const answer = await fetch(`http://127.0.0.1:${billingPort}/after-restart`);
    assert.equal(answer.status, 200);
  });
});
