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
 * from cluster-a's demo namespace). Returns the config file paths.
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
    access: [{ to: 'echo.demo', from: ['spiffe://cluster-a.causeway.test/ns/demo/*'] }],
    logLevel: 'info',
  };
  const files = { a: path.join(dir, 'cluster-a.yaml'), b: path.join(dir, 'cluster-b.yaml') };
  await writeFile(files.a, stringify(a));
  await writeFile(files.b, stringify(b));
  return files;
}
