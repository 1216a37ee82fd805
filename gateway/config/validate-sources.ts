import path from 'node:path';
import { validateKubernetesSource, type KubernetesSourceConfig } from './validate-kubernetes.js';
import { DEFAULT_CONSUL_CONCURRENCY, DEFAULT_CONSUL_RESYNC_MS, NAME_PATTERN } from '../../registry/index.js';
import { parseHostPort, type HostPort } from './address.js';
import { validateConsulTls, type ConsulTlsConfig } from './consul-tls.js';
import { readers, section } from './validate-limits.js';
import { validatePublish, type PublishConfig } from './validate-publish.js';

/** One Consul datacenter to import (`sources.consul[]`, docs/consul.md). */
export interface ConsulSourceConfig {
  name: string;
  address: HostPort;
  /** HTTPS to the agent (`tls: true`, or `tls` as a mapping). */
  tls: boolean;
  /** What HTTPS trusts and presents (all undefined with `tls: true`, unused without TLS). */
  tlsFiles: ConsulTlsConfig;
  /** File holding the ACL token (read at start; a token never sits in the config). */
  tokenFile: string | undefined;
  datacenter: string | undefined;
  namespace: string;
  port: number;
  exported: boolean;
  /** SPIFFE ID of an instance; `{service}` and `{namespace}` are replaced. */
  identity: string;
  waitMs: number;
  /** Reads of /v1/health/service/:name in flight at once. */
  concurrency: number;
  /** Every service read again this often, whatever the watches said. */
  resyncMs: number;
  /** Federated services registered in this datacenter as external services (docs/consul.md); undefined: none. */
  publish?: PublishConfig;
}

export interface SourcesConfig {
  consul: readonly ConsulSourceConfig[];
  /** This cluster's API server (`sources.kubernetes`), when the gateway runs in or next to a Kubernetes cluster. */
  kubernetes: KubernetesSourceConfig | undefined;
}

const CONSUL_FIELDS = ['name', 'address', 'tls', 'tokenFile', 'datacenter', 'namespace', 'port', 'export', 'identity', 'wait', 'concurrency', 'resync', 'publish'] as const;

/** `sources:` — registry sources besides the config's own services (docs/configuration.md). */
export function validateSources(value: unknown, trustDomain: string, configDir: string, errors: string[]): SourcesConfig {
  const raw = section(value, 'sources', ['consul', 'kubernetes'], errors);
  const consul: ConsulSourceConfig[] = [];
  if (raw.consul !== undefined && !Array.isArray(raw.consul)) errors.push('sources.consul: must be a list of Consul datacenters');
  const names = new Set<string>();
  (Array.isArray(raw.consul) ? raw.consul : []).forEach((item: unknown, i) => {
    const at = `sources.consul[${i}]`;
    const entry = section(item, at, CONSUL_FIELDS, errors);
    if (item === undefined || typeof item !== 'object' || item === null) return;
    const { count, ms } = readers(errors);
    const text = (field: string, fallback?: string): string | undefined => {
      const v = entry[field];
      if (v === undefined) return fallback;
      if (typeof v !== 'string' || v === '') {
        errors.push(`${at}.${field}: must be a non-empty string`);
        return fallback;
      }
      return v;
    };
    const flag = (field: string, fallback: boolean): boolean => {
      const v = entry[field];
      if (v === undefined) return fallback;
      if (typeof v !== 'boolean') errors.push(`${at}.${field}: must be true or false`);
      return typeof v === 'boolean' ? v : fallback;
    };
    const name = text('name', `consul-${i}`) ?? `consul-${i}`;
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) errors.push(`${at}.name: "${name.slice(0, 100)}" must be lower-case letters, digits and "-"`);
    if (names.has(name)) errors.push(`${at}.name: "${name}" is used twice`);
    names.add(name);
    const addressText = text('address');
    let address: HostPort = { host: '127.0.0.1', port: 8500 };
    if (addressText === undefined) errors.push(`${at}.address: is required (host:port of a Consul agent's HTTP API, an IP address)`);
    else {
      const parsed = parseHostPort(addressText);
      if (typeof parsed === 'string') errors.push(`${at}.address: ${parsed}`);
      else address = parsed;
    }
    const namespace = text('namespace', 'default') ?? 'default';
    if (!NAME_PATTERN.test(namespace)) errors.push(`${at}.namespace: "${namespace.slice(0, 100)}" is not a DNS-1123 label`);
    const identity = text('identity', `spiffe://${trustDomain}/ns/{namespace}/sa/{service}`) ?? '';
    if (!identity.startsWith(`spiffe://${trustDomain}/`)) {
      errors.push(`${at}.identity: must be a SPIFFE ID of this gateway's trust domain (spiffe://${trustDomain}/...), with {service} and {namespace} placeholders`);
    }
    const tokenFile = text('tokenFile');
    const tls = validateConsulTls(entry.tls, `${at}.tls`, configDir, errors);
    const publish = validatePublish(entry.publish, `${at}.publish`, errors);
    consul.push({
      ...(publish === undefined ? {} : { publish }),
      name, address, tls: tls !== undefined, tlsFiles: tls ?? { caFile: undefined, certFile: undefined, keyFile: undefined, serverName: undefined },
      tokenFile: tokenFile === undefined ? undefined : path.resolve(configDir, tokenFile),
      datacenter: text('datacenter'), namespace,
      port: count(entry.port, `${at}.port`, 80, 1, 65535),
      exported: flag('export', false), identity,
      waitMs: ms(entry.wait, `${at}.wait`, 30_000, 1000, 600_000),
      // Two parked queries plus these reads are the connections held to the agent, under its
      // http_max_conns_per_client (200 by default).
      concurrency: count(entry.concurrency, `${at}.concurrency`, DEFAULT_CONSUL_CONCURRENCY, 1, 64),
      resyncMs: ms(entry.resync, `${at}.resync`, DEFAULT_CONSUL_RESYNC_MS, 10_000, 86_400_000),
    });
  });
  const kubernetes = validateKubernetesSource(raw.kubernetes, configDir, errors);
  if (kubernetes !== undefined && consul.some((c) => c.name === kubernetes.name)) errors.push(`sources.kubernetes.name: "${kubernetes.name}" is a Consul source's name too`);
  return { consul, kubernetes };
}
