import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../registry/index.js';
import { Gateway, parseConfigText } from '../../gateway/index.js';
import type { Explanation } from '../../gateway/policy/explain.js';
import { makeTempDir } from '../helpers/paths.js';
import { getJson, waitFor } from '../helpers/wait-for.js';

/**
 * The access and failover tables of the policy reference, through the real data plane: three
 * in-process gateways on loopback (A calls; B and C serve `payments.prod`), callers at A's
 * outbound listener told apart by source address (127.0.0.x, each a declared local endpoint
 * with its own identity), policies in each gateway's policy directory. Every row is also asked
 * of `GET /v1/explain` on the gateway whose decision it is, and the two must agree.
 */

const TD = { a: 'cluster-a.example.org', b: 'cluster-b.example.org', c: 'cluster-c.example.org' };
const CALLERS = {
  scott: { address: '127.0.0.11', id: `spiffe://${TD.a}/ns/default/sa/scott` },
  web: { address: '127.0.0.12', id: `spiffe://${TD.a}/ns/shop/sa/web` },
  tester: { address: '127.0.0.13', id: `spiffe://${TD.a}/ns/dev/sa/tester` },
  mallory: { address: '127.0.0.14', id: `spiffe://${TD.a}/ns/default/sa/mallory` },
  anonymous: { address: '127.0.0.1', id: undefined },
  localB: { address: '127.0.0.21', id: `spiffe://${TD.b}/ns/prod/sa/ledger` },
} as const;
type CallerName = keyof typeof CALLERS;

interface Seen { cluster: string; endpoint: string; method: string; path: string; xfcc: string | undefined }

function backend(cluster: string, endpoint: string, address = '127.0.0.1'): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const seen: Seen = { cluster, endpoint, method: req.method ?? '', path: req.url ?? '', xfcc: req.headers['x-forwarded-client-cert'] as string | undefined };
      const body = JSON.stringify(seen);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, address, () => resolve({ server, port: (server.address() as AddressInfo).port })));
}

interface Answer { status: number; headers: IncomingHttpHeaders; body: string }

/** One request through an outbound listener from a given source address, on a fresh connection. */
function call(outbound: string, caller: CallerName, method: string, target: string, headers: Record<string, string> = {}): Promise<Answer> {
  const [host, port] = outbound.split(':');
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host, port: Number(port), method, path: target, localAddress: CALLERS[caller].address, agent: false, timeout: 10_000,
      headers: { connection: 'close', ...headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function explainAt(gateway: Gateway, from: string, to: string, method?: string, requestPath?: string): Promise<Explanation> {
  const query = new URLSearchParams({ from, to });
  if (method !== undefined) query.set('method', method);
  if (requestPath !== undefined) query.set('path', requestPath);
  return getJson<Explanation>(`http://${gateway.listeners.admin}/v1/explain?${query.toString()}`);
}

const LISTEN = '{ eastWest: "127.0.0.1:0", federation: "127.0.0.1:0", outbound: "127.0.0.1:0", admin: "127.0.0.1:0", identity: "127.0.0.1:0" }';

describe('policy tables through the real data plane, and explain agreeing with it', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  const servers: Server[] = [];
  const gateways: Gateway[] = [];
  let a: Gateway;
  let b: Gateway;
  let c: Gateway;

  async function start(cluster: 'a' | 'b' | 'c', region: string, services: string, policies: string): Promise<Gateway> {
    const dataDir = path.join(tmp.dir, `cluster-${cluster}`);
    await mkdir(path.join(dataDir, 'policies'), { recursive: true });
    if (policies !== '') await writeFile(path.join(dataDir, 'policies', 'tables.yaml'), policies);
    const gateway = await Gateway.start(parseConfigText(`
cluster: cluster-${cluster}
trustDomain: ${TD[cluster]}
gatewayName: gw
locality: { cloud: test, region: ${region}, zone: z }
dataDir: ${dataDir}
listen: ${LISTEN}
outbound: { identifyCallersBySourceAddress: true }
${services}
`), { logger: silentLogger() });
    gateways.push(gateway);
    return gateway;
  }

  before(async () => {
    tmp = await makeTempDir('policy-tables');
    const b1 = await backend('cluster-b', 'b1');
    const b2 = await backend('cluster-b', 'b2-dev', '127.0.0.2');
    const c1 = await backend('cluster-c', 'c1');
    const ledger = await backend('cluster-b', 'ledger');
    servers.push(b1.server, b2.server, c1.server, ledger.server);
    const callers = (names: CallerName[]): string => names.map((n) => `      - { address: ${CALLERS[n].address}, ports: { http: 1 }, identity: "${CALLERS[n].id}" }`).join('\n');

    b = await start('b', 'us-east-1', `
services:
  - name: payments
    namespace: prod
    export: true
    ports: [{ name: http, port: 80 }]
    endpoints:
      - { address: 127.0.0.1, ports: { http: ${b1.port} }, identity: "spiffe://${TD.b}/ns/prod/sa/payments", labels: { env: prod } }
      - { address: 127.0.0.2, ports: { http: ${b2.port} }, identity: "spiffe://${TD.b}/ns/prod/sa/payments", labels: { env: dev } }
  - name: ledger
    namespace: prod
    export: true
    ports: [{ name: http, port: 80 }]
    endpoints:
      - { address: 127.0.0.1, ports: { http: ${ledger.port} }, identity: "spiffe://${TD.b}/ns/prod/sa/ledger" }
  - name: callers
    namespace: local
    ports: [{ name: http, port: 80 }]
    endpoints:
${callers(['localB'])}
`, `
apiVersion: causeway.dev/v1alpha1
kind: AccessPolicy
metadata: { name: payments }
spec:
  trafficClasses:
    - { name: dev, from: ["spiffe://${TD.a}/ns/dev/*"] }
  rules:
    - { from: ["${CALLERS.scott.id}"], to: [payments.prod] }
    - { from: ["spiffe://${TD.a}/ns/*/sa/web"], to: [payments.prod], methods: [GET], paths: [/public] }
    - { from: ["class:dev"], to: [payments.prod], methods: [GET] }
    - { action: deny, from: ["${CALLERS.scott.id}"], to: [payments.prod], paths: [/admin] }
    - { from: [anonymous, "spiffe://${TD.a}"], to: [ledger.prod], methods: [GET] }
`);
    c = await start('c', 'eu-west-1', `
services:
  - name: payments
    namespace: prod
    export: true
    ports: [{ name: http, port: 80 }]
    endpoints:
      - { address: 127.0.0.1, ports: { http: ${c1.port} }, identity: "spiffe://${TD.c}/ns/prod/sa/payments", labels: { env: prod } }
`, `
apiVersion: causeway.dev/v1alpha1
kind: AccessPolicy
metadata: { name: payments }
spec:
  rules:
    # Allow-listed for no one yet: while the access table runs, only B's verdicts count.
    - { from: ["spiffe://nobody.example.org"], to: [payments.prod] }
`);
    a = await start('a', 'us-east-1', `
services:
  - name: callers
    namespace: local
    ports: [{ name: http, port: 80 }]
    endpoints:
${callers(['scott', 'web', 'tester', 'mallory'])}
`, '');
    for (const remote of [b, c]) await a.peers.addPeer(await remote.peers.createToken({ ttlSeconds: 600 }));
    await waitFor('payments.prod of B and C in A', () => {
      const clusters = a.catalog.resolve('payments.prod')?.clusters;
      return clusters?.has('cluster-b') === true && clusters.has('cluster-c') && a.catalog.gatewaysOf('cluster-c').length > 0 ? true : undefined;
    });
  });

  after(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await Promise.all(servers.map((s) => new Promise((resolve) => { s.close(resolve); s.closeAllConnections(); })));
    await tmp?.remove();
  });

  // caller, method, path, service, expected status at the caller, the rule B's explain cites.
  const ACCESS: Array<[CallerName, string, string, string, number, string | undefined]> = [
    ['scott', 'GET', '/pay', 'payments.prod', 200, 'AccessPolicy/payments rules[0] (allow)'],
    ['scott', 'POST', '/pay', 'payments.prod', 200, 'AccessPolicy/payments rules[0] (allow)'],
    ['scott', 'GET', '/admin/users', 'payments.prod', 403, 'AccessPolicy/payments rules[3] (deny)'],
    ['scott', 'GET', '/public/../admin', 'payments.prod', 403, 'AccessPolicy/payments rules[3] (deny)'],
    ['web', 'GET', '/public/catalog', 'payments.prod', 200, 'AccessPolicy/payments rules[1] (allow)'],
    ['web', 'DELETE', '/public/catalog', 'payments.prod', 403, undefined],
    ['web', 'GET', '/private', 'payments.prod', 403, undefined],
    ['tester', 'GET', '/pay', 'payments.prod', 200, 'AccessPolicy/payments rules[2] (allow)'],
    ['tester', 'POST', '/pay', 'payments.prod', 403, undefined],
    ['mallory', 'GET', '/pay', 'payments.prod', 403, undefined],
    ['anonymous', 'GET', '/pay', 'payments.prod', 403, undefined],
    ['anonymous', 'GET', '/entries', 'ledger.prod', 200, 'AccessPolicy/payments rules[4] (allow)'],
    ['mallory', 'GET', '/entries', 'ledger.prod', 200, 'AccessPolicy/payments rules[4] (allow)'],
    ['mallory', 'POST', '/entries', 'ledger.prod', 403, undefined],
  ];

  it('gives every caller of the access table its verdict, with the original caller at the backend, and explain agrees', async () => {
    for (const [caller, method, requestPath, service, status, rule] of ACCESS) {
      const row = `${caller} ${method} ${service}${requestPath}`;
      // A tries B first (same region); a refusal there moves on to C, which refuses everyone.
      const answer = await call(a.listeners.outbound, caller, method, `http://${service}:80${requestPath}`, { 'x-forwarded-client-cert': 'By=spiffe://forged;URI=spiffe://forged/x' });
      const id = CALLERS[caller].id;
      const verdict = await explainAt(b, id ?? 'anonymous', `${service}:80`, method, requestPath);
      if (status === 200) {
        assert.equal(answer.status, 200, `${row}: ${answer.body}`);
        const seen = JSON.parse(answer.body) as Seen;
        assert.equal(seen.cluster, 'cluster-b', `${row}: served by B`);
        assert.equal(seen.xfcc, id === undefined ? undefined : `By=spiffe://${TD.b}/gateway/gw;URI=${id}`, `${row}: the backend sees the original caller, never the forged header`);
      } else {
        assert.equal(answer.status, 403, `${row}: refused (${answer.body})`);
        assert.equal(answer.headers['causeway-error'], 'CW_ACCESS_DENIED', row);
      }
      assert.equal(verdict.access.allowed, status === 200, `${row}: explain at B says ${verdict.access.reason}`);
      assert.equal(verdict.access.rule, rule, `${row}: explain cites ${String(verdict.access.rule)}`);
    }
  });

  it('allow-lists a service for its own trust domain too, and leaves other services to the default', async () => {
    const listed = await call(b.listeners.outbound, 'localB', 'GET', 'http://payments.prod:80/pay');
    assert.equal(listed.status, 403, listed.body);
    const explained = await explainAt(b, CALLERS.localB.id, 'payments.prod:80', 'GET', '/pay');
    assert.equal(explained.access.allowed, false);
    assert.match(explained.access.reason, /allow-listed/);
    const open = await explainAt(b, `spiffe://${TD.b}/ns/prod/sa/other`, 'ledger.prod:80', 'POST', '/x');
    assert.equal(open.access.allowed, false, 'ledger.prod is allow-listed as well');
  });

  it('routes the failover table as explain says it will', async () => {
    await writeFile(path.join(tmp.dir, 'cluster-c', 'policies', 'tables.yaml'), `
apiVersion: causeway.dev/v1alpha1
kind: AccessPolicy
metadata: { name: payments }
spec:
  rules:
    - { from: ["spiffe://${TD.a}"], to: [payments.prod] }
`);
    await waitFor('C allows A\'s callers', async () => ((await explainAt(c, CALLERS.scott.id, 'payments.prod:80')).access.allowed ? true : undefined));
    const route = (answer: Answer): string => String(answer.headers['causeway-route'] ?? '');
    // Default order: the same region first (B), as explain lists.
    const first = await explainAt(a, CALLERS.scott.id, 'payments.prod:80');
    assert.equal(first.candidates[0]?.cluster, 'cluster-b');
    const viaDefault = await call(a.listeners.outbound, 'scott', 'GET', 'http://payments.prod:80/x');
    assert.match(route(viaDefault), /^remote cluster-b /);

    // A FailoverPolicy naming C first; a class route sending dev to env=dev endpoints only.
    await writeFile(path.join(tmp.dir, 'cluster-a', 'policies', 'tables.yaml'), `
apiVersion: causeway.dev/v1alpha1
kind: AccessPolicy
metadata: { name: classes }
spec:
  trafficClasses:
    - { name: dev, from: ["spiffe://${TD.a}/ns/dev/*"] }
---
apiVersion: causeway.dev/v1alpha1
kind: FailoverPolicy
metadata: { name: payments }
spec:
  service: payments.prod
  targets: [{ cluster: cluster-c }, { cluster: cluster-b }]
  classes:
    - { class: dev, targets: [{ labels: { env: dev } }] }
`);
    await waitFor('A\'s FailoverPolicy in force', async () => ((await explainAt(a, CALLERS.scott.id, 'payments.prod:80')).policy === 'FailoverPolicy/payments' ? true : undefined));
    const targeted = await explainAt(a, CALLERS.scott.id, 'payments.prod:80');
    assert.deepEqual(targeted.candidates.map((x) => x.cluster), ['cluster-c', 'cluster-b']);
    const viaTarget = await call(a.listeners.outbound, 'scott', 'GET', 'http://payments.prod:80/x');
    assert.match(route(viaTarget), /^remote cluster-c /);

    const dev = await explainAt(a, CALLERS.tester.id, 'payments.prod:80');
    assert.deepEqual(dev.caller.classes, ['dev']);
    assert.deepEqual(dev.candidates.map((x) => `${x.cluster} ${x.subset ?? ''}`), ['cluster-b env=dev'], 'only env=dev endpoints serve dev: C has none');
    for (let i = 0; i < 5; i += 1) {
      const viaDev = await call(a.listeners.outbound, 'tester', 'GET', 'http://payments.prod:80/x');
      assert.equal(viaDev.status, 200, viaDev.body);
      assert.equal((JSON.parse(viaDev.body) as Seen).endpoint, 'b2-dev', 'dev traffic never lands on a prod endpoint');
    }
  });
});
