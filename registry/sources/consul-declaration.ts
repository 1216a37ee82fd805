import type { Endpoint, Health, Locality, ServiceDeclaration, ServicePort } from '../model.js';

/** One entry of /v1/health/service/:name (only the fields read here). */
export interface HealthEntry {
  Node?: { Node?: string; Address?: string; Meta?: Record<string, string> | null };
  Service?: { ID?: string; Service?: string; Address?: string; Port?: number; Meta?: Record<string, string> | null; Tags?: string[] | null };
  Checks?: Array<{ Status?: string; ServiceID?: string }>;
}

/** What a Consul service becomes in the mesh. */
export interface DeclarationSettings {
  namespace: string;
  meshPort: number;
  exported: boolean;
  locality: Locality;
  identityTemplate: string;
}

const IP = /^(\d{1,3}\.){3}\d{1,3}$|^[0-9a-fA-F:]+$/;
const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,62})$/;

/**
 * A Consul service's instances as a mesh service: each instance with an IP address and a port is
 * an endpoint, healthy when every one of its checks (the node's included, as Consul counts them)
 * is `passing` — Consul's own `?passing` rule
 * (https://developer.hashicorp.com/consul/api-docs/health#passing).
 */
export function declarationOf(name: string, entries: readonly HealthEntry[], settings: DeclarationSettings): ServiceDeclaration {
  const { namespace, meshPort, locality } = settings;
  const protocols = new Set(entries.map((e) => e.Service?.Meta?.protocol).filter((p): p is string => p !== undefined));
  const protocol = (['http', 'http2', 'grpc', 'tcp'] as const).find((p) => protocols.has(p)) ?? 'http';
  const port: ServicePort = { name: protocol, port: meshPort, protocol };
  const endpoints: Endpoint[] = [];
  for (const entry of entries) {
    const address = entry.Service?.Address !== undefined && entry.Service.Address !== '' ? entry.Service.Address : entry.Node?.Address;
    const instancePort = entry.Service?.Port;
    // Mesh endpoints are IP literals (nothing is ever looked up in DNS).
    if (address === undefined || !IP.test(address) || instancePort === undefined || instancePort < 1 || instancePort > 65535) continue;
    const nodeMeta = entry.Node?.Meta ?? {};
    const checks = entry.Checks ?? [];
    const health: Health = checks.every((c) => c.Status === 'passing') ? 'healthy' : 'unhealthy';
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(entry.Service?.Meta ?? {})) if (LABEL_KEY.test(k) && v.length <= 63) labels[k] = v;
    endpoints.push({
      address, ports: { [port.name]: instancePort }, kind: 'vm', health, weight: 1, labels,
      locality: {
        cloud: nodeMeta['causeway-cloud'] ?? locality.cloud, region: nodeMeta['causeway-region'] ?? locality.region,
        zone: nodeMeta['causeway-zone'] ?? locality.zone, cluster: locality.cluster,
      },
      identity: settings.identityTemplate.replaceAll('{service}', name).replaceAll('{namespace}', namespace),
    });
  }
  return { name, namespace, exported: settings.exported, ports: [port], endpoints };
}
