import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import Consul from 'consul';
import { describeError, type ConsulTlsOptions, silentLogger, type CatalogReader, type Logger, type ServiceKey, type ServicePort, type Store } from '../../registry/index.js';
import { servicePatternMatches, type PublishConfig } from '../config/validate-publish.js';
import type { ForwardListeners } from '../dataplane/forward-listeners.js';
import { formatIpAddress } from '../dataplane/mesh-address.js';
import type { PolicyEngine } from '../policy/policy-engine.js';
import { consulServiceName, instanceId, registration, type NodeIdentity, type PublishedHealth, type PublishedInstance } from './consul-registration.js';
import type { ImportGuard } from './import-guard.js';
import { PortAssignments } from './port-assignments.js';

export interface ConsulPublisherOptions {
  /** The Consul entry (`sources.consul[].name`): logs, the data dir file of its port assignments. */
  name: string;
  /** The agent, as the import of the same entry reaches it (HTTPS when `tls` is given). */
  consul: { host: string; port: number; tls?: ConsulTlsOptions; token?: string; datacenter?: string };
  publish: PublishConfig;
  /** The Consul node the services are registered on. */
  node: string;
  /** This gateway's SPIFFE ID (node and service meta). */
  gateway: string;
  catalog: CatalogReader;
  /** The check of a published service port (routeHealth: what a forward port's caller would get). */
  health: (key: ServiceKey, port: ServicePort) => PublishedHealth;
  forwards: ForwardListeners;
  /** Where the port assignments are kept (the data dir's state store). */
  store: Store;
  /** The import of the same datacenter: what it brought in is never published back; nothing is published before its first sync. */
  guard: Pick<ImportGuard, 'importedKeys' | 'synced'>;
  /** More reasons to look again besides catalog changes (gateway liveness, the policy set); each returns its unsubscribe. */
  triggers?: ReadonlyArray<(listener: () => void) => () => void>;
  /** Consul's copy of the node is read again this often, so an instance removed behind our back comes back. Default 30 s. */
  resyncMs?: number;
  /** Changes are gathered this long before Consul is written. Default 100 ms. */
  debounceMs?: number;
  /** Each Consul request gives up after this. Default 10 s. */
  requestTimeoutMs?: number;
  logger?: Logger;
}

/** A service port to publish, before its forward port is known. */
interface Wanted {
  key: ServiceKey;
  port: ServicePort;
}

const BACKOFF_MS = { first: 1000, max: 30_000 };
/** Consul writes in flight at once (and the client's sockets): well under the agent's 200 connections per client. */
const WRITES_IN_FLIGHT = 4;
/** How long close() spends telling Consul the published services are going down. */
const CLOSE_BUDGET_MS = 2000;

/**
 * Publishes federated services into one Consul datacenter as external services, so that
 * Consul-native clients find them (docs/consul.md, "Publish federated services into Consul"):
 * every live service of the local catalog (any cluster) whose key matches `publish.services`,
 * except those the import of the same datacenter brought in, gets one Consul instance per
 * service port on node `node` — at `publish.address` and a forward port from `publish.ports`
 * that is kept in the data dir — with a check this gateway keeps passing or critical, and a
 * forward listener on that port. What Consul has on the node and is no longer published is
 * deregistered: on every change, and against a fresh read of the node at start, after a failed
 * write and every `resyncMs`. Consul is written only when an instance changed.
 */
export class ConsulPublisher {
  private readonly consul: Consul;
  private readonly agent: HttpAgent;
  private readonly logger: Logger;
  private readonly assignments: PortAssignments;
  private readonly identity: NodeIdentity;
  /** What Consul holds on the node as far as we know: instance ID → registration body (JSON). */
  private readonly known = new Map<string, string>();
  /** Our forward listeners: forward port → `<key>:<port>` it serves. */
  private readonly listening = new Map<number, string>();
  private readonly unsubscribe: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private readAgain = true;
  private failures = 0;
  private started = false;
  private closed = false;
  private problems: string | undefined;
  private consulError: string | undefined;

  constructor(private readonly options: ConsulPublisherOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'consul-publish', source: options.name });
    const { consul } = options;
    const tls = consul.tls;
    this.agent = tls === undefined ? new HttpAgent({ keepAlive: true, maxSockets: WRITES_IN_FLIGHT }) : new HttpsAgent({
      keepAlive: true, maxSockets: WRITES_IN_FLIGHT,
      ...(tls.ca === undefined ? {} : { ca: tls.ca }), ...(tls.cert === undefined ? {} : { cert: tls.cert }),
      ...(tls.key === undefined ? {} : { key: tls.key }), ...(tls.serverName === undefined ? {} : { servername: tls.serverName }),
    });
    this.consul = new Consul({
      host: consul.host, port: consul.port, secure: tls !== undefined, agent: this.agent,
      // `timeout` is a default the client applies to every request (lib/utils.js options), though its types leave it out.
      defaults: {
        timeout: options.requestTimeoutMs ?? 10_000,
        ...(consul.token === undefined ? {} : { token: consul.token }), ...(consul.datacenter === undefined ? {} : { dc: consul.datacenter }),
      } as { token?: string; dc?: string },
    });
    this.assignments = new PortAssignments(options.store, `consul-publish-${options.name}`, options.publish.ports, this.logger);
    this.identity = { node: options.node, address: options.publish.address, gateway: options.gateway };
  }

  /** Why the last round could not publish everything, or undefined (shown in the Consul source's status). */
  lastError(): string | undefined {
    const errors = [this.consulError, this.problems].filter((e): e is string => e !== undefined);
    return errors.length === 0 ? undefined : `publish: ${errors.join('; ')}`;
  }

  /** The forward port of each published service port (`<key>:<port>` → port). */
  ports(): ReadonlyMap<string, number> {
    return this.assignments.entries();
  }

  /**
   * Loads the port assignments and opens the forward ports of the services they name that are
   * in the catalog now (clients that still hold an address from Consul reach them at once);
   * publishes once the import has synced, and follows changes from then on.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.assignments.load();
    for (const [target, port] of this.assignments.entries()) {
      const at = target.lastIndexOf(':');
      const key = target.slice(0, at);
      const servicePort = this.options.catalog.resolve(key)?.ports.find((p) => p.port === Number(target.slice(at + 1)));
      if (servicePort !== undefined && this.matches(key)) await this.listen({ key, port: servicePort }, port).catch(() => undefined);
    }
    const look = (): void => this.schedule();
    this.unsubscribe.push(this.options.catalog.onChange(look));
    for (const trigger of this.options.triggers ?? []) this.unsubscribe.push(trigger(look));
    void this.options.guard.synced().then(() => {
      if (this.closed) return;
      this.resync = setInterval(() => {
        this.readAgain = true;
        this.schedule();
      }, this.options.resyncMs ?? 30_000);
      this.resync.unref();
      this.schedule(0);
    });
  }

  /**
   * Stops following changes and tells Consul, within about two seconds, that every published
   * instance is critical (its forward port closes with the gateway); the registrations stay, so
   * a restart does not make the services flap in and out of Consul. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unsubscribe.splice(0)) off();
    clearTimeout(this.timer);
    clearInterval(this.resync);
    // One budget for both: a round held up by an unanswering Consul does not hold the gateway's stop.
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_BUDGET_MS)));
    await Promise.race([this.running, budget]);
    const down = [...this.known.values()].filter((body) => body !== '').map((body) => {
      const parsed = JSON.parse(body) as ReturnType<typeof registration>;
      return this.consul.catalog.register({ ...parsed, check: { ...parsed.check, status: 'critical' as const, notes: 'the Causeway gateway publishing it is stopping' } });
    });
    await Promise.race([Promise.allSettled(down), budget]);
    clearTimeout(timer);
    this.agent.destroy();
  }

  private schedule(delayMs = this.options.debounceMs ?? 100): void {
    if (this.closed || !this.started) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const round = this.round();
      this.running = round.then(() => undefined);
      void round.then((failed) => {
        this.running = undefined;
        if (this.closed) return;
        // A failure is retried with backoff (1 s doubling to 30 s); changes seen meanwhile, at once.
        if (failed) this.schedule(Math.min(BACKOFF_MS.max, BACKOFF_MS.first * 2 ** (this.failures - 1)));
        else if (this.again) this.schedule();
      });
    }, delayMs);
    this.timer.unref();
  }

  /** One reconcile; true when Consul failed (then the node is read afresh next time). Never rejects. */
  private async round(): Promise<boolean> {
    this.again = false;
    try {
      await this.reconcile();
      this.failures = 0;
      this.consulError = undefined;
      return false;
    } catch (err) {
      this.failures += 1;
      this.readAgain = true;
      this.consulError = `Consul at ${formatIpAddress(this.options.consul.host, this.options.consul.port)}: ${describeError(err)}`;
      this.logger.warn({ err: this.consulError, failures: this.failures }, 'publishing into Consul failed; retrying');
      return true;
    }
  }

  private matches(key: ServiceKey): boolean {
    return this.options.publish.services.some((p) => servicePatternMatches(p, key));
  }

  /** The service ports to publish now, and why any matching service is not. */
  private wanted(problems: string[]): Wanted[] {
    const { catalog, guard } = this.options;
    const imported = guard.importedKeys();
    // Consul service names the import found there already: a published name must not join them.
    const native = new Set([...imported].map((k) => k.slice(0, k.indexOf('.'))));
    const byName = new Map<string, ServiceKey>();
    const wanted: Wanted[] = [];
    for (const key of catalog.serviceKeys()) {
      if (!this.matches(key) || imported.has(key)) continue;
      const name = consulServiceName(key);
      const other = byName.get(name);
      if (native.has(name)) problems.push(`${key} is not published: Consul already has a service ${name} of its own`);
      else if (other !== undefined) problems.push(`${key} is not published: ${other} is ${name} in Consul already`);
      else {
        byName.set(name, key);
        for (const port of catalog.resolve(key)?.ports ?? []) wanted.push({ key, port });
      }
    }
    return wanted;
  }

  private async reconcile(): Promise<void> {
    const problems: string[] = [];
    const wanted = this.wanted(problems);
    const targetOf = (w: Wanted): string => `${w.key}:${w.port.port}`;
    const left = new Set(this.assignments.assign(wanted.map(targetOf)));
    if (left.size > 0) {
      const { first, last } = this.options.publish.ports;
      problems.push(`ports ${first}-${last} are all taken (${wanted.length - left.size} published service ports): not published: ${[...left].slice(0, 5).join(', ')}${left.size > 5 ? ` and ${left.size - 5} more` : ''}`);
    }
    // Saved before any port is used, so that a restart cannot hand it to another service.
    await this.assignments.save();

    // Forward ports first: a client that finds an instance in Consul can connect at once.
    const desired = new Map<string, { instance: PublishedInstance; body: string }>();
    for (const w of wanted) {
      const forwardPort = this.assignments.get(targetOf(w));
      if (forwardPort === undefined) continue;
      try {
        await this.listen(w, forwardPort);
      } catch (err) {
        problems.push(`${targetOf(w)} is not published: ${describeError(err)}`);
        continue;
      }
      const instance: PublishedInstance = { id: instanceId(w.key, w.port.port), key: w.key, port: w.port, forwardPort };
      desired.set(instance.id, { instance, body: JSON.stringify(registration(this.identity, instance, this.options.health(w.key, w.port))) });
    }
    this.problems = problems.length === 0 ? undefined : problems.join('; ');
    if (problems.length > 0) this.logger.warn({ problems }, 'some services are not published');

    if (this.readAgain) await this.readNode();
    const changed = [...desired].filter(([id, { body }]) => this.known.get(id) !== body);
    await inParallel(changed, WRITES_IN_FLIGHT, async ([id, { body }]) => {
      await this.consul.catalog.register(JSON.parse(body) as ReturnType<typeof registration>);
      this.known.set(id, body);
      this.logger.debug({ id }, 'registered in Consul');
    });
    await inParallel([...this.known.keys()].filter((id) => !desired.has(id)), WRITES_IN_FLIGHT, async (id) => {
      await this.consul.catalog.deregister({ node: this.identity.node, serviceid: id });
      this.known.delete(id);
      this.logger.info({ id }, 'deregistered from Consul: no longer published');
    });
    // Forward ports last: nothing in Consul points at them any more.
    const used = new Set([...desired.values()].map((d) => d.instance.forwardPort));
    for (const port of [...this.listening.keys()]) {
      if (used.has(port)) continue;
      this.listening.delete(port);
      await this.options.forwards.remove(formatIpAddress(this.identity.address, port));
    }
  }

  /** What Consul has on the node: anything we do not know of is ours to withdraw, anything missing is written again. */
  private async readNode(): Promise<void> {
    const answer = await this.consul.catalog.node.services({ node: this.identity.node }) as { Services?: Record<string, unknown> } | null;
    const present = new Set(Object.keys(answer?.Services ?? {}));
    for (const id of [...this.known.keys()]) if (!present.has(id)) this.known.delete(id);
    for (const id of present) if (!this.known.has(id)) this.known.set(id, '');
    this.readAgain = false;
  }

  /** Makes sure the forward port serves `w` (a reassigned port is closed and opened for its new service). */
  private async listen(w: Wanted, port: number): Promise<void> {
    const target = `${w.key}:${w.port.port}`;
    if (this.listening.get(port) === target) return;
    const address = formatIpAddress(this.identity.address, port);
    if (this.listening.has(port)) {
      this.listening.delete(port);
      await this.options.forwards.remove(address);
    }
    const dot = w.key.indexOf('.');
    await this.options.forwards.add({
      listen: { host: this.identity.address, port },
      service: { key: w.key, name: w.key.slice(0, dot), namespace: w.key.slice(dot + 1), port: w.port.port },
    });
    this.listening.set(port, target);
  }
}

/** Runs `work` on every item, `limit` at a time; once one fails no more start, and the first failure is thrown when the rest have settled. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const lane = async (): Promise<void> => {
    while (failures.length === 0 && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (err) {
        failures.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failures.length > 0) throw failures[0];
}

/**
 * The check of a published service port: the route decision an anonymous caller of this
 * gateway gets — what a Consul-native client gets at its forward port. Passing when it has a
 * candidate (a healthy local endpoint, or a remote cluster with a healthy endpoint behind a
 * gateway that is not dead), critical otherwise, with the decision's reason.
 */
export function routeHealth(engine: PolicyEngine): (key: ServiceKey, port: ServicePort) => PublishedHealth {
  return (key, port) => {
    try {
      const decision = engine.route(engine.caller(undefined), key, port.port, port.protocol === 'tcp' ? 'tcp' : 'stream');
      const n = decision.candidates.length;
      if (n > 0) return { status: 'passing', notes: `reachable through the Causeway federation (${n} route candidate${n === 1 ? '' : 's'})` };
      return { status: 'critical', notes: decision.refusal?.message ?? `${key}:${port.port} has no route` };
    } catch (err) {
      return { status: 'critical', notes: describeError(err) };
    }
  };
}
