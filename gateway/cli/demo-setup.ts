import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';

export interface DemoPorts {
  admin: number;
  outbound: number;
  federation: number;
  eastWest: number;
  identity: number;
}

export const DEMO_PORTS: { a: DemoPorts; b: DemoPorts } = {
  a: { admin: 15000, outbound: 15001, federation: 15012, eastWest: 15443, identity: 15017 },
  b: { admin: 25000, outbound: 25001, federation: 25012, eastWest: 25443, identity: 25017 },
};

/**
 * The demo's "VM": a host of cluster-a that joins with `causeway agent`. Its app listens on
 * 127.0.0.1 only and the agent registers the host as 127.0.0.3, its inbound mTLS listener
 * there — so the gateway reaches the app through the agent and no other way, and 127.0.0.1
 * stays the demo client's address (cluster-a tells its callers apart by source address).
 */
export const DEMO_VM = {
  host: 'demo-vm',
  identity: 'spiffe://cluster-a.causeway.test/ns/legacy/sa/billing',
  address: '127.0.0.3',
  /** The agent's inbound listener (on `address`) and its outbound proxy for the VM's apps (on 127.0.0.1). */
  ports: { inbound: 15006, outbound: 15101 },
} as const;

const EPHEMERAL: DemoPorts = { admin: 0, outbound: 0, federation: 0, eastWest: 0, identity: 0 };

function listen(ports: DemoPorts): Record<string, string> {
  return {
    admin: `127.0.0.1:${ports.admin}`, outbound: `127.0.0.1:${ports.outbound}`,
    federation: `127.0.0.1:${ports.federation}`, eastWest: `127.0.0.1:${ports.eastWest}`, identity: `127.0.0.1:${ports.identity}`,
  };
}

/**
 * Writes the two demo gateway configs: cluster-a (the caller's side, which identifies
 * local callers by source address) and cluster-b (which runs echo.demo and allows callers
 * from cluster-a's demo namespace, and the demo VM's legacy namespace). Returns the config file paths.
 */
export async function writeDemoConfigs(dir: string, backendPort: number, ephemeral: boolean): Promise<{ a: string; b: string }> {
  const a = {
    cluster: 'cluster-a',
    trustDomain: 'cluster-a.causeway.test',
    gatewayName: 'gw-a',
    locality: { cloud: 'local', region: 'region-a', zone: 'zone-1' },
    dataDir: path.join(dir, 'cluster-a'),
    listen: listen(ephemeral ? EPHEMERAL : DEMO_PORTS.a),
    outbound: { identifyCallersBySourceAddress: true },
    // One JSON line per request through cluster-a (docs/observability.md).
    telemetry: { accessLog: { path: path.join(dir, 'cluster-a-access.log') } },
    services: [{
      // The demo's caller: a local workload on 127.0.0.1 whose identity the gateway asserts.
      name: 'client', namespace: 'demo', ports: [{ name: 'http', port: 80 }],
      endpoints: [{ address: '127.0.0.1', ports: { http: 1 }, identity: 'spiffe://cluster-a.causeway.test/ns/demo/sa/client', kind: 'vm' }],
    }],
    logLevel: 'info',
  };
  const b = {
    cluster: 'cluster-b',
    trustDomain: 'cluster-b.causeway.test',
    gatewayName: 'gw-b',
    locality: { cloud: 'local', region: 'region-b', zone: 'zone-1' },
    dataDir: path.join(dir, 'cluster-b'),
    listen: listen(ephemeral ? EPHEMERAL : DEMO_PORTS.b),
    services: [{
      name: 'echo', namespace: 'demo', export: true, ports: [{ name: 'http', port: 8080 }],
      endpoints: [{
        address: '127.0.0.1', ports: { http: backendPort }, identity: 'spiffe://cluster-b.causeway.test/ns/demo/sa/echo', kind: 'vm',
        labels: { version: 'v1' },
      }],
    }],
    access: [{ to: 'echo.demo', from: ['spiffe://cluster-a.causeway.test/ns/demo/*', 'spiffe://cluster-a.causeway.test/ns/legacy/*'] }],
    logLevel: 'info',
  };
  const files = { a: path.join(dir, 'cluster-a.yaml'), b: path.join(dir, 'cluster-b.yaml') };
  await writeFile(files.a, stringify(a));
  await writeFile(files.b, stringify(b));
  return files;
}

/**
 * Writes the demo VM's agent config (docs/vm.md): billing.legacy:8080 served by the app on
 * 127.0.0.1:`appPort`, checked on its /healthz. The gateway's identity listener comes from
 * the join token; its outbound listener is named, since until the first register ack tells
 * it, the agent would try port 15001 (not cluster-a's under --ephemeral-ports). Returns its path.
 */
export async function writeDemoAgentConfig(dir: string, options: {
  appPort: number; joinTokenFile: string; gatewayOutbound: string; ephemeral: boolean;
}): Promise<string> {
  const { appPort } = options;
  const ports = options.ephemeral ? { inbound: 0, outbound: 0 } : DEMO_VM.ports;
  const config = {
    dataDir: path.join(dir, DEMO_VM.host),
    joinTokenFile: options.joinTokenFile,
    gateway: { outbound: options.gatewayOutbound },
    address: DEMO_VM.address,
    inbound: { listen: `${DEMO_VM.address}:${ports.inbound}` },
    outbound: { listen: `127.0.0.1:${ports.outbound}` },
    services: [{
      name: 'billing', namespace: 'legacy', export: true,
      ports: [{ name: 'http', port: 8080, targetPort: appPort, protocol: 'http' }],
      check: { http: `http://127.0.0.1:${appPort}/healthz`, interval: '5s' },
    }],
    logLevel: 'info',
  };
  const file = path.join(dir, `${DEMO_VM.host}.yaml`);
  await writeFile(file, stringify(config));
  return file;
}
