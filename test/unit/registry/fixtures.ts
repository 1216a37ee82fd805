// Test fixtures for registry/ tests: records and declarations with sensible defaults.
import type { Endpoint, Locality, ServiceDeclaration, ServiceRecord } from '../../../registry/index.js';

export function locality(cluster: string, zone = 'z1'): Locality {
  return { cloud: 'aws', region: 'us-east-1', zone, cluster };
}

export function endpoint(address: string, cluster: string, port = 8080, overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    address, ports: { http: port }, locality: locality(cluster), kind: 'pod',
    identity: `spiffe://${cluster}.test/ns/prod/sa/pay`, health: 'healthy', weight: 1, labels: {}, ...overrides,
  };
}

export function record(
  origin: string, name: string, epoch: number, seq: number,
  options: { deleted?: boolean; exported?: boolean; addresses?: string[]; port?: number } = {},
): ServiceRecord {
  const deleted = options.deleted ?? false;
  return {
    origin, name, namespace: 'prod', version: { origin, epoch, seq }, deleted, exported: options.exported ?? true,
    ports: [{ name: 'http', port: options.port ?? 80, protocol: 'http' }],
    endpoints: deleted ? [] : (options.addresses ?? ['10.0.0.1']).map((a) => endpoint(a, origin)),
  };
}

export function declaration(name: string, cluster: string, addresses: string[], exported = false): ServiceDeclaration {
  return {
    name, namespace: 'prod', exported,
    ports: [{ name: 'http', port: 80, protocol: 'http' }],
    endpoints: addresses.map((a) => endpoint(a, cluster)),
  };
}
