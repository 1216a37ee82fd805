import Consul from 'consul';
import { describeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { NAME_PATTERN, type Endpoint, type Health, type Locality, type ServiceDeclaration, type ServicePort } from '../model.js';
import type { Source, SourceSink } from '../catalog-types.js';

export interface ConsulSourceOptions {
  name: string;
  /** The Consul HTTP API (an agent or server), e.g. 127.0.0.1:8500. */
  host: string;
  port: number;
  secure?: boolean;
  /** ACL token (X-Consul-Token). */
  token?: string;
  /** Datacenter to read; default the agent's own. */
  datacenter?: string;
  /** Mesh namespace the imported services go in: `<consul service>.<namespace>`. */
  namespace: string;
  /** Port callers use (`<service>.<namespace>:<port>`); every instance's own port is its endpoint port. */
  meshPort: number;
  /** Whether imported services are exported to peers. */
  exported: boolean;
  /** The gateway's locality: the default of every instance (node meta `causeway-region` etc. override). */
  locality: Locality;
  /** The SPIFFE ID of an instance of `service`: `{service}` and `{namespace}` are replaced. */
  identityTemplate: string;
  /** Blocking query wait. Default 30s (Consul's default is 5m; shorter notices a dead agent sooner). */
  wait?: string;
  logger?: Logger;
}

/** One entry of /v1/health/service/:name (only the fields read here). */
interface HealthEntry {
  Node?: { Node?: string; Address?: string; Meta?: Record<string, string> | null };
  Service?: { ID?: string; Service?: string; Address?: string; Port?: number; Meta?: Record<string, string> | null; Tags?: string[] | null };
  Checks?: Array<{ Status?: string; ServiceID?: string }>;
}

interface WatchHandle {
  end(): void;
  on(event: 'change', listener: (data: unknown) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
}

const IP = /^(\d{1,3}\.){3}\d{1,3}$|^[0-9a-fA-F:]+$/;
const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,62})$/;

/**
 * A Consul datacenter's catalog as a registry source (the Consul bridge, import side): the
 * service list and each service's instances are followed with blocking queries
 * (`index` + `wait`, X-Consul-Index; an index that goes backwards restarts from 0, as the
 * consul client's Watch does, per Consul's blocking-query docs), never by polling. An instance
 * is healthy when every one of its checks is `passing`. Names Consul allows but a mesh name
 * does not (upper case, `_`) are left out and reported in the source's last error.
 */
export class ConsulSource implements Source {
  readonly kind = 'consul';
  private readonly consul: Consul;
  private readonly logger: Logger;
  private sink: SourceSink | undefined;
  private catalogWatch: WatchHandle | undefined;
  private readonly serviceWatches = new Map<string, WatchHandle>();
  /** Services whose first health answer has not come yet (the first sync waits for them). */
  private pending = new Set<string>();
  private firstList = false;
  private resolveSynced: (() => void) | undefined;
  private readonly declared = new Map<string, ServiceDeclaration>();
  private error: string | undefined;
  private closed = false;

  constructor(private readonly options: ConsulSourceOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'consul-source', source: options.name });
    this.consul = new Consul({
      host: options.host, port: options.port, secure: options.secure ?? false,
      defaults: { ...(options.token === undefined ? {} : { token: options.token }), ...(options.datacenter === undefined ? {} : { dc: options.datacenter }) },
    });
  }

  get name(): string {
    return this.options.name;
  }

  lastError(): string | undefined {
    return this.error;
  }

  start(sink: SourceSink): Promise<void> {
    this.sink = sink;
    const synced = new Promise<void>((resolve) => (this.resolveSynced = resolve));
    const watch = this.consul.watch({
      method: this.consul.catalog.service.list,
      options: { wait: this.options.wait ?? '30s' },
    }) as unknown as WatchHandle;
    this.catalogWatch = watch;
    watch.on('change', (data) => this.onServices(data));
    watch.on('error', (err) => this.onError('catalog', err));
    return synced;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.catalogWatch?.end();
    for (const watch of this.serviceWatches.values()) watch.end();
    this.serviceWatches.clear();
    this.sink = undefined;
  }

  private onError(what: string, err: Error): void {
    if (this.closed) return;
    this.error = `${what}: ${describeError(err)}`;
    this.logger.warn({ what, err: this.error }, 'Consul query failed; the watch retries with backoff');
  }

  private onServices(data: unknown): void {
    if (this.closed) return;
    const names = Object.keys(typeof data === 'object' && data !== null ? data : {}).filter((n) => n !== 'consul');
    const usable = names.filter((n) => NAME_PATTERN.test(n));
    const skipped = names.filter((n) => !NAME_PATTERN.test(n));
    this.error = skipped.length === 0 ? undefined : `not imported (not a DNS-1123 label): ${skipped.slice(0, 10).join(', ')}`;
    for (const name of [...this.serviceWatches.keys()]) {
      if (usable.includes(name)) continue;
      this.serviceWatches.get(name)?.end();
      this.serviceWatches.delete(name);
      this.pending.delete(name);
      if (this.declared.delete(name)) this.sink?.remove(this.options.name, `${name}.${this.options.namespace}`);
    }
    for (const name of usable) {
      if (this.serviceWatches.has(name)) continue;
      if (!this.firstList) this.pending.add(name);
      const watch = this.consul.watch({
        method: this.consul.health.service,
        options: { service: name, wait: this.options.wait ?? '30s' },
      }) as unknown as WatchHandle;
      this.serviceWatches.set(name, watch);
      watch.on('change', (entries) => this.onInstances(name, entries));
      watch.on('error', (err) => this.onError(`service ${name}`, err));
    }
    this.firstList = true;
    this.maybeSynced();
  }

  private onInstances(name: string, data: unknown): void {
    if (this.closed || !this.serviceWatches.has(name)) return;
    const entries = Array.isArray(data) ? (data as HealthEntry[]) : [];
    const declaration = this.declarationOf(name, entries);
    const key = `${name}.${this.options.namespace}`;
    try {
      if (declaration.endpoints.length === 0 && !this.declared.has(name)) {
        // Registered but with no usable instance yet: nothing to declare.
      } else {
        this.sink?.upsert(this.options.name, declaration);
        this.declared.set(name, declaration);
      }
    } catch (err) {
      this.error = `service ${name}: ${describeError(err)}`;
      this.logger.warn({ service: key, err: this.error }, 'Consul service not imported');
    }
    this.pending.delete(name);
    this.maybeSynced();
  }

  private maybeSynced(): void {
    if (!this.firstList || this.pending.size > 0 || this.resolveSynced === undefined) return;
    const resolve = this.resolveSynced;
    this.resolveSynced = undefined;
    this.logger.info({ services: this.declared.size }, 'Consul catalog synced');
    resolve();
  }

  private declarationOf(name: string, entries: readonly HealthEntry[]): ServiceDeclaration {
    const { namespace, meshPort, locality } = this.options;
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
        identity: this.options.identityTemplate.replaceAll('{service}', name).replaceAll('{namespace}', namespace),
      });
    }
    return { name, namespace, exported: this.options.exported, ports: [port], endpoints };
  }
}
