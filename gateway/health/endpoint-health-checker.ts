import {
  CausewayError, ErrorCodes, describeError, endpointKey,
  serviceKey, type CatalogChange, type CatalogReader, type Endpoint, type Logger, type ObservedHealth, type ObservedHealthWriter, type ServiceKey,
  type ServicePort, type ServiceRecord,
} from '../../registry/index.js';
import { formatIpAddress } from '../dataplane/mesh-address.js';
import { failoverOf, type CompiledHealthCheck, type PolicySet, type PolicySource } from '../policy/policy-set.js';
import { probeHttp, probeTcp, type ProbeResult } from './health-probe.js';

export interface EndpointHealthCheckerOptions {
  catalog: CatalogReader;
  /** The writer of the local records (LocalRegistry): verdicts become endpoint health there. */
  registry: ObservedHealthWriter;
  policies: PolicySource;
  logger: Logger;
  now?: () => number;
  /** In [0, 1); spreads the first check of each endpoint over one interval. */
  random?: () => number;
  /** Checks running at once, across every service; the others wait their turn. */
  maxInFlight?: number;
}

export const DEFAULT_MAX_CHECKS_IN_FLIGHT = 64;

/** One endpoint's checks, as the status API shows them. Times are ISO 8601. */
export interface EndpointCheckStatus {
  /** endpointKey: address and ports. */
  endpoint: string;
  address: string;
  /** The endpoint port checked; undefined while the endpoint cannot be checked. */
  port: number | undefined;
  /** The checks' verdict; undefined until a threshold is first reached (declared health stands). */
  observed: ObservedHealth | undefined;
  lastResult: { ok: boolean; reason: string; at: string } | undefined;
  consecutivePasses: number;
  consecutiveFailures: number;
  lastChangeAt: string | undefined;
  /** Why the endpoint is not checked (the policy names a port it lacks); its declared health stands. */
  unchecked: string | undefined;
}

export interface ServiceCheckStatus {
  service: ServiceKey;
  kind: 'http' | 'tcp';
  path: string | undefined;
  port: string | undefined;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  endpoints: EndpointCheckStatus[];
}

interface ServiceChecks {
  key: ServiceKey;
  record: ServiceRecord;
  check: CompiledHealthCheck;
  signature: string;
  endpoints: Map<string, EndpointCheck>;
}

interface EndpointCheck {
  id: string;
  service: ServiceChecks;
  endpoint: Endpoint;
  timer: NodeJS.Timeout | undefined;
  abort: AbortController | undefined;
  stopped: boolean;
  port: number | undefined;
  unchecked: string | undefined;
  passes: number;
  failures: number;
  observed: ObservedHealth | undefined;
  lastResult: { ok: boolean; reason: string; at: number } | undefined;
  lastChangeAt: number | undefined;
}

/**
 * Active health checks of the local cluster's endpoints (issue 9: "active health checks of
 * local endpoints whose results travel to peers with the endpoint records").
 *
 * Every live local service whose FailoverPolicy has a `healthCheck` gets each of its
 * endpoints checked every `intervalMs`, counted from the end of the previous check as Envoy
 * does, the first check spread over one interval so a fleet does not fire at once.
 * Verdicts follow Envoy's thresholds: `unhealthyThreshold` failures in a row make an
 * endpoint unhealthy, `healthyThreshold` passes in a row make it healthy again, and until
 * one of them is first reached its declared health stands. A verdict is written to the local
 * registry's observed-health overlay, so a change is one new version of the service record,
 * which the peer links carry and the data dir keeps; a source's declared `unhealthy` (drain)
 * still wins there.
 */
export class EndpointHealthChecker {
  private readonly catalog: CatalogReader;
  private readonly registry: ObservedHealthWriter;
  private readonly policies: PolicySource;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly maxInFlight: number;
  private readonly services = new Map<ServiceKey, ServiceChecks>();
  private readonly waiting: EndpointCheck[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly unsubscribers: Array<() => void> = [];
  private policySet: PolicySet | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: EndpointHealthCheckerOptions) {
    this.catalog = options.catalog;
    this.registry = options.registry;
    this.policies = options.policies;
    this.log = options.logger.child({ component: 'health' });
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.maxInFlight = options.maxInFlight ?? DEFAULT_MAX_CHECKS_IN_FLIGHT;
    if (!Number.isSafeInteger(this.maxInFlight) || this.maxInFlight < 1) {
      throw new CausewayError(ErrorCodes.CONFIG_INVALID, `maxInFlight: ${String(options.maxInFlight)} must be a positive integer`);
    }
  }

  /** Subscribes to the catalog and the policy source, and checks what they hold now. */
  start(): void {
    if (this.closing !== undefined) throw new CausewayError(ErrorCodes.CLOSED, 'the health checker is closed');
    if (this.policySet !== undefined) return;
    this.policySet = this.policies.current();
    this.unsubscribers.push(this.catalog.onChange((changes) => this.onCatalogChange(changes)));
    this.unsubscribers.push(this.policies.onChange((set) => {
      this.policySet = set;
      const keys = new Set([...this.services.keys(), ...this.localKeys()]);
      for (const key of keys) this.reconcile(key);
    }));
    for (const key of this.localKeys()) this.reconcile(key);
  }

  /**
   * Stops every check: timers cleared, probes aborted (their sockets destroyed) before it
   * resolves. The verdicts stay in the registry, as the last thing this gateway observed.
   * Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
      for (const service of this.services.values()) this.stopService(service);
      this.services.clear();
      this.waiting.length = 0;
      await Promise.all([...this.running]);
    })();
    return this.closing;
  }

  /** Per service and endpoint: the last result, the counts in a row, the last change. */
  snapshot(): ServiceCheckStatus[] {
    return [...this.services.values()].sort((a, b) => (a.key < b.key ? -1 : 1)).map((service) => ({
      service: service.key, kind: service.check.kind, path: service.check.path, port: service.check.port,
      intervalMs: service.check.intervalMs, timeoutMs: service.check.timeoutMs,
      healthyThreshold: service.check.healthyThreshold, unhealthyThreshold: service.check.unhealthyThreshold,
      endpoints: [...service.endpoints.values()].map((check) => this.statusOf(check)),
    }));
  }

  /** One endpoint's checks (by endpointKey), or undefined when it is not checked. */
  endpointStatus(key: ServiceKey, endpointId: string): EndpointCheckStatus | undefined {
    const check = this.services.get(key)?.endpoints.get(endpointId);
    return check === undefined ? undefined : this.statusOf(check);
  }

  private statusOf(check: EndpointCheck): EndpointCheckStatus {
    const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
    const last = check.lastResult;
    return {
      endpoint: check.id, address: check.endpoint.address, port: check.port, observed: check.observed,
      lastResult: last === undefined ? undefined : { ok: last.ok, reason: last.reason, at: iso(last.at) ?? '' },
      consecutivePasses: check.passes, consecutiveFailures: check.failures, lastChangeAt: iso(check.lastChangeAt),
      unchecked: check.unchecked,
    };
  }

  private localKeys(): ServiceKey[] {
    return this.catalog.recordsOf(this.catalog.localCluster).filter((r) => !r.deleted).map((r) => serviceKey(r.name, r.namespace));
  }

  private onCatalogChange(changes: readonly CatalogChange[]): void {
    const keys = new Set<ServiceKey>();
    for (const { record } of changes) if (record.origin === this.catalog.localCluster) keys.add(serviceKey(record.name, record.namespace));
    for (const key of keys) this.reconcile(key);
  }

  /** Brings one service's checks in line with its record and its policy. Cheap when nothing changed. */
  private reconcile(key: ServiceKey): void {
    if (this.closing !== undefined || this.policySet === undefined) return;
    const record = this.catalog.get(this.catalog.localCluster, key);
    const check = record === undefined || record.deleted ? undefined : failoverOf(this.policySet, key).healthCheck;
    let service = this.services.get(key);
    if (record === undefined || record.deleted || check === undefined) {
      if (service === undefined) return;
      this.stopService(service);
      this.services.delete(key);
      // No check any more: the declared health returns (for a removed service the registry
      // has forgotten the verdicts itself, and this is a no-op).
      this.writeVerdict(() => this.registry.clearObservedHealth(key), key);
      this.log.info({ service: key }, record === undefined || record.deleted ? 'service gone: its health checks stopped' : 'health check removed: declared health restored');
      return;
    }
    const signature = signatureOf(check);
    const previous = service !== undefined && service.signature !== signature ? service : undefined;
    if (previous !== undefined) {
      // A changed check starts counting again; the verdicts so far stand until the new
      // checks reach a threshold (rather than flapping to the declared health meanwhile).
      this.stopService(previous);
      service = undefined;
      this.log.info({ service: key, check: describeCheck(check) }, 'health check changed: checks restarted');
    }
    if (service === undefined) {
      service = { key, record, check, signature, endpoints: new Map() };
      this.services.set(key, service);
      if (previous === undefined) this.log.info({ service: key, check: describeCheck(check) }, 'health checks started');
    }
    service.record = record;
    service.check = check;
    const present = new Set<string>();
    for (const endpoint of record.endpoints) {
      const id = endpointKey(endpoint);
      present.add(id);
      const held = service.endpoints.get(id);
      if (held !== undefined) {
        held.endpoint = endpoint;
        continue;
      }
      const carried = previous?.endpoints.get(id);
      const fresh: EndpointCheck = {
        id, service, endpoint, timer: undefined, abort: undefined, stopped: false, port: undefined, unchecked: undefined,
        passes: 0, failures: 0, observed: carried?.observed, lastResult: undefined, lastChangeAt: carried?.lastChangeAt,
      };
      service.endpoints.set(id, fresh);
      this.schedule(fresh, Math.floor(this.random() * check.intervalMs));
    }
    for (const [id, held] of service.endpoints) {
      if (present.has(id)) continue;
      this.stopEndpoint(held);
      service.endpoints.delete(id);
    }
  }

  private stopService(service: ServiceChecks): void {
    for (const check of service.endpoints.values()) this.stopEndpoint(check);
  }

  private stopEndpoint(check: EndpointCheck): void {
    check.stopped = true;
    clearTimeout(check.timer);
    check.timer = undefined;
    check.abort?.abort();
  }

  private schedule(check: EndpointCheck, delayMs: number): void {
    check.timer = setTimeout(() => {
      check.timer = undefined;
      if (this.running.size < this.maxInFlight) this.run(check);
      else this.waiting.push(check);
    }, delayMs);
    check.timer.unref();
  }

  private run(check: EndpointCheck): void {
    const abort = new AbortController();
    check.abort = abort;
    const done = this.probe(check, abort.signal).then((result) => {
      check.abort = undefined;
      if (check.stopped || this.closing !== undefined) return;
      if (result !== undefined) this.record(check, result);
      this.schedule(check, check.service.check.intervalMs);
    }, (err: unknown) => {
      // A probe settles with a result, never rejects; this is a bug, and the endpoint keeps being checked.
      this.log.error({ service: check.service.key, err: describeError(err) }, 'a health check failed unexpectedly');
      if (!check.stopped && this.closing === undefined) this.schedule(check, check.service.check.intervalMs);
    }).finally(() => {
      this.running.delete(done);
      this.next();
    });
    this.running.add(done);
  }

  /** Starts waiting checks while there is room. */
  private next(): void {
    while (this.running.size < this.maxInFlight && this.closing === undefined) {
      const check = this.waiting.shift();
      if (check === undefined) return;
      if (!check.stopped) this.run(check);
    }
  }

  /** One check of one endpoint; undefined when the endpoint cannot be checked at all. */
  private async probe(check: EndpointCheck, signal: AbortSignal): Promise<ProbeResult | undefined> {
    const { record, check: policy } = check.service;
    const target = portToCheck(policy, record.ports, check.endpoint);
    if (typeof target === 'string') {
      this.markUnchecked(check, target);
      return undefined;
    }
    check.port = target.port;
    check.unchecked = undefined;
    const at = { address: check.endpoint.address, port: target.port, timeoutMs: policy.timeoutMs, signal };
    if (policy.kind === 'tcp') return probeTcp(at);
    return probeHttp({
      ...at, path: policy.path ?? '/', host: `${record.name}.${record.namespace}:${target.servicePort}`, expectStatus: policy.expectStatus,
    });
  }

  /**
   * The policy names a port this endpoint lacks: a mistake in the policy, not a failing
   * endpoint, so it takes no endpoint down; its declared health stands and the status says why.
   */
  private markUnchecked(check: EndpointCheck, reason: string): void {
    if (check.unchecked !== reason) {
      this.log.warn({ service: check.service.key, endpoint: check.endpoint.address, reason }, 'endpoint cannot be health-checked; its declared health stands');
    }
    check.unchecked = reason;
    check.port = undefined;
    check.passes = 0;
    check.failures = 0;
    if (check.observed !== undefined) {
      check.observed = undefined;
      check.lastChangeAt = this.now();
      this.writeVerdict(() => this.registry.setObservedHealth(check.service.key, check.id, undefined), check.service.key);
    }
  }

  /** Counts a result in a row and writes a verdict when a threshold is reached (Envoy semantics). */
  private record(check: EndpointCheck, result: ProbeResult): void {
    const policy = check.service.check;
    check.lastResult = { ...result, at: this.now() };
    if (result.ok) {
      check.passes += 1;
      check.failures = 0;
    } else {
      check.failures += 1;
      check.passes = 0;
    }
    const verdict: ObservedHealth | undefined = result.ok
      ? (check.passes >= policy.healthyThreshold ? 'healthy' : undefined)
      : (check.failures >= policy.unhealthyThreshold ? 'unhealthy' : undefined);
    if (verdict === undefined || verdict === check.observed) return;
    const from = check.observed ?? check.endpoint.health;
    check.observed = verdict;
    check.lastChangeAt = check.lastResult.at;
    const key = check.service.key;
    this.writeVerdict(() => this.registry.setObservedHealth(key, check.id, verdict), key);
    const effective = this.catalog.get(this.catalog.localCluster, key)?.endpoints.find((e) => endpointKey(e) === check.id)?.health;
    const endpoint = check.port === undefined ? check.endpoint.address : formatIpAddress(check.endpoint.address, check.port);
    this.log.info({
      service: key, endpoint, from, to: verdict, reason: result.reason,
      ...(effective !== undefined && effective !== verdict ? { effective, note: 'declared unhealthy by its source (drain), which wins' } : {}),
    }, `endpoint ${verdict}: ${result.reason}`);
  }

  private writeVerdict(write: () => boolean, key: ServiceKey): void {
    try {
      write();
    } catch (err) {
      this.log.error({ service: key, err: describeError(err) }, 'cannot record a health check verdict');
    }
  }
}

/**
 * The port a check goes to: the named service port, else the first http port (http checks)
 * or the first port (tcp checks); a string says why there is none.
 */
function portToCheck(check: CompiledHealthCheck, ports: readonly ServicePort[], endpoint: Endpoint): { servicePort: number; port: number } | string {
  const port = check.port !== undefined ? ports.find((p) => p.name === check.port)
    : check.kind === 'http' ? ports.find((p) => p.protocol === 'http') : ports[0];
  if (port === undefined) {
    return check.port !== undefined ? `the service has no port "${check.port}"` : `the service has no ${check.kind === 'http' ? 'http ' : ''}port`;
  }
  const number = endpoint.ports[port.name];
  if (number === undefined) return `the endpoint has no port "${port.name}"`;
  return { servicePort: port.port, port: number };
}

/**
 * What identifies a check, so that a new policy set that leaves it as it was does not restart
 * it. `expectStatus` is a function: its verdict on every status code 100-599 stands for it.
 */
function signatureOf(check: CompiledHealthCheck): string {
  let statuses = '';
  if (check.kind === 'http') for (let status = 100; status < 600; status += 1) statuses += check.expectStatus(status) ? '1' : '0';
  return JSON.stringify([check.kind, check.path, check.port, check.intervalMs, check.timeoutMs, check.healthyThreshold, check.unhealthyThreshold, statuses]);
}

function describeCheck(check: CompiledHealthCheck): Record<string, unknown> {
  return {
    kind: check.kind, path: check.path, port: check.port, intervalMs: check.intervalMs, timeoutMs: check.timeoutMs,
    healthyThreshold: check.healthyThreshold, unhealthyThreshold: check.unhealthyThreshold,
  };
}
