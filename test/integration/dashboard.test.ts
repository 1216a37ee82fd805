// The admin dashboard in a real browser (issue 12, item 4): the Debian chromium, driven by
// playwright-core, loads cluster-a's /dashboard/ in a running federation of three in-process
// gateways — a, b and c, each peered with the other two; echo.demo served in b and exported. The
// page must show the three clusters, a's links to b and c, and the service; then requests
// through a's outbound listener must move the page's request counter, read before and after.
// The page's last state is kept as test-results/dashboard.png.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { silentLogger } from '../../registry/index.js';
import { Gateway, parseConfigText, proxyGet, startEchoBackend } from '../../gateway/index.js';
import { inProcessConfig } from '../helpers/in-process-config.js';
import { REPO_ROOT, makeTempDir } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait-for.js';

/** Debian's chromium (scripts/install-test-tools.sh installs it); playwright-core downloads no browser. */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.join(REPO_ROOT, 'test-results', 'dashboard.png');
/** Generous: these bounds catch a hang, they do not measure speed. */
const PAGE_WAIT_MS = 30_000;
const CLUSTERS = ['cluster-a', 'cluster-b', 'cluster-c'] as const;
type Cluster = (typeof CLUSTERS)[number];

describe('the dashboard in a browser, on a three-gateway federation', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let backend: Awaited<ReturnType<typeof startEchoBackend>> | undefined;
  const gateways: Partial<Record<Cluster, Gateway>> = {};
  const tokens: string[] = [];
  let browser: Browser | undefined;
  let page: Page;

  const a = (): Gateway => gateways['cluster-a']!;
  const start = (cluster: Cluster, extra = ''): Promise<Gateway> =>
    Gateway.start(parseConfigText(inProcessConfig(tmp.dir, cluster, extra)), { logger: silentLogger() });
  const peer = async (dialer: Cluster, other: Cluster): Promise<void> => {
    const token = await gateways[other]!.peers.createToken({ ttlSeconds: 600 });
    tokens.push(token);
    await gateways[dialer]!.peers.addPeer(token);
  };
  /** Polls the page until `probe` returns a value. */
  const onPage = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => waitFor(what, probe, PAGE_WAIT_MS, 100);
  /** The named attributes of every element with that test id, space-joined, one string per element. */
  const attributesOf = async (testId: string, ...names: string[]): Promise<string[]> => {
    const items = await page.getByTestId(testId).all();
    return Promise.all(items.map(async (item) => (await Promise.all(names.map((n) => item.getAttribute(n)))).join(' ')));
  };
  const connectionIs = (state: string): Promise<void> =>
    page.getByTestId('connection-state').filter({ hasText: new RegExp(`^${state}$`) }).waitFor();
  const requestCounter = (): Promise<number> => page.getByTestId('total-requests').textContent({ timeout: PAGE_WAIT_MS })
    .then((text) => Number((text ?? '').replace(/\D/g, '')));

  before(async () => {
    // A missing browser fails the test with the reason: a skip here would pass without testing anything.
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: the dashboard test needs Debian's chromium (bash scripts/install-test-tools.sh installs it)`);
    tmp = await makeTempDir('dashboard');
    backend = await startEchoBackend('cluster-b');
    gateways['cluster-a'] = await start('cluster-a');
    gateways['cluster-b'] = await start('cluster-b', `
services:
  - name: echo
    namespace: demo
    export: true
    ports: [{ name: http, port: 8080 }]
    endpoints: [{ address: 127.0.0.1, ports: { http: ${backend.port} }, identity: "spiffe://cluster-b.example.org/ns/demo/sa/echo" }]
access:
  # Callers at a's outbound listener are anonymous (no certificate, no source-address match).
  - { to: echo.demo, from: ["spiffe://cluster-a.example.org/*", anonymous] }
`);
    gateways['cluster-c'] = await start('cluster-c');
    await peer('cluster-a', 'cluster-b');
    await peer('cluster-a', 'cluster-c');
    await peer('cluster-b', 'cluster-c');
    await waitFor('echo.demo of cluster-b in a and c', () =>
      (['cluster-a', 'cluster-c'] as const).every((c) => gateways[c]!.catalog.get('cluster-b', 'echo.demo')?.endpoints.length === 1) ? true : undefined);
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true, timeout: PAGE_WAIT_MS,
      // Root in a container: no user namespace for chromium's sandbox; a small /dev/shm.
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(PAGE_WAIT_MS);
    await page.goto(`http://${a().listeners.admin}/dashboard/`);
  });

  after(async () => {
    await browser?.close();
    await Promise.allSettled(Object.values(gateways).map((g) => g.close()));
    await backend?.close();
    await tmp?.remove();
  });

  it('shows the three clusters, a\'s links to b and c as connected, and the service with its endpoint', async () => {
    await connectionIs('live');
    assert.equal(await page.getByTestId('gateway-identity').textContent(), 'spiffe://cluster-a.example.org/gateway/gw');
    assert.equal(await page.getByTestId('readiness').textContent(), 'ready');
    const nodes = await onPage('three cluster nodes', async () => {
      const names = (await attributesOf('cluster-node', 'data-cluster')).sort();
      return names.length === 3 ? names : undefined;
    });
    assert.deepEqual(nodes, [...CLUSTERS]);
    await onPage('links to b and c, connected', async () => {
      const links = (await attributesOf('peer-link', 'data-peer', 'data-state')).sort();
      return links.join(',') === 'cluster-b connected,cluster-c connected' ? links : undefined;
    });
    const cell = page.locator('[data-testid=service-row][data-service="echo.demo"] [data-testid=service-cell][data-cluster=cluster-b]');
    await cell.filter({ hasText: '1/1' }).waitFor();
    assert.match((await cell.textContent()) ?? '', /^1\/1\s*reachable$/);
  });

  it('moves the request counter with requests through a\'s outbound listener, and shows the edge a → b', async () => {
    const counted = await requestCounter();
    const sent = 5;
    for (let i = 0; i < sent; i++) {
      const answer = await proxyGet(a().listeners.outbound, 'http://echo.demo:8080/dashboard-test', 10_000);
      assert.equal(answer.status, 200, answer.body);
      assert.equal((JSON.parse(answer.body) as { cluster: string }).cluster, 'cluster-b');
    }
    // The page hears of them within a second or so; only a counter that never reaches them fails.
    const moved = await waitFor(`the counter past ${counted} + ${sent}`, async () => {
      const now = await requestCounter();
      return now >= counted + sent ? now : undefined;
    }, PAGE_WAIT_MS, 100);
    assert.ok(moved >= counted + sent, `${counted} → ${moved}`);
    const edge = page.locator('[data-testid=traffic-edge][data-direction=outbound][data-from=cluster-a][data-to=cluster-b][data-service="echo.demo"]');
    await edge.waitFor();
    assert.ok(Number(await edge.getByTestId('edge-rps').textContent()) > 0, 'its rate');
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('carries no secret in the live feed: not the admin token, not a peering token, no private key', async () => {
    const adminToken = (await readFile(path.join(tmp.dir, 'cluster-a', 'admin.token'), 'utf8')).trim();
    tokens.push(await a().peers.createToken({ ttlSeconds: 600 }));
    const ws = new WebSocket(`ws://${a().listeners.admin}/v1/live`, { handshakeTimeout: 10_000 });
    try {
      const [data] = (await once(ws, 'message')) as [Buffer];
      const text = data.toString('utf8');
      assert.deepEqual(Object.keys(JSON.parse(text) as object).sort(), ['services', 'status', 'traffic', 'type']);
      assert.ok(adminToken.length > 0);
      assert.ok(!text.includes(adminToken), 'the admin token');
      for (const token of tokens) {
        // A token is <prefix>.<payload>.<mac>; neither its payload (which holds the secret) nor its MAC may appear.
        for (const part of token.split('.').slice(1)) assert.ok(!text.includes(part), 'a part of a peering token');
      }
      assert.doesNotMatch(text, /PRIVATE KEY/);
    } finally {
      ws.terminate();
    }
  });

  it('shows "disconnected" while the gateway is away, and goes live again when it is back', async () => {
    const admin = a().listeners.admin;
    await a().close();
    await connectionIs('disconnected');
    // The same data dir and admin address: the page's reconnects find it there.
    const config = inProcessConfig(tmp.dir, 'cluster-a').replace('admin: "127.0.0.1:0"', `admin: "${admin}"`);
    assert.ok(config.includes(admin));
    gateways['cluster-a'] = await Gateway.start(parseConfigText(config), { logger: silentLogger() });
    await connectionIs('live');
  });
});
