import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { spawnAgent, spawnGateway, startEchoBackend, type AgentProcess, type GatewayProcess } from '../../gateway/index.js';
import { freePorts } from './ports.js';
import { makeTempDir } from './paths.js';
import { runCli } from './run-cli.js';
import { getJson, waitFor } from './wait-for.js';

/**
 * Two peered gateways and a "VM" for the agent tests and the agent benchmark: cluster-a's
 * gateway (fixed ports, so it can be restarted where the agent expects it) is the one the
 * agent joins; cluster-b runs echo.demo and identifies its local callers by source address.
 * The VM's app (billing.legacy) listens on 127.0.0.1 only, and the agent registers the host
 * as 127.0.0.3 with its inbound listener there — so the gateway can reach the app through the
 * agent's mTLS listener and in no other way.
 */

export const TRUST_A = 'cluster-a.causeway.test';
export const TRUST_B = 'cluster-b.causeway.test';
export const VM_IDENTITY = `spiffe://${TRUST_A}/ns/legacy/sa/billing`;
export const VM_ADDRESS = '127.0.0.3';
export const MESH_PORT = 8080;
/** cluster-b's caller: its own loopback address, so cluster-b's gateway can tell it by source address. */
export const CLIENT_ADDRESS = '127.0.0.4';

export interface VmApp {
  port: number;
  /** The answer the app gives /healthz: flip it to fail the agent's check. */
  healthy: boolean;
  /** Headers of the last request the app served (x-forwarded-client-cert, host). */
  lastHeaders: IncomingHttpHeaders | undefined;
  requests: number;
  close(): Promise<void>;
}

export async function startVmApp(name: string): Promise<VmApp> {
  const app: VmApp = {
    port: 0, healthy: true, lastHeaders: undefined, requests: 0,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server: Server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(app.healthy ? 200 : 503).end();
      return;
    }
    app.requests += 1;
    app.lastHeaders = req.headers;
    const body = JSON.stringify({ service: name, path: req.url, xfcc: req.headers['x-forwarded-client-cert'] ?? null });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  app.port = (server.address() as AddressInfo).port;
  return app;
}

export interface AgentWorld {
  dir: string;
  files: { a: string; b: string };
  a: GatewayProcess;
  b: GatewayProcess;
  vm: VmApp;
  /** A second billing.legacy endpoint in cluster-a's static config (where traffic goes when the VM fails). */
  spare: VmApp;
  echo: Awaited<ReturnType<typeof startEchoBackend>>;
  /** cluster-a's fixed listener ports. */
  portsA: { admin: number; outbound: number; federation: number; eastWest: number; identity: number };
  restartA(): Promise<void>;
  /** Mints a join token on cluster-a's gateway and writes it to a file. */
  joinToken(identity?: string, ttl?: string, agent?: string): Promise<string>;
  /** Writes an agent config (overrides merged over the defaults) and returns its path. */
  agentConfig(name: string, overrides?: Record<string, unknown>): Promise<string>;
  startAgent(configFile: string): Promise<AgentProcess>;
  /** cluster-b's view of billing.legacy's endpoints in cluster-a. */
  billingAtB(): Promise<Array<{ address: string; health: string; ports: Record<string, number> }> | undefined>;
  close(): Promise<void>;
}

interface ServicesAnswer {
  services: Array<{ key: string; clusters: Record<string, { endpoints: Array<{ address: string; health: string; ports: Record<string, number> }> }> }>;
}

export async function startAgentWorld(prefix: string, options: { checkInterval?: string; withSpare?: boolean } = {}): Promise<AgentWorld> {
  const tmp = await makeTempDir(prefix);
  const [admin, outbound, federation, eastWest, identity] = await freePorts(5) as [number, number, number, number, number];
  const portsA = { admin, outbound, federation, eastWest, identity };
  const vm = await startVmApp('billing-vm');
  const spare = await startVmApp('billing-spare');
  const echo = await startEchoBackend('cluster-b');
  const a = {
    cluster: 'cluster-a', trustDomain: TRUST_A, gatewayName: 'gw-a',
    locality: { cloud: 'local', region: 'region-a', zone: 'zone-1' },
    dataDir: path.join(tmp.dir, 'cluster-a'),
    listen: {
      admin: `127.0.0.1:${admin}`, outbound: `127.0.0.1:${outbound}`, federation: `127.0.0.1:${federation}`,
      eastWest: `127.0.0.1:${eastWest}`, identity: `127.0.0.1:${identity}`,
    },
    services: options.withSpare === false ? [] : [{
      name: 'billing', namespace: 'legacy', export: true, ports: [{ name: 'http', port: MESH_PORT, protocol: 'http' }],
      endpoints: [{ address: '127.0.0.1', ports: { http: spare.port }, identity: VM_IDENTITY, kind: 'vm', weight: 1 }],
    }],
    // A short lease, so that a crashed agent's endpoints turn unhealthy within a test's patience.
    agents: { lease: '3s', pingInterval: '1s' },
    access: [{ to: 'billing.legacy', from: [`spiffe://${TRUST_B}/ns/demo/*`] }],
    logLevel: 'debug',
  };
  const b = {
    cluster: 'cluster-b', trustDomain: TRUST_B, gatewayName: 'gw-b',
    locality: { cloud: 'local', region: 'region-b', zone: 'zone-1' },
    dataDir: path.join(tmp.dir, 'cluster-b'),
    listen: { admin: '127.0.0.1:0', outbound: '127.0.0.1:0', federation: '127.0.0.1:0', eastWest: '127.0.0.1:0', identity: '127.0.0.1:0' },
    outbound: { identifyCallersBySourceAddress: true },
    services: [
      {
        name: 'echo', namespace: 'demo', export: true, ports: [{ name: 'http', port: 8080 }],
        endpoints: [{ address: '127.0.0.1', ports: { http: echo.port }, identity: `spiffe://${TRUST_B}/ns/demo/sa/echo`, kind: 'vm' }],
      },
      {
        // The caller on cluster-b's side: a local workload on 127.0.0.1 the gateway vouches for.
        name: 'client', namespace: 'demo', ports: [{ name: 'http', port: 80 }],
        endpoints: [{ address: CLIENT_ADDRESS, ports: { http: 1 }, identity: `spiffe://${TRUST_B}/ns/demo/sa/client`, kind: 'vm' }],
      },
    ],
    access: [{ to: 'echo.demo', from: [`spiffe://${TRUST_A}/ns/legacy/*`] }],
    logLevel: 'info',
  };
  const files = { a: path.join(tmp.dir, 'cluster-a.yaml'), b: path.join(tmp.dir, 'cluster-b.yaml') };
  await writeFile(files.a, stringify(a));
  await writeFile(files.b, stringify(b));
  const spawnOptions = (name: string): Parameters<typeof spawnGateway>[1] => ({ logFile: path.join(tmp.dir, `${name}.log`) });
  const gatewayB = await spawnGateway(files.b, spawnOptions('b'));
  let gatewayA = await spawnGateway(files.a, spawnOptions('a'));
  const minted = await runCli(['peer', 'token', '--config', files.b]);
  if (minted.code !== 0) throw new Error(`peer token: ${minted.stderr}`);
  const added = await runCli(['peer', 'add', minted.stdout.trim(), '--config', files.a]);
  if (added.code !== 0) throw new Error(`peer add: ${added.stderr}`);
  const agents: AgentProcess[] = [];
  let tokens = 0;

  const world: AgentWorld = {
    dir: tmp.dir, files, a: gatewayA, b: gatewayB, vm, spare, echo, portsA,
    async restartA() {
      await world.a.kill();
      gatewayA = await spawnGateway(files.a, spawnOptions('a'));
      world.a = gatewayA;
    },
    async joinToken(forIdentity = VM_IDENTITY, ttl = '10m', agent?: string) {
      const result = await runCli(['token', 'create', '--identity', forIdentity, '--ttl', ttl, ...(agent === undefined ? [] : ['--agent', agent]), '--config', files.a]);
      if (result.code !== 0) throw new Error(`token create: ${result.stderr}`);
      tokens += 1;
      const file = path.join(tmp.dir, `join-token-${tokens}`);
      await writeFile(file, result.stdout.trim(), { mode: 0o600 });
      return file;
    },
    async agentConfig(name, overrides = {}) {
      const config = {
        dataDir: path.join(tmp.dir, `agent-${name}`),
        address: VM_ADDRESS,
        inbound: { listen: `${VM_ADDRESS}:0` },
        outbound: { listen: '127.0.0.1:0', forward: [{ listen: '127.0.0.1:0', service: 'echo.demo:8080' }] },
        services: [{
          // Weighted far above the spare (weight 1), so calls land on the VM while it is healthy.
          name: 'billing', namespace: 'legacy', export: true, weight: 1000,
          ports: [{ name: 'http', port: MESH_PORT, targetPort: vm.port, protocol: 'http' }],
          check: { http: `http://127.0.0.1:${vm.port}/healthz`, interval: options.checkInterval ?? '500ms', timeout: '250ms', healthyThreshold: 1, unhealthyThreshold: 1 },
        }],
        maxBackoff: '1s',
        logLevel: 'debug',
        ...overrides,
      };
      const file = path.join(tmp.dir, `agent-${name}.yaml`);
      await writeFile(file, stringify(config));
      return file;
    },
    async startAgent(configFile) {
      const agent = await spawnAgent(configFile, { logFile: path.join(tmp.dir, `${path.basename(configFile, '.yaml')}.log`) });
      agents.push(agent);
      return agent;
    },
    async billingAtB() {
      const answer = await getJson<ServicesAnswer>(`http://${world.b.listeners.admin}/v1/services`);
      return answer.services.find((s) => s.key === 'billing.legacy')?.clusters['cluster-a']?.endpoints;
    },
    async close() {
      await Promise.all(agents.map((agent) => agent.kill()));
      await Promise.all([world.a.stop(), world.b.stop()]);
      await Promise.all([vm.close(), spare.close(), echo.close()]);
      await tmp.remove();
    },
  };
  // The peering is up once cluster-b sees cluster-a's services (and so the other way round).
  if (options.withSpare !== false) {
    await waitFor('cluster-b to see billing.legacy', async () => ((await world.billingAtB())?.length ?? 0) > 0 ? true : undefined, 30_000);
  }
  return world;
}
