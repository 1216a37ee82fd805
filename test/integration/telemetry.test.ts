// Metrics and the access log after a known sequence of calls (issue 12, "Tests that must
// exist"): two gateway processes, callers at A, services at B. Each kind of outcome is sent a
// known number of times — allowed, denied by B's access policy, failed over from A's own dead
// endpoint to B, an upstream error at B — and both gateways' /metrics, read with a Prometheus
// real Prometheus server scraping them, must count exactly that (and pass promtool's lint); the access logs must hold one line per request.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { proxyGet, spawnGateway, startEchoBackend, type GatewayProcess } from '../../gateway/index.js';
import { makeTempDir } from '../helpers/paths.js';
import { PrometheusServer } from '../helpers/prometheus-server.js';
import { runCli } from '../helpers/run-cli.js';
import { waitFor } from '../helpers/wait-for.js';

const CALLER = 'spiffe://cluster-a.causeway.test/ns/demo/sa/client';
const SENT = { allowed: 3, denied: 2, failedOver: 2, upstreamError: 1 } as const;
const EPHEMERAL = { admin: '127.0.0.1:0', outbound: '127.0.0.1:0', federation: '127.0.0.1:0', eastWest: '127.0.0.1:0', identity: '127.0.0.1:0' };

/** A port nothing listens on (bound, then closed): connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function service(name: string, port: number, identity: string, options: { exported?: boolean; address?: string } = {}): Record<string, unknown> {
  return {
    name, namespace: 'demo', export: options.exported ?? true, ports: [{ name: 'http', port: 8080, protocol: 'http' }],
    endpoints: [{ address: options.address ?? '127.0.0.1', ports: { http: port }, identity, kind: 'vm' }],
  };
}

describe('telemetry: metrics and access logs count a known sequence exactly', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let backend: Awaited<ReturnType<typeof startEchoBackend>> | undefined;
  let a: GatewayProcess | undefined;
  let b: GatewayProcess | undefined;
  const logs = { a: '', b: '' };
  const answers: Record<string, number[]> = {};
  let prometheus: PrometheusServer | undefined;

  before(async () => {
    tmp = await makeTempDir('telemetry');
    backend = await startEchoBackend('cluster-b');
    const dead = await closedPort();
    logs.a = path.join(tmp.dir, 'a-access.log');
    logs.b = path.join(tmp.dir, 'b-access.log');
    const files = { a: path.join(tmp.dir, 'a.yaml'), b: path.join(tmp.dir, 'b.yaml') };
    await writeFile(files.a, stringify({
      cluster: 'cluster-a', trustDomain: 'cluster-a.causeway.test', gatewayName: 'gw-a', dataDir: path.join(tmp.dir, 'cluster-a'), listen: EPHEMERAL,
      outbound: { identifyCallersBySourceAddress: true },
      services: [
        { name: 'client', namespace: 'demo', ports: [{ name: 'http', port: 80 }], endpoints: [{ address: '127.0.0.1', ports: { http: 1 }, identity: CALLER, kind: 'vm' }] },
        // A's own endpoint of pay.demo is down: each request fails over to B's. (Not on
        // 127.0.0.1, which callers are identified by: that address is the client's alone.)
        service('pay', dead, 'spiffe://cluster-a.causeway.test/ns/demo/sa/pay', { exported: false, address: '127.0.0.2' }),
      ],
      access: [{ to: 'pay.demo', from: ['spiffe://cluster-a.causeway.test/ns/demo/*'] }],
      telemetry: { accessLog: { path: logs.a } },
    }));
    const identityB = (name: string): string => `spiffe://cluster-b.causeway.test/ns/demo/sa/${name}`;
    await writeFile(files.b, stringify({
      cluster: 'cluster-b', trustDomain: 'cluster-b.causeway.test', gatewayName: 'gw-b', dataDir: path.join(tmp.dir, 'cluster-b'), listen: EPHEMERAL,
      services: [service('echo', backend.port, identityB('echo')), service('pay', backend.port, identityB('pay')),
        service('secret', backend.port, identityB('secret')), service('broken', dead, identityB('broken'))],
      // secret.demo is left out: cross-trust-domain callers are denied by default.
      access: [{ to: 'echo.demo', from: ['spiffe://cluster-a.causeway.test/ns/demo/*'] }, { to: 'pay.demo', from: ['spiffe://cluster-a.causeway.test/ns/demo/*'] },
        { to: 'broken.demo', from: ['spiffe://cluster-a.causeway.test/ns/demo/*'] }],
      telemetry: { accessLog: { path: logs.b } },
    }));
    b = await spawnGateway(files.b, { logFile: path.join(tmp.dir, 'b.log') });
    a = await spawnGateway(files.a, { logFile: path.join(tmp.dir, 'a.log') });
    const token = await runCli(['peer', 'token', '--config', files.b]);
    assert.equal(token.code, 0, token.stderr);
    const added = await runCli(['peer', 'add', token.stdout.trim(), '--config', files.a]);
    assert.equal(added.code, 0, added.stderr);
    await waitFor('A to know B\'s services', async () => ((await proxyGet(a!.listeners.outbound, 'http://echo.demo:8080/warm').catch(() => undefined))?.status === 200 ? true : undefined));
    // The warm-up above is one more allowed request; everything after it is counted from a fresh read.
    const send = async (label: string, url: string, times: number): Promise<void> => {
      answers[label] = [];
      for (let i = 0; i < times; i += 1) answers[label]!.push((await proxyGet(a!.listeners.outbound, url)).status);
    };
    await send('allowed', 'http://echo.demo:8080/ok', SENT.allowed);
    await send('denied', 'http://secret.demo:8080/no', SENT.denied);
    await send('failedOver', 'http://pay.demo:8080/pay', SENT.failedOver);
    await send('upstreamError', 'http://broken.demo:8080/x', SENT.upstreamError);
    prometheus = await PrometheusServer.start(path.join(tmp.dir, 'prometheus'), { a: a.listeners.admin, b: b.listeners.admin });
  });

  after(async () => {
    await prometheus?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await backend?.close();
    await tmp?.remove();
  });

  it('the callers got what the sequence asked for', () => {
    assert.deepEqual(answers, { allowed: [200, 200, 200], denied: [403, 403], failedOver: [200, 200], upstreamError: [502] });
  });

  it('causeway top shows the live edges and totals, once as a table or as JSON; status shows the link\'s lags', async () => {
    const total = SENT.allowed + 1 + SENT.denied + SENT.failedOver + SENT.upstreamError;
    const json = await runCli(['top', '--once', '-o', 'json', '--admin', a!.listeners.admin]);
    assert.equal(json.code, 0, json.stderr);
    const snapshot = JSON.parse(json.stdout) as { totals: { requests: number; denials: number; failovers: number }; edges: Array<{ to: string; service: string }> };
    assert.deepEqual(snapshot.totals, { requests: total, errors: 1, denials: SENT.denied, failovers: SENT.failedOver });
    const screen = await runCli(['top', '--once', '--admin', a!.listeners.admin]);
    assert.equal(screen.code, 0, screen.stderr);
    assert.match(screen.stdout, new RegExp(`^requests ${total} +errors 1 +denials ${SENT.denied} +failovers ${SENT.failedOver}`, 'm'), screen.stdout);
    // Within the 10 s window the edges are listed (a slow machine may have let them age out).
    if (snapshot.edges.length > 0) assert.match(screen.stdout, /^outbound +cluster-a +cluster-b +echo\.demo +\d/m, screen.stdout);
    const bad = await runCli(['top', '--interval', 'soon', '--admin', a!.listeners.admin]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /CW_USAGE.*--interval/);
    const status = await runCli(['status', '--admin', a!.listeners.admin]);
    assert.match(status.stdout, /^peer +cluster-b +cluster-b +connected, last heard \d+ ms ago +replication lag (\d+ ms|-) +ack \d+ ms +unacked \d+ +imported 4 exported 0$/m, status.stdout);
  });

  it('the calling gateway counts each outcome exactly, by caller, destination and cluster', async () => {
    const series = (labels: string): string => `{job="a",direction="outbound",source_identity="${CALLER.slice('spiffe://'.length)}",source_cluster="cluster-a",${labels}}`;
    const requests = (labels: string): string => `sum(causeway_requests_total${series(labels)})`;
    await prometheus!.expect(requests('destination_service="echo.demo",destination_cluster="cluster-b",code="200",outcome="success"'), SENT.allowed + 1);
    await prometheus!.expect(requests('destination_service="secret.demo",code="403",outcome="denied"'), SENT.denied);
    await prometheus!.expect(requests('destination_service="pay.demo",destination_cluster="cluster-b",code="200",outcome="success"'), SENT.failedOver);
    await prometheus!.expect(requests('destination_service="broken.demo",code="502",outcome="error"'), SENT.upstreamError);
    await prometheus!.expect('sum(causeway_requests_total{job="a"})', SENT.allowed + 1 + SENT.denied + SENT.failedOver + SENT.upstreamError);
    await prometheus!.expect('sum(causeway_failovers_total{job="a",destination_service="pay.demo",destination_cluster="cluster-b"})', SENT.failedOver);
    await prometheus!.expect('sum(causeway_failovers_total{job="a"})', SENT.failedOver);
    // The histogram counts every request once, in its +Inf bucket too.
    await prometheus!.expect('sum(causeway_request_duration_seconds_count{job="a",direction="outbound",destination_service="echo.demo",outcome="success"})', SENT.allowed + 1);
    await prometheus!.expect('sum(causeway_request_duration_seconds_bucket{job="a",destination_service="echo.demo",outcome="success",le="+Inf"})', SENT.allowed + 1);
    await prometheus!.expect('sum(causeway_request_duration_seconds_count{job="a"})', SENT.allowed + 1 + SENT.denied + SENT.failedOver + SENT.upstreamError);
    assert.ok((await prometheus!.value('sum(causeway_received_bytes_total{job="a",direction="outbound",destination_service="echo.demo"})') ?? 0) > 0, 'answer bytes are counted');
    await prometheus!.expect('causeway_peer_link_up{job="a",peer="cluster-b"}', 1);
    await prometheus!.expect('causeway_peer_stale{job="a",peer="cluster-b"}', 0);
  });

  it('the serving gateway counts what it served and the denials by rule', async () => {
    const requests = (labels: string): string => `sum(causeway_requests_total{job="b",direction="inbound",source_cluster="cluster-a",destination_cluster="cluster-b",${labels}})`;
    await prometheus!.expect(requests(`destination_service="echo.demo",outcome="success",source_identity="${CALLER.slice('spiffe://'.length)}"`), SENT.allowed + 1);
    await prometheus!.expect(requests('destination_service="pay.demo",outcome="success"'), SENT.failedOver);
    await prometheus!.expect(requests('destination_service="secret.demo",outcome="denied",code="403"'), SENT.denied);
    await prometheus!.expect(requests('destination_service="broken.demo",outcome="error",code="502"'), SENT.upstreamError);
    await prometheus!.expect('sum(causeway_access_denials_total{job="b",rule="default",destination_service="secret.demo"})', SENT.denied);
    await prometheus!.expect('sum(causeway_access_denials_total{job="b"})', SENT.denied);
  });

  it('our metrics pass promtool\'s lint (names, units, help) on both gateways', async () => {
    for (const gateway of [a!, b!]) {
      const text = await (await fetch(`http://${gateway.listeners.admin}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
      // Ours only: prom-client's process metrics include a gauge named nodejs_active_handles_total.
      const ours = text.split('\n').filter((line) => /^(# (HELP|TYPE) )?causeway_/.test(line)).join('\n') + '\n';
      assert.ok(ours.includes('causeway_requests_total'), 'the exposition has our metrics');
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: ours, encoding: 'utf8', timeout: 30_000 });
      assert.equal(lint.error, undefined, `cannot run promtool (scripts/install-test-tools.sh installs it): ${String(lint.error)}`);
      assert.equal(lint.status, 0, `promtool check metrics: ${lint.stdout}${lint.stderr}`);
    }
  });

  it('each gateway\'s access log has one line per request, with who, where and how it ended', async () => {
    const lines = async (file: string): Promise<Array<Record<string, unknown>>> =>
      (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    const total = SENT.allowed + 1 + SENT.denied + SENT.failedOver + SENT.upstreamError;
    const atA = await waitFor('A\'s access log to be written', async () => {
      const found = await lines(logs.a).catch(() => []);
      return found.length >= total ? found : undefined;
    });
    assert.equal(atA.length, total);
    const failedOver = atA.filter((l) => l.target === 'pay.demo:8080');
    assert.equal(failedOver.length, SENT.failedOver);
    for (const line of failedOver) {
      assert.equal(line.source, CALLER);
      assert.equal(line.cluster, 'cluster-b');
      assert.equal(line.failover, true);
      assert.equal(line.status, 200);
      assert.match(String(line.endpoint), /^127\.0\.0\.1:\d+$/);
      assert.equal(typeof line.durationMs, 'number');
    }
    assert.deepEqual(atA.filter((l) => l.outcome === 'denied').map((l) => l.target), ['secret.demo:8080', 'secret.demo:8080']);
    const atB = await waitFor('B\'s access log to be written', async () => {
      const found = await lines(logs.b).catch(() => []);
      return found.length >= total ? found : undefined;
    });
    assert.equal(atB.length, total);
    assert.deepEqual(atB.filter((l) => l.outcome === 'denied').map((l) => l.rule), ['default', 'default']);
  });
});
