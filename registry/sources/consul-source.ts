import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import Consul from 'consul';
import { describeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { NAME_PATTERN, type Locality, type ServiceDeclaration } from '../model.js';
import type { Source, SourceSink } from '../catalog-types.js';
import { changedServices, checkTable, type CheckTable } from './consul-checks.js';
import { declarationOf, type HealthEntry } from './consul-declaration.js';
import { KeyedWorkQueue } from './keyed-work-queue.js';

/** TLS to the Consul agent (PEM contents, read by the caller). */
export interface ConsulTlsOptions {
  /** CA certificate(s) the agent's certificate must chain to; default the system's. */
  ca?: string | Buffer;
  /** Client certificate and key, for an agent with `verify_incoming`. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** The name the agent's certificate must carry (`server.dc1.consul`); default the address's IP. */
  serverName?: string;
}

export interface ConsulSourceOptions {
  name: string;
  /** The Consul HTTP API (an agent or server), e.g. 127.0.0.1:8500. */
  host: string;
  port: number;
  /** HTTPS; `tls` sets what it trusts and presents. */
  secure?: boolean;
  tls?: ConsulTlsOptions;
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
  /** Reads of /v1/health/service/:name in flight at once. Default 8. */
  concurrency?: number;
  /** Every service is read again this often, whatever the watches saw (ms; 0 = never). Default 5 min. */
  resyncMs?: number;
  /** A watch sends its next blocking query no sooner than this after its last one (ms). Default 1 s. */
  minQueryIntervalMs?: number;
  logger?: Logger;
}

export const DEFAULT_CONSUL_CONCURRENCY = 8;
export const DEFAULT_CONSUL_RESYNC_MS = 5 * 60_000;
/**
 * Consul's blocking-query guidance: rate-limit the loop, because a resource that changes all the
 * time answers every query at once
 * (https://developer.hashicorp.com/consul/api-docs/features/blocking#implementation-details). The
 * check list is such a resource in a large datacenter (every output write moves its index), and
 * each answer is the whole list: one query a second bounds its cost. A change after a quiet spell
 * still answers the parked query at once.
 */
export const DEFAULT_CONSUL_MIN_QUERY_INTERVAL_MS = 1000;
/** A read that is not a blocking query answers at once; this only catches a hung agent. */
const READ_TIMEOUT_MS = 30_000;
/** The two parked blocking queries: the service list and the check list. */
const WATCHES = 2;

interface WatchHandle {
  end(): void;
  on(event: 'change', listener: (data: unknown, res: { headers: Record<string, string | string[] | undefined> }) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  on(event: 'end', listener: () => void): void;
}

type Watched = 'catalog' | 'checks';

/** The bridge's work since it started (status, tests and the bench read it). */
export interface ConsulSourceStats {
  /** Reads of /v1/health/service/:name answered. */
  serviceReads: number;
  /** Times every service was asked for again (first sync, a catalog change no name or tag explains, an index reset, the periodic resync). */
  fullRefreshes: number;
}

/**
 * A Consul datacenter's catalog as a registry source (the Consul bridge, import side), followed
 * with a constant number of blocking queries however many services it holds: one on
 * /v1/catalog/services (names and tags: services added and removed) and one on
 * /v1/health/state/any (every check: whose health changed). Each changed service is then read
 * once, not blocking, from /v1/health/service/:name, a few at a time. A query per service would
 * park one HTTP connection per service, and a Consul agent takes at most
 * `limits.http_max_conns_per_client` (200 by default) from one client IP
 * (https://developer.hashicorp.com/consul/docs/reference/agent/configuration-file/general#http_max_conns_per_client).
 *
 * Blocking queries follow https://developer.hashicorp.com/consul/api-docs/features/blocking
 * (`index` + `wait`, X-Consul-Index; an index that goes backwards restarts from 0, as the consul
 * client's Watch does, and makes this source read every service again). A re-registration with a
 * new address or port changes no check, only the service list's index: an index change that no
 * name or tag difference explains makes it read every service again (coalesced: at most one read
 * per service in flight and one queued), as does a periodic resync. An instance is healthy when
 * every one of its checks is `passing`. Names Consul allows but a mesh name does not (upper case,
 * `_`) are left out and reported in the source's last error.
 */
export class ConsulSource implements Source {
  readonly kind = 'consul';
  private readonly consul: Consul;
  private readonly logger: Logger;
  private readonly queue: KeyedWorkQueue<string>;
  private sink: SourceSink | undefined;
  private readonly watches = new Map<Watched, WatchHandle>();
  private readonly lastIndex = new Map<Watched, number>();
  /** Usable service names of the last catalog answer, with their tags (sorted, joined). */
  private names: Map<string, string> | undefined;
  private checks: CheckTable | undefined;
  /** Nodes of each service's instances, as last read, and the reverse (for node-level checks). */
  private readonly nodesOf = new Map<string, ReadonlySet<string>>();
  private readonly servicesOn = new Map<string, Set<string>>();
  /** Services of the first list whose first read has not answered yet (the first sync waits for them). */
  private pending: Set<string> | undefined;
  private resolveSynced: (() => void) | undefined;
  private readonly declared = new Map<string, ServiceDeclaration>();
  private readonly errors = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly counters: ConsulSourceStats = { serviceReads: 0, fullRefreshes: 0 };
  private closed = false;

  constructor(private readonly options: ConsulSourceOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'consul-source', source: options.name });
    const concurrency = options.concurrency ?? DEFAULT_CONSUL_CONCURRENCY;
    // Sockets for the two parked queries and the reads, kept alive: the source never holds more
    // connections to the agent than this, whatever the catalog's size.
    const maxSockets = WATCHES + concurrency;
    const tls = options.tls ?? {};
    const agent = options.secure === true
      ? new HttpsAgent({
        keepAlive: true, maxSockets,
        ...(tls.ca === undefined ? {} : { ca: tls.ca }), ...(tls.cert === undefined ? {} : { cert: tls.cert }),
        ...(tls.key === undefined ? {} : { key: tls.key }), ...(tls.serverName === undefined ? {} : { servername: tls.serverName }),
      })
      : new HttpAgent({ keepAlive: true, maxSockets });
    this.consul = new Consul({
      host: options.host, port: options.port, secure: options.secure ?? false, agent,
      defaults: { ...(options.token === undefined ? {} : { token: options.token }), ...(options.datacenter === undefined ? {} : { dc: options.datacenter }) },
    });
    this.queue = new KeyedWorkQueue<string>({
      concurrency, run: (name) => this.read(name),
      onFailure: (name, err, retryInMs) => {
        this.errors.set('read', `service ${name}: ${describeError(err)}`);
        this.logger.warn({ service: name, err: describeError(err), retryInMs }, 'Consul service read failed; retrying');
      },
    });
  }

  get name(): string {
    return this.options.name;
  }

  lastError(): string | undefined {
    return this.errors.size === 0 ? undefined : [...this.errors.values()].join('; ');
  }

  stats(): ConsulSourceStats {
    return { ...this.counters };
  }

  start(sink: SourceSink): Promise<void> {
    this.sink = sink;
    const synced = new Promise<void>((resolve) => (this.resolveSynced = resolve));
    const wait = this.options.wait ?? '30s';
    const list = this.paced((opts) => this.consul.catalog.service.list(opts as never));
    const checks = this.paced((opts) => this.consul.health.state(opts as never));
    this.follow('catalog', () => this.consul.watch({ method: list, options: { wait } }), (data, index) => this.onServices(data, index));
    this.follow('checks', () => this.consul.watch({ method: checks, options: { state: 'any', wait } }), (data, index) => this.onChecks(data, index));
    const resyncMs = this.options.resyncMs ?? DEFAULT_CONSUL_RESYNC_MS;
    if (resyncMs > 0) {
      const timer = setInterval(() => this.refreshAll('periodic resync'), resyncMs);
      timer.unref();
      this.timers.add(timer);
    }
    return synced;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const watch of this.watches.values()) watch.end();
    this.watches.clear();
    this.queue.close();
    this.consul.destroy();
    this.sink = undefined;
  }

  /**
   * Follows one endpoint with the client's Watch (blocking queries, backoff on errors). The Watch
   * gives up for good on a 400; the source then starts a new one a little later.
   */
  private follow(what: Watched, open: () => unknown, onChange: (data: unknown, index: number) => void): void {
    if (this.closed) return;
    const watch = open() as WatchHandle;
    this.watches.set(what, watch);
    watch.on('change', (data, res) => {
      if (this.closed) return;
      this.errors.delete(what);
      onChange(data, Number(res.headers['x-consul-index']));
    });
    watch.on('error', (err) => {
      if (this.closed) return;
      this.errors.set(what, `${what === 'catalog' ? '/v1/catalog/services' : '/v1/health/state/any'}: ${describeError(err)}`);
      this.logger.warn({ what, err: describeError(err) }, 'Consul query failed; the watch retries with backoff');
    });
    watch.on('end', () => {
      if (this.closed) return;
      this.logger.warn({ what }, 'Consul watch ended; starting it again in 5 s');
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.follow(what, open, onChange);
      }, 5_000);
      timer.unref();
      this.timers.add(timer);
    });
  }

  /**
   * A watch method that starts a query no sooner than minQueryIntervalMs after the previous one
   * started (the client's Watch asks again at once). After close it sends nothing: the Watch,
   * ended, ignores the rejection.
   */
  private paced(method: (opts: unknown) => Promise<unknown>): (opts: unknown) => Promise<unknown> {
    const interval = this.options.minQueryIntervalMs ?? DEFAULT_CONSUL_MIN_QUERY_INTERVAL_MS;
    let last = -Infinity;
    return async (opts) => {
      const wait = last + interval - performance.now();
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            resolve();
          }, wait);
          timer.unref();
          this.timers.add(timer);
        });
      }
      if (this.closed) throw new Error('source closed');
      last = performance.now();
      return method(opts);
    };
  }

  /** True when X-Consul-Index went backwards (a restored snapshot, a new leader): start over. */
  private wentBack(what: Watched, index: number): boolean {
    const last = this.lastIndex.get(what);
    this.lastIndex.set(what, index);
    return last !== undefined && index < last;
  }

  private onServices(data: unknown, index: number): void {
    const all = Object.entries(typeof data === 'object' && data !== null ? data as Record<string, unknown> : {}).filter(([n]) => n !== 'consul');
    const skipped = all.filter(([n]) => !NAME_PATTERN.test(n)).map(([n]) => n);
    if (skipped.length === 0) this.errors.delete('names');
    else this.errors.set('names', `not imported (not a DNS-1123 label): ${skipped.slice(0, 10).join(', ')}${skipped.length > 10 ? ` and ${skipped.length - 10} more` : ''}`);
    const names = new Map(all.filter(([n]) => NAME_PATTERN.test(n))
      .map(([n, tags]) => [n, Array.isArray(tags) ? tags.map(String).sort().join('\u0000') : '']));
    const before = this.names;
    const previousIndex = this.lastIndex.get('catalog');
    const reset = this.wentBack('catalog', index);
    this.names = names;
    if (before === undefined) {
      this.maybeFirstSync();
      return;
    }
    let explained = false;
    for (const name of before.keys()) {
      if (names.has(name)) continue;
      explained = true;
      this.drop(name);
    }
    for (const [name, tags] of names) {
      if (before.get(name) === tags) continue;
      explained = true;
      if (this.pending !== undefined) this.queue.request(name, true);
    }
    if (reset) this.refreshAll('X-Consul-Index of /v1/catalog/services went backwards');
    else if (!explained && index !== previousIndex) this.refreshAll('/v1/catalog/services changed with no name or tag difference');
    this.maybeSynced();
  }

  private onChecks(data: unknown, index: number): void {
    const table = checkTable(data);
    const before = this.checks;
    const reset = this.wentBack('checks', index);
    this.checks = table;
    if (before === undefined) {
      this.maybeFirstSync();
      return;
    }
    if (reset) {
      this.refreshAll('X-Consul-Index of /v1/health/state/any went backwards');
      return;
    }
    if (this.pending === undefined) return;
    for (const name of changedServices(before, table, (node) => this.servicesOn.get(node) ?? [])) {
      if (this.names?.has(name) === true) this.queue.request(name, true);
    }
  }

  /**
   * Both lists have answered once: read every service. Not before — a change between a read and
   * the first check list would be in neither the read nor any difference of check lists.
   */
  private maybeFirstSync(): void {
    if (this.pending !== undefined || this.names === undefined || this.checks === undefined) return;
    this.pending = new Set(this.names.keys());
    this.refreshAll('first sync');
    this.maybeSynced();
  }

  private refreshAll(why: string): void {
    if (this.closed || this.pending === undefined || this.names === undefined) return;
    this.counters.fullRefreshes += 1;
    this.logger.debug({ why, services: this.names.size }, 'reading every Consul service');
    for (const name of this.names.keys()) this.queue.request(name, false);
  }

  /** A service no longer in the catalog: out of the registry, out of the queue. */
  private drop(name: string): void {
    this.queue.cancel(name);
    this.pending?.delete(name);
    this.indexNodes(name, new Set());
    if (this.declared.delete(name)) this.sink?.remove(this.options.name, `${name}.${this.options.namespace}`);
  }

  private async read(name: string): Promise<void> {
    if (this.closed || this.names?.has(name) !== true) return;
    const data: unknown = await this.consul.health.service({ service: name, timeout: READ_TIMEOUT_MS } as never);
    this.counters.serviceReads += 1;
    this.errors.delete('read');
    // Removed from the catalog while the read was out: its answer is stale.
    if (this.closed || this.names?.has(name) !== true) return;
    this.onInstances(name, Array.isArray(data) ? (data as HealthEntry[]) : []);
  }

  private onInstances(name: string, entries: readonly HealthEntry[]): void {
    this.indexNodes(name, new Set(entries.map((e) => e.Node?.Node).filter((n): n is string => n !== undefined)));
    const { namespace, meshPort, exported, locality, identityTemplate } = this.options;
    const declaration = declarationOf(name, entries, { namespace, meshPort, exported, locality, identityTemplate });
    try {
      // Registered but with no usable instance yet: nothing to declare.
      if (declaration.endpoints.length > 0 || this.declared.has(name)) {
        this.sink?.upsert(this.options.name, declaration);
        this.declared.set(name, declaration);
      }
      this.errors.delete(`service ${name}`);
    } catch (err) {
      this.errors.set(`service ${name}`, `service ${name}: ${describeError(err)}`);
      this.logger.warn({ service: `${name}.${namespace}`, err: describeError(err) }, 'Consul service not imported');
    }
    this.pending?.delete(name);
    this.maybeSynced();
  }

  private indexNodes(name: string, nodes: ReadonlySet<string>): void {
    for (const node of this.nodesOf.get(name) ?? []) {
      if (nodes.has(node)) continue;
      const on = this.servicesOn.get(node);
      on?.delete(name);
      if (on?.size === 0) this.servicesOn.delete(node);
    }
    for (const node of nodes) {
      let on = this.servicesOn.get(node);
      if (on === undefined) this.servicesOn.set(node, (on = new Set()));
      on.add(name);
    }
    if (nodes.size === 0) this.nodesOf.delete(name);
    else this.nodesOf.set(name, nodes);
  }

  private maybeSynced(): void {
    if (this.pending === undefined || this.pending.size > 0 || this.resolveSynced === undefined) return;
    const resolve = this.resolveSynced;
    this.resolveSynced = undefined;
    this.logger.info({ services: this.declared.size, serviceReads: this.counters.serviceReads }, 'Consul catalog synced');
    resolve();
  }
}
