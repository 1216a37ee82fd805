import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { adminRequest, type AdminTarget } from './admin-client.js';
import { spawnAgent, type AgentProcess } from './agent-process.js';
import { DEMO_VM, writeDemoAgentConfig } from './demo-setup.js';

/**
 * The demo's VM, the way docs/vm.md has an operator do it: a legacy app on the host, a join
 * token minted on cluster-a's gateway, an agent config, `causeway agent --config`.
 */

export interface LegacyApp {
  port: number;
  close(): Promise<void>;
}

/**
 * The VM's app (billing.legacy): answers every request with its name and the
 * x-forwarded-client-cert header it got (who the gateway says called), as JSON; 200 on
 * /healthz, which the agent checks. On 127.0.0.1 only: the mesh reaches it through the agent.
 */
export async function startLegacyApp(name: string): Promise<LegacyApp> {
  const server = createServer((req, res) => {
    if (req.url === '/healthz') return void res.writeHead(200).end();
    const body = JSON.stringify({ service: name, path: req.url, xfcc: req.headers['x-forwarded-client-cert'] ?? null });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** Whether this host can listen on `host` (macOS has 127.0.0.1 alone until `ifconfig lo0 alias`). */
async function canListenOn(host: string): Promise<boolean> {
  const server = createTcpServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, host, () => resolve(true));
  });
  if (ok) await new Promise((resolve) => server.close(resolve));
  return ok;
}

export interface DemoVm {
  agent: AgentProcess;
  configFile: string;
  /** From minting the token to the agent running (SVID issued, listeners bound). */
  joinMs: number;
}

/**
 * Mints the VM's one-time join token on cluster-a (for DEMO_VM.identity, host demo-vm),
 * writes the agent config next to the gateways' and starts the agent; resolves once it runs
 * (joined: SVID issued). A string says why the step was skipped.
 */
export async function startDemoVm(dir: string, gatewayA: { target: AdminTarget; outbound: string }, appPort: number, ephemeral: boolean): Promise<DemoVm | string> {
  if (!(await canListenOn(DEMO_VM.address))) {
    return `${DEMO_VM.address} is not a local address here${process.platform === 'darwin' ? ` (sudo ifconfig lo0 alias ${DEMO_VM.address} up)` : ''}`;
  }
  const started = performance.now();
  const { token } = await adminRequest<{ token: string }>(gatewayA.target, 'POST', '/v1/join-tokens', {
    identity: DEMO_VM.identity, ttlSeconds: 600, agent: DEMO_VM.host,
  });
  const tokenFile = path.join(dir, `${DEMO_VM.host}.token`);
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const configFile = await writeDemoAgentConfig(dir, { appPort, joinTokenFile: tokenFile, gatewayOutbound: gatewayA.outbound, ephemeral });
  // Its IPC channel is its lifeline: the agent stops once the demo is gone, however it went.
  const agent = await spawnAgent(configFile, { logFile: path.join(dir, `${DEMO_VM.host}.log`) });
  return { agent, configFile, joinMs: performance.now() - started };
}
