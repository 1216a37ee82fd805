// Causeway A → B as a user runs it: two `causeway gateway` processes with their own config
// files and data dirs, peered by a token through B's and A's admin APIs. B owns the backend's
// services: `web.bench` on a port declared `protocol: http`, `raw.bench` on one declared
// `protocol: tcp`, and `grpc.bench` for the gRPC row. A identifies the local caller by its
// source address (127.0.0.1), as the demo does, so B's access policy sees a real identity.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { spawnGateway, validateConfig, type GatewayProcess } from '../../../gateway/index.js';
import { getJson, waitFor } from '../../helpers/wait-for.js';
import { track } from '../processes.js';

export const MESH = {
  http: { host: 'web.bench', port: 8080 },
  tcp: { host: 'raw.bench', port: 9000 },
  grpc: { host: 'grpc.bench', port: 50051 },
} as const;

export interface CausewayPair {
  a: GatewayProcess;
  b: GatewayProcess;
  /** `host:port` of A's outbound listener, where callers send their requests. */
  outbound: string;
  /** The protocol grpc.bench's port was declared with, and why, when it is not `grpc`. */
  grpcPort: { protocol: string; note?: string };
}

const LISTEN = { admin: '127.0.0.1:0', outbound: '127.0.0.1:0', federation: '127.0.0.1:0', eastWest: '127.0.0.1:0', identity: '127.0.0.1:0' };

function configA(dir: string): Record<string, unknown> {
  return {
    cluster: 'bench-a', trustDomain: 'bench-a.causeway.test', gatewayName: 'gw-a',
    locality: { cloud: 'local', region: 'region-a', zone: 'zone-1' },
    dataDir: path.join(dir, 'bench-a'), listen: LISTEN, logLevel: 'warn',
    outbound: { identifyCallersBySourceAddress: true },
    services: [{
      name: 'client', namespace: 'bench', ports: [{ name: 'http', port: 80 }],
      endpoints: [{ address: '127.0.0.1', ports: { http: 1 }, identity: 'spiffe://bench-a.causeway.test/ns/bench/sa/client', kind: 'vm' }],
    }],
  };
}

function configB(dir: string, backendPort: number, grpcBackendPort: number, grpcProtocol: string): Record<string, unknown> {
  const service = (name: string, portName: string, port: number, protocol: string, endpointPort: number): Record<string, unknown> => ({
    name, namespace: 'bench', export: true, ports: [{ name: portName, port, protocol }],
    endpoints: [{ address: '127.0.0.1', ports: { [portName]: endpointPort }, identity: `spiffe://bench-b.causeway.test/ns/bench/sa/${name}`, kind: 'vm' }],
  });
  return {
    cluster: 'bench-b', trustDomain: 'bench-b.causeway.test', gatewayName: 'gw-b',
    locality: { cloud: 'local', region: 'region-b', zone: 'zone-1' },
    dataDir: path.join(dir, 'bench-b'), listen: LISTEN, logLevel: 'warn',
    services: [
      service('web', 'http', MESH.http.port, 'http', backendPort),
      service('raw', 'tcp', MESH.tcp.port, 'tcp', backendPort),
      service('grpc', 'grpc', MESH.grpc.port, grpcProtocol, grpcBackendPort),
    ],
    access: [{ to: '*', from: ['spiffe://bench-a.causeway.test/ns/bench/*'] }],
  };
}

/**
 * gRPC ports are declared `protocol: grpc` where this build's config accepts it; a build
 * that does not yet know the value gets `http`, and the gRPC row says so.
 */
function grpcProtocol(dir: string): { protocol: string; note?: string } {
  try {
    validateConfig(configB(dir, 1, 1, 'grpc'), { file: path.join(dir, 'probe.yaml') });
    return { protocol: 'grpc' };
  } catch (err) {
    return { protocol: 'http', note: `this build's config refuses "protocol: grpc" (${(err as Error).message.split('\n').find((l) => l.includes('protocol')) ?? 'rejected'})` };
  }
}

async function admin(gateway: GatewayProcess, dataDir: string, method: string, pathname: string, body?: unknown): Promise<unknown> {
  const token = (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim();
  const response = await fetch(`http://${gateway.listeners.admin}${pathname}`, {
    method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`${pathname}: ${response.status} ${await response.text()}`);
  return response.json();
}

export async function startCausewayPair(dir: string, backendPort: number, grpcBackendPort: number): Promise<CausewayPair> {
  const grpcPort = grpcProtocol(dir);
  const files = { a: path.join(dir, 'bench-a.yaml'), b: path.join(dir, 'bench-b.yaml') };
  await writeFile(files.a, stringify(configA(dir)));
  await writeFile(files.b, stringify(configB(dir, backendPort, grpcBackendPort, grpcPort.protocol)));
  // CW_BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles both gateways.
  const nodeArgs = (process.env.CW_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const b = track(await spawnGateway(files.b, { logFile: path.join(dir, 'gateway-b.log'), nodeArgs }));
  const a = track(await spawnGateway(files.a, { logFile: path.join(dir, 'gateway-a.log'), nodeArgs }));
  const { token } = (await admin(b, path.join(dir, 'bench-b'), 'POST', '/v1/peering/token', { ttlSeconds: 60 })) as { token: string };
  await admin(a, path.join(dir, 'bench-a'), 'POST', '/v1/peers', { token });
  type Services = { services: Array<{ key: string; clusters: Record<string, { endpoints: unknown[] }> }> };
  await waitFor('bench services of B in A', async () => {
    const { services } = await getJson<Services>(`http://${a.listeners.admin}/v1/services`);
    const seen = ['web.bench', 'raw.bench', 'grpc.bench'].every((key) => (services.find((s) => s.key === key)?.clusters['bench-b']?.endpoints.length ?? 0) > 0);
    return seen ? true : undefined;
  });
  return { a, b, outbound: a.listeners.outbound, grpcPort };
}
