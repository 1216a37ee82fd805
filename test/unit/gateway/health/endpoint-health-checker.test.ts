import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, afterEach, describe, it } from 'node:test';
import {
  Catalog, LocalRegistry, createLogger, endpointKey, isCausewayError, type Endpoint, type Health, type ServiceDeclaration,
} from '../../../../registry/index.js';
import { EndpointHealthChecker } from '../../../../gateway/health/endpoint-health-checker.js';
import {
  DEFAULT_FAILOVER, EMPTY_POLICY_SET, type CompiledHealthCheck, type PolicySet, type PolicySource,
} from '../../../../gateway/policy/policy-set.js';
import { endpoint } from '../../registry/fixtures.js';
import { waitFor } from '../../../helpers/wait-for.js';

const SERVICE = 'pay.prod';

/** A node:http backend whose answer the test sets; counts what it answered, keeps what it was asked. */
interface Backend {
  port: number;
  status: number;
  /** Never answer (accept and hold): a hung backend. */
  hang: boolean;
  answered: Map<number, number>;
  requests: Array<{ method: string | undefined; url: string | undefined; headers: IncomingHttpHeaders }>;
  sockets: Set<Socket>;
  close(): Promise<void>;
}

const backends: Backend[] = [];

async function startBackend(status = 200): Promise<Backend> {
  const sockets = new Set<Socket>();
  const backend: Backend = {
    port: 0, status, hang: false, answered: new Map(), requests: [], sockets,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
  const server: Server = createServer((req, res) => {
    backend.requests.push({ method: req.method, url: req.url, headers: req.headers });
    if (backend.hang) return;
    backend.answered.set(backend.status, (backend.answered.get(backend.status) ?? 0) + 1);
    res.statusCode = backend.status;
    res.end('ok\n');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  backend.port = (server.address() as AddressInfo).port;
  backends.push(backend);
  return backend;
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function healthCheck(overrides: Partial<CompiledHealthCheck> = {}): CompiledHealthCheck {
  return {
    kind: 'http', path: '/healthz', port: undefined, expectStatus: (s) => s >= 200 && s < 400,
    intervalMs: 20, timeoutMs: 500, healthyThreshold: 2, unhealthyThreshold: 3, ...overrides,
  };
}

function policySet(check: CompiledHealthCheck | undefined, version = 1): PolicySet {
  return { ...EMPTY_POLICY_SET, version, failover: new Map([[SERVICE, { ...DEFAULT_FAILOVER, policy: 'FailoverPolicy/pay', healthCheck: check }]]) };
}

/** A PolicySource the test can change, as the policy store would. */
function policySource(initial: PolicySet): PolicySource & { apply(set: PolicySet): void } {
  let current = initial;
  const listeners = new Set<(set: PolicySet) => void>();
  return {
    current: () => current,
    onChange: (listener) => { listeners.add(listener); return () => { listeners.delete(listener); }; },
    apply: (set) => { current = set; for (const l of listeners) l(set); },
  };
}

function declare(endpoints: Endpoint[]): ServiceDeclaration {
  return { name: 'pay', namespace: 'prod', exported: true, ports: [{ name: 'http', port: 80, protocol: 'http' }], endpoints };
}

interface Setup {
  catalog: Catalog;
  registry: LocalRegistry;
  checker: EndpointHealthChecker;
  policies: ReturnType<typeof policySource>;
  logs: Array<Record<string, unknown>>;
  healthOf(port: number): Health | undefined;
  seq(): number;
}

const checkers: EndpointHealthChecker[] = [];

function setup(endpoints: Endpoint[] | ServiceDeclaration, set: PolicySet, options: { maxInFlight?: number; random?: () => number } = {}): Setup {
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({ write(chunk: Buffer, _e, cb) { logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
  const logger = createLogger({ level: 'info', destination });
  const catalog = new Catalog({ localCluster: 'east' });
  const registry = new LocalRegistry({ catalog, version: { epoch: 1, seq: 0 } });
  registry.replaceSource('config', [Array.isArray(endpoints) ? declare(endpoints) : endpoints]);
  const policies = policySource(set);
  const checker = new EndpointHealthChecker({ catalog, registry, policies, logger, random: options.random ?? (() => 0), ...options });
  checkers.push(checker);
  checker.start();
  return {
    catalog, registry, checker, policies, logs,
    healthOf: (port) => catalog.get('east', SERVICE)?.endpoints.find((e) => e.ports.http === port)?.health,
    seq: () => catalog.get('east', SERVICE)?.version.seq ?? 0,
  };
}

const at = (port: number, overrides: Partial<Endpoint> = {}): Endpoint => endpoint('127.0.0.1', 'east', port, overrides);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('EndpointHealthChecker', () => {
  afterEach(async () => {
    await Promise.all(checkers.splice(0).map((c) => c.close()));
  });
  after(async () => {
    await Promise.all(backends.splice(0).map((b) => b.close()));
  });

  it('HTTP: unhealthy after exactly N failures (503), healthy again after exactly M passes; one version per change', async () => {
    const backend = await startBackend(200);
    const t = setup([at(backend.port)], policySet(healthCheck({ unhealthyThreshold: 3, healthyThreshold: 2 })));
    // The verdict is written synchronously when the threshold is reached: count the answers then.
    const answeredAtChange: Array<[Health | undefined, number]> = [];
    t.catalog.onChange(() => answeredAtChange.push([t.healthOf(backend.port), backend.answered.get(backend.status) ?? 0]));
    await waitFor('a few passing checks', () => ((backend.answered.get(200) ?? 0) >= 3 ? true : undefined));
    assert.equal(t.seq(), 1, 'passing checks of a declared-healthy endpoint change nothing');

    backend.status = 503;
    await waitFor('unhealthy', () => (t.healthOf(backend.port) === 'unhealthy' ? true : undefined));
    assert.deepEqual(answeredAtChange, [['unhealthy', 3]]);
    assert.equal(t.seq(), 2);
    const down = t.logs.find((l) => l.msg === 'endpoint unhealthy: HTTP 503');
    assert.ok(down, JSON.stringify(t.logs));
    assert.equal(down.component, 'health');
    assert.equal(down.endpoint, `127.0.0.1:${backend.port}`);
    assert.equal(down.from, 'healthy');
    // Failing on: no version churn while nothing changes.
    const failed = backend.answered.get(503) ?? 0;
    await waitFor('more failing checks', () => ((backend.answered.get(503) ?? 0) >= failed + 5 ? true : undefined));
    assert.equal(t.seq(), 2);
    const status = t.checker.endpointStatus(SERVICE, endpointKey(at(backend.port)));
    assert.equal(status?.observed, 'unhealthy');
    assert.ok((status?.consecutiveFailures ?? 0) >= 8);
    assert.deepEqual({ ok: status?.lastResult?.ok, reason: status?.lastResult?.reason }, { ok: false, reason: 'HTTP 503' });

    backend.status = 200;
    backend.answered.set(200, 0);
    await waitFor('healthy again', () => (t.healthOf(backend.port) === 'healthy' ? true : undefined));
    assert.deepEqual(answeredAtChange, [['unhealthy', 3], ['healthy', 2]]);
    assert.equal(t.seq(), 3);
    assert.ok(t.logs.some((l) => l.msg === 'endpoint healthy: HTTP 200' && l.from === 'unhealthy'));

    const request = backend.requests[0];
    assert.equal(request?.method, 'GET');
    assert.equal(request?.url, '/healthz');
    assert.equal(request?.headers.host, 'pay.prod:80');
    assert.equal(request?.headers['user-agent'], 'causeway-health-check');
    assert.equal(request?.headers.connection, 'close');
  });

  it('HTTP: expectStatus decides what passes, and the named port is the one checked', async () => {
    const main = await startBackend(200);
    const admin = await startBackend(404);
    const withAdminPort = { ...at(main.port), ports: { http: main.port, admin: admin.port } };
    const t = setup(
      { ...declare([withAdminPort]), ports: [{ name: 'http', port: 80, protocol: 'http' }, { name: 'admin', port: 9901, protocol: 'http' }] },
      policySet(healthCheck({ port: 'admin', expectStatus: (s) => s === 404, unhealthyThreshold: 1 })),
    );
    await waitFor('checks on the admin port', () => (admin.requests.length >= 3 ? true : undefined));
    assert.equal(main.requests.length, 0);
    assert.equal(admin.requests[0]?.headers.host, 'pay.prod:9901');
    assert.equal(t.healthOf(main.port), 'healthy');
    admin.status = 200;
    await waitFor('200 fails when only 404 is expected', () => (t.healthOf(main.port) === 'unhealthy' ? true : undefined));
  });

  it('TCP: a closed port becomes unhealthy (connect ECONNREFUSED), an open one stays healthy', async () => {
    const open = await startBackend();
    const closed = await closedPort();
    const t = setup([at(open.port), at(closed)], policySet(healthCheck({ kind: 'tcp', path: undefined, unhealthyThreshold: 2 })));
    await waitFor('the closed port unhealthy', () => (t.healthOf(closed) === 'unhealthy' ? true : undefined));
    assert.equal(t.checker.endpointStatus(SERVICE, endpointKey(at(closed)))?.lastResult?.reason, 'connect ECONNREFUSED');
    assert.ok(t.logs.some((l) => l.msg === 'endpoint unhealthy: connect ECONNREFUSED'));
    await waitFor('passes on the open port', () => ((t.checker.endpointStatus(SERVICE, endpointKey(at(open.port)))?.consecutivePasses ?? 0) >= 3 ? true : undefined));
    assert.equal(t.healthOf(open.port), 'healthy');
    assert.equal(open.requests.length, 0, 'a TCP check sends no request');
    assert.equal(t.seq(), 2);
  });

  it('a hung backend (accepts, never answers) fails by timeout, and its connections are closed', async () => {
    const hung = await startBackend();
    hung.hang = true;
    const t = setup([at(hung.port)], policySet(healthCheck({ timeoutMs: 100, unhealthyThreshold: 2 })));
    const started = Date.now();
    await waitFor('unhealthy by timeout', () => (t.healthOf(hung.port) === 'unhealthy' ? true : undefined));
    assert.ok(Date.now() - started >= 200, 'two timeouts of 100 ms');
    assert.equal(t.checker.endpointStatus(SERVICE, endpointKey(at(hung.port)))?.lastResult?.reason, 'timeout after 100 ms');
    await t.checker.close();
    await waitFor('the checker closed its connections', () => (hung.sockets.size === 0 ? true : undefined), 2_000);
  });

  it('a declared-unhealthy endpoint (drain) stays unhealthy while its checks pass', async () => {
    const backend = await startBackend(200);
    const t = setup([at(backend.port, { health: 'unhealthy' })], policySet(healthCheck()));
    await waitFor('observed healthy', () => (t.checker.endpointStatus(SERVICE, endpointKey(at(backend.port)))?.observed === 'healthy' ? true : undefined));
    assert.equal(t.healthOf(backend.port), 'unhealthy');
    assert.equal(t.seq(), 1, 'no new version');
    assert.ok(t.logs.some((l) => l.msg === 'endpoint healthy: HTTP 200' && l.effective === 'unhealthy'));
    // The source lifts the drain: the observed verdict applies at once.
    t.registry.replaceSource('config', [declare([at(backend.port)])]);
    assert.equal(t.healthOf(backend.port), 'healthy');
  });

  it('policy changes: an unchanged check keeps counting, a changed one restarts, a removed one restores declared health', async () => {
    const backend = await startBackend(503);
    const t = setup([at(backend.port)], policySet(healthCheck({ unhealthyThreshold: 2 })));
    await waitFor('unhealthy', () => (t.healthOf(backend.port) === 'unhealthy' ? true : undefined));
    const id = endpointKey(at(backend.port));

    // The same check recompiled (a new set, new objects): nothing restarts.
    const failures = t.checker.endpointStatus(SERVICE, id)?.consecutiveFailures ?? 0;
    t.policies.apply(policySet(healthCheck({ unhealthyThreshold: 2 }), 2));
    assert.ok((t.checker.endpointStatus(SERVICE, id)?.consecutiveFailures ?? 0) >= failures);

    // A changed check: counting starts over, the verdict so far stands meanwhile.
    t.policies.apply(policySet(healthCheck({ path: '/ready', unhealthyThreshold: 2 }), 3));
    assert.equal(t.checker.endpointStatus(SERVICE, id)?.consecutiveFailures, 0);
    assert.equal(t.healthOf(backend.port), 'unhealthy');
    await waitFor('checks on the new path', () => (backend.requests.some((r) => r.url === '/ready') ? true : undefined));
    const seq = t.seq();

    // Removed: the declared health returns at once (one new version) and checking stops.
    t.policies.apply(policySet(undefined, 4));
    assert.equal(t.healthOf(backend.port), 'healthy');
    assert.equal(t.seq(), seq + 1);
    assert.deepEqual(t.checker.snapshot(), []);
    assert.ok(t.logs.some((l) => l.msg === 'health check removed: declared health restored'));
    await sleep(50);
    const asked = backend.requests.length;
    await sleep(100);
    assert.equal(backend.requests.length, asked, 'no checks after the policy went');
  });

  it('follows the catalog: endpoints added are checked, removed ones and removed services stop', async () => {
    const first = await startBackend(200);
    const second = await startBackend(503);
    const t = setup([at(first.port)], policySet(healthCheck({ unhealthyThreshold: 1 })));
    t.registry.replaceSource('config', [declare([at(first.port), at(second.port)])]);
    await waitFor('the added endpoint unhealthy', () => (t.healthOf(second.port) === 'unhealthy' ? true : undefined));
    assert.equal(t.checker.snapshot()[0]?.endpoints.length, 2);

    t.registry.replaceSource('config', [declare([at(first.port)])]);
    assert.deepEqual(t.checker.snapshot()[0]?.endpoints.map((e) => e.port), [first.port]);
    // Added back: the registry forgot its verdict, so it starts from its declared health.
    t.registry.replaceSource('config', [declare([at(first.port), at(second.port)])]);
    assert.equal(t.healthOf(second.port), 'healthy');

    t.registry.replaceSource('config', []);
    assert.deepEqual(t.checker.snapshot(), []);
    await sleep(50);
    const asked = first.requests.length + second.requests.length;
    await sleep(100);
    assert.equal(first.requests.length + second.requests.length, asked, 'no checks of a removed service');
  });

  it('spreads first checks with jitter and keeps at most maxInFlight checks running', async () => {
    const hung = await Promise.all([1, 2, 3, 4, 5].map(() => startBackend()));
    for (const b of hung) b.hang = true;
    const open = (): number => hung.reduce((n, b) => n + b.sockets.size, 0);
    const asked = (): number => hung.reduce((n, b) => n + b.requests.length, 0);
    let peak = 0;
    const watch = setInterval(() => { peak = Math.max(peak, open()); }, 5);
    try {
      setup(hung.map((b) => at(b.port)), policySet(healthCheck({ timeoutMs: 150, intervalMs: 10 })), { maxInFlight: 2 });
      await waitFor('checks waiting their turn', () => (asked() >= 6 ? true : undefined));
      assert.ok(peak <= 2, `at most 2 connections at once, saw ${peak}`);
    } finally {
      clearInterval(watch);
    }

    const backend = await startBackend(200);
    setup([at(backend.port)], policySet(healthCheck({ intervalMs: 400 })), { random: () => 0.5 });
    await sleep(120);
    assert.equal(backend.requests.length, 0, 'the first check waits half an interval');
    await waitFor('the first check', () => (backend.requests.length > 0 ? true : undefined));
  });

  it('an endpoint without the port the policy names is not checked and keeps its declared health', async () => {
    const backend = await startBackend(503);
    const t = setup([at(backend.port)], policySet(healthCheck({ port: 'admin', unhealthyThreshold: 1 })));
    await waitFor('the reason in status', () => t.checker.endpointStatus(SERVICE, endpointKey(at(backend.port)))?.unchecked);
    assert.equal(t.checker.endpointStatus(SERVICE, endpointKey(at(backend.port)))?.unchecked, 'the service has no port "admin"');
    await sleep(60);
    assert.equal(t.healthOf(backend.port), 'healthy');
    assert.equal(backend.requests.length, 0);
    assert.equal(t.logs.filter((l) => l.msg === 'endpoint cannot be health-checked; its declared health stands').length, 1, 'warned once');
  });

  it('refuses a bad maxInFlight, and start after close', async () => {
    const catalog = new Catalog({ localCluster: 'east' });
    const registry = new LocalRegistry({ catalog });
    const options = { catalog, registry, policies: policySource(EMPTY_POLICY_SET), logger: createLogger({ level: 'silent' }) };
    for (const maxInFlight of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => new EndpointHealthChecker({ ...options, maxInFlight }), (e) => isCausewayError(e, 'CW_CONFIG_INVALID'));
    }
    const checker = new EndpointHealthChecker(options);
    checker.start();
    await checker.close();
    await checker.close();
    assert.throws(() => checker.start(), (e) => isCausewayError(e, 'CW_CLOSED'));
  });
});
