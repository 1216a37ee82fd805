import {
  CausewayError, ErrorCodes,
  type CatalogReader, type Endpoint, type GatewayRecord, type Locality, type ResolvedService, type ServiceKey, type ServicePort,
} from '../../registry/index.js';
import type { GatewayState, GatewayStateReader } from '../dataplane/gateway-state.js';
import type { AccessVerdict } from './decide-access.js';
import type { FailbackTracker } from './failback-tracker.js';
import { failoverOf, type CompiledFailover, type CompiledSplit, type CompiledSplitBackend, type PolicySet } from './policy-set.js';
import type { FailoverTarget } from './schema.js';
import type { Caller } from './source-pattern.js';

export type RandomSource = () => number;
export type Labels = Readonly<Record<string, string>>;

/** One place a request can go: a local endpoint, or a remote cluster's gateway (with the endpoint subset it must pick from). */
export type RouteTarget =
  | { kind: 'local'; endpoint: Endpoint; port: number }
  | { kind: 'remote'; cluster: string; gateway: GatewayRecord; subset: Labels | undefined };

export interface Candidate {
  target: RouteTarget;
  /** The service and port this candidate serves (another service when a TrafficSplit sent it there). */
  service: ServiceKey;
  port: number;
  /** Why it is here, at this place (explain). */
  why: string;
}

/** How one cluster, endpoint or gateway fared in the decision (explain). */
export interface Considered {
  service: ServiceKey;
  cluster: string;
  /** `endpoint <ip:port>`, `gateway <spiffe id>`, or `cluster`. */
  subject: string;
  verdict: 'candidate' | 'after the others' | 'last resort' | 'out';
  why: string;
}

export interface RouteDecision {
  service: ServiceKey;
  port: number;
  servicePort: ServicePort;
  /** The FailoverPolicy in force for the service (timeouts, retries, outlier thresholds). */
  failover: CompiledFailover;
  /** Traffic classes of the caller. */
  classes: readonly string[];
  /** The class route that applied, if any. */
  classRoute: { class: string; policy: string } | undefined;
  /** The TrafficSplit backend this request drew, if any. */
  split: { policy: string; backend: string; weight: number } | undefined;
  /** In the order to try them. Empty: `refusal` says why. */
  candidates: Candidate[];
  considered: Considered[];
  refusal: { code: typeof ErrorCodes.NO_HEALTHY_ENDPOINT | typeof ErrorCodes.ACCESS_DENIED; message: string } | undefined;
}

/** What outlier detection says about one remote gateway for one service port; undefined = not ejected. */
export interface OutlierView {
  ejection(gateway: GatewayRecord, service: ServiceKey, port: number): string | undefined;
}

export interface RouteContext {
  catalog: CatalogReader;
  /** This gateway's locality: remote clusters are ranked against it. */
  locality: Locality;
  gateways: GatewayStateReader;
  outliers: OutlierView;
  failback: FailbackTracker;
  now: () => number;
  random: RandomSource;
}

export interface RouteRequest {
  caller: Caller;
  service: ServiceKey;
  port: number;
  /** This gateway's access verdict for the caller (its own endpoints obey it); undefined: not checked. */
  localAccess: AccessVerdict | undefined;
  /**
   * The verdict for another service a TrafficSplit sends the request to: its local endpoints
   * obey that service's rules, as its remote gateways do. Absent: `localAccess` for every service.
   */
  localAccessTo?: (service: ServiceKey) => AccessVerdict | undefined;
  /** Build `considered` and every `why` (explain); the data plane leaves it off. */
  explain?: boolean;
}

/**
 * Weighted random order without replacement (Efraimidis & Spirakis 2006, "A-Res"): each item
 * gets the key u^(1/w), sorted by descending key, so an item's chance of coming first is its
 * share of the total weight.
 */
export function weightedShuffle<T>(items: readonly T[], weightOf: (item: T) => number, random: RandomSource): T[] {
  return items
    .map((item) => ({ item, key: random() ** (1 / Math.max(weightOf(item), Number.MIN_VALUE)) }))
    .sort((x, y) => y.key - x.key)
    .map((x) => x.item);
}

/** 0 = same region (and cloud), 1 = same cloud, 2 = anywhere. */
export function localityRank(local: Locality, remote: Locality): number {
  if (local.cloud === remote.cloud && local.region === remote.region) return 0;
  if (local.cloud === remote.cloud) return 1;
  return 2;
}

const RANK_NAMES = ['same region', 'same cloud', 'another cloud'];

/** Port on `endpoint` for the service port, when it declares one. */
export function endpointPort(endpoint: Endpoint, servicePort: ServicePort): number | undefined {
  const port = endpoint.ports[servicePort.name];
  return typeof port === 'number' && Number.isInteger(port) && port > 0 && port <= 65535 ? port : undefined;
}

export function hasLabels(endpoint: Endpoint, labels: Labels | undefined): boolean {
  if (labels === undefined) return true;
  for (const [name, value] of Object.entries(labels)) if (endpoint.labels[name] !== value) return false;
  return true;
}

export function formatLabels(labels: Labels | undefined): string {
  return labels === undefined ? '' : Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',');
}

/** Healthy endpoints of one cluster serving `servicePort` (and the subset), in weighted random order. */
export function localCandidates(
  endpoints: readonly Endpoint[], servicePort: ServicePort, subset: Labels | undefined, random: RandomSource,
): Array<Extract<RouteTarget, { kind: 'local' }>> {
  const usable: Array<Extract<RouteTarget, { kind: 'local' }>> = [];
  for (const endpoint of endpoints) {
    const port = endpointPort(endpoint, servicePort);
    if (endpoint.health === 'healthy' && port !== undefined && hasLabels(endpoint, subset)) usable.push({ kind: 'local', endpoint, port });
  }
  return weightedShuffle(usable, (t) => t.endpoint.weight, random);
}

/** A step of the failover order: which clusters (and which of their endpoints) it takes. */
interface Tier {
  why: string;
  takes(cluster: string, locality: Locality): boolean;
  subset: Labels | undefined;
}

interface Buckets {
  fit: Placed[];
  later: Placed[];
  lastResort: Placed[];
  /** `<service>|<address>:<port>` of each local endpoint placed: one endpoint is one candidate, whatever steps take it. */
  localPlaced: Set<string>;
  /** `<service>|<cluster>` of each cluster some step took (explain names the others). */
  taken: Set<string>;
  /** Each service placed, with its port (explain accounts for all its clusters and local endpoints). */
  looked: Map<ServiceKey, { service: ResolvedService; servicePort: ServicePort }>;
}

interface Placed {
  tier: number;
  order: number;
  candidate: Candidate;
}

function describeTarget(target: FailoverTarget): string {
  const parts: string[] = [];
  if (target.cluster !== undefined) parts.push(`cluster ${target.cluster}`);
  if (target.region !== undefined) parts.push(`region ${target.region}`);
  if (target.cloud !== undefined) parts.push(`cloud ${target.cloud}`);
  if (target.labels !== undefined) parts.push(`labels ${formatLabels(target.labels)}`);
  return parts.join(', ');
}

function targetTier(target: FailoverTarget, why: string): Tier {
  return {
    why: `${why}: ${describeTarget(target)}`,
    subset: target.labels,
    takes: (cluster, locality) => (target.cluster === undefined || target.cluster === cluster)
      && (target.region === undefined || target.region === locality.region)
      && (target.cloud === undefined || target.cloud === locality.cloud),
  };
}

/**
 * The one route decision of the data plane, `explain` and (later) xDS: given the caller, the
 * service and a snapshot of what is known (catalog, policies, gateway liveness, outliers,
 * failback), the candidates in the order to try them, with why each is where it is.
 *
 * Order: the caller's class route, if one applies (exclusive: the class is served by its
 * targets alone, or refused); else a TrafficSplit backend drawn by weight, then the other
 * backends; else the local cluster, the FailoverPolicy's targets in order, then every other
 * cluster nearest first (same region, same cloud, anywhere). Within a step the local endpoints
 * come first (weighted), then the remote clusters and their gateways, shuffled so load
 * spreads; a local endpoint several steps take is placed once, by the first. A cluster with no
 * healthy endpoint, or whose gateways are all dead, is out; one below minHealthy, or back
 * within its failback delay, is used only after every fit one; ejected gateways and gateways
 * whose federation link is down are a last resort (panic mode); a dead gateway is never tried.
 */
export class RouteDecider {
  constructor(private readonly context: RouteContext) {}

  decide(set: PolicySet, request: RouteRequest): RouteDecision {
    const { catalog } = this.context;
    const resolved = this.resolve(request.service, request.port);
    const failover = failoverOf(set, request.service);
    const classes = [...request.caller.classes].sort();
    const decision: RouteDecision = {
      service: request.service, port: request.port, servicePort: resolved.servicePort, failover, classes,
      classRoute: undefined, split: undefined, candidates: [], considered: [], refusal: undefined,
    };
    // A caller in several routed classes: a refusal wins over any route (as a deny wins over
    // allows), else the first route listed.
    const matching = [...failover.classes].filter(([name]) => request.caller.classes.has(name));
    const classEntry = matching.find(([, route]) => route.refuse) ?? matching[0];
    if (classEntry !== undefined) {
      const [name, route] = classEntry;
      decision.classRoute = { class: name, policy: failover.policy };
      if (route.refuse) {
        decision.refusal = { code: ErrorCodes.ACCESS_DENIED, message: `${failover.policy} refuses traffic class ${name} access to ${request.service}` };
        return decision;
      }
    }
    const split = classEntry === undefined ? this.splitFor(set, request) : undefined;
    const buckets: Buckets = { fit: [], later: [], lastResort: [], localPlaced: new Set(), taken: new Set(), looked: new Map() };
    if (classEntry !== undefined && classEntry[1].targets !== undefined) {
      const tiers = classEntry[1].targets.map((t, i) => targetTier(t, `class ${classEntry[0]} route, target ${i + 1}`));
      this.place(decision, buckets, set, resolved.service, resolved.servicePort, tiers, 0, request);
    } else if (split !== undefined) {
      this.placeSplit(decision, buckets, set, split, request);
    } else {
      this.place(decision, buckets, set, resolved.service, resolved.servicePort, this.failoverTiers(failover, catalog.localCluster), 0, request);
    }
    if (request.explain === true) this.noteLeftOut(decision, buckets, request);
    const byPlace = (x: Placed, y: Placed): number => x.tier - y.tier || x.order - y.order;
    // Panic mode (as Envoy's panic threshold): when nothing fit or degraded is left, trying an
    // ejected gateway may succeed where skipping it surely fails; a dead one is never tried.
    const chosen = buckets.fit.length + buckets.later.length > 0
      ? [...buckets.fit.sort(byPlace), ...buckets.later.sort(byPlace)] : buckets.lastResort.sort(byPlace);
    decision.candidates = chosen.map((p) => p.candidate);
    const localAccess = request.localAccess;
    if (decision.candidates.length === 0 && localAccess !== undefined && !localAccess.allowed && resolved.service.clusters.has(catalog.localCluster)) {
      // Nothing else could take it: the caller is told it is refused, not that nothing is up.
      decision.refusal = { code: ErrorCodes.ACCESS_DENIED, message: localAccess.reason };
    } else if (decision.candidates.length === 0) {
      decision.refusal = {
        code: ErrorCodes.NO_HEALTHY_ENDPOINT,
        message: `${request.service}:${request.port} has no healthy endpoint this caller may use here and no remote cluster with a healthy endpoint behind a usable gateway`,
      };
    }
    return decision;
  }

  /** The service and port, or CW_SERVICE_UNKNOWN. */
  resolve(key: ServiceKey, port: number): { service: ResolvedService; servicePort: ServicePort } {
    const service = this.context.catalog.resolve(key);
    if (service === undefined) {
      throw new CausewayError(ErrorCodes.SERVICE_UNKNOWN, `${key} is not in the federated catalog (mesh names are never looked up in DNS)`);
    }
    const servicePort = service.ports.find((p) => p.port === port);
    if (servicePort === undefined) {
      throw new CausewayError(ErrorCodes.SERVICE_UNKNOWN, `${key} has no port ${port} (ports: ${service.ports.map((p) => p.port).join(', ')})`);
    }
    return { service, servicePort };
  }

  private failoverTiers(failover: CompiledFailover, localCluster: string): Tier[] {
    const tiers: Tier[] = [{ why: 'local cluster', subset: undefined, takes: (cluster) => cluster === localCluster }];
    failover.targets.forEach((target, i) => tiers.push(targetTier(target, `${failover.policy} target ${i + 1}`)));
    for (const [rank, name] of RANK_NAMES.entries()) {
      tiers.push({ why: `nearest first: ${name}`, subset: undefined, takes: (_cluster, locality) => localityRank(this.context.locality, locality) === rank });
    }
    return tiers;
  }

  private splitFor(set: PolicySet, request: RouteRequest): CompiledSplit | undefined {
    return set.splits.get(request.service)?.find((s) => s.classes === undefined || [...s.classes].some((c) => request.caller.classes.has(c)));
  }

  private placeSplit(decision: RouteDecision, buckets: Buckets, set: PolicySet, split: CompiledSplit, request: RouteRequest): void {
    const drawn = weightedShuffle(split.backends.filter((b) => b.weight > 0), (b) => b.weight, this.context.random);
    const first = drawn[0];
    if (first !== undefined) decision.split = { policy: split.policy, backend: describeBackend(first), weight: first.weight };
    drawn.forEach((backend, i) => {
      const why = `${split.policy} backend ${describeBackend(backend)} (weight ${backend.weight})${i === 0 ? ', drawn' : ', fallback'}`;
      if (backend.service !== undefined) {
        let target;
        try {
          target = this.resolve(backend.service, request.port);
        } catch (err) {
          if (request.explain === true) {
            decision.considered.push({ service: backend.service, cluster: '-', subject: 'service', verdict: 'out', why: (err as Error).message });
          }
          return;
        }
        // The backend service is routed by its own FailoverPolicy order (never split again).
        const tiers = this.failoverTiers(failoverOf(set, backend.service), this.context.catalog.localCluster).map((t) => ({ ...t, why: `${why}; ${t.why}` }));
        this.place(decision, buckets, set, target.service, target.servicePort, tiers, i * 100, request);
        return;
      }
      const resolved = this.resolve(request.service, request.port);
      const takes = backend.cluster === undefined ? () => true : (cluster: string) => cluster === backend.cluster;
      // Several clusters hold a label subset: the local one first, then nearest first.
      const tiers: Tier[] = backend.cluster === undefined
        ? [{ why: `${why}, local cluster`, subset: backend.labels, takes: (c) => c === this.context.catalog.localCluster },
          ...RANK_NAMES.map((name, rank) => ({ why: `${why}, ${name}`, subset: backend.labels, takes: (_c: string, l: Locality) => localityRank(this.context.locality, l) === rank }))]
        : [{ why, subset: backend.labels, takes }];
      this.place(decision, buckets, set, resolved.service, resolved.servicePort, tiers, i * 100, request);
    });
  }

  /**
   * Walks the clusters of `service` through `tiers` (each cluster and subset in the first tier
   * that takes it) and appends the resulting candidates to `decision` in their final order.
   */
  private place(decision: RouteDecision, buckets: Buckets, set: PolicySet, service: ResolvedService, servicePort: ServicePort, tiers: readonly Tier[], tierBase: number, request: RouteRequest): void {
    const { catalog, random } = this.context;
    const explain = request.explain === true;
    const { fit, later, lastResort } = buckets;
    const placed = new Set<string>();
    const policy = failoverOf(set, service.key);
    const note = (cluster: string, subject: string, verdict: Considered['verdict'], why: () => string): void => {
      if (explain) decision.considered.push({ service: service.key, cluster, subject, verdict, why: why() });
    };
    const now = this.context.now();
    const judged = this.judgeGateways(service, servicePort);
    const ignoreEjections = judged.ejectedShare * 100 > policy.outlier.maxEjectedPercent;
    const ejectedShare = judged.ejectedShare;
    if (!buckets.looked.has(service.key)) buckets.looked.set(service.key, { service, servicePort });

    for (const [cluster, endpoints] of service.clusters) {
      const local = cluster === catalog.localCluster;
      const gateways = local ? [] : catalog.gatewaysOf(cluster);
      const locality = local ? this.context.locality : (gateways[0]?.locality ?? endpoints[0]?.locality ?? this.context.locality);
      tiers.forEach((tier, index) => {
        if (!tier.takes(cluster, locality)) return;
        const subsetKey = formatLabels(tier.subset);
        if (placed.has(`${cluster}|${subsetKey}`)) return;
        placed.add(`${cluster}|${subsetKey}`);
        buckets.taken.add(`${service.key}|${cluster}`);
        const tierNo = tierBase + index;
        const where = tier.subset === undefined ? cluster : `${cluster} [${subsetKey}]`;
        const members = endpoints.filter((e) => hasLabels(e, tier.subset) && (!local || endpointPort(e, servicePort) !== undefined));
        const healthy = members.filter((e) => e.health === 'healthy').length;
        const failbackKey = `${service.key}:${servicePort.port}|${cluster}|${subsetKey}`;
        if (members.length === 0) {
          note(cluster, 'cluster', 'out', () => `${where}: no endpoint${tier.subset === undefined ? '' : ' with these labels'}`);
          return;
        }
        if (healthy === 0) {
          this.context.failback.markDown(failbackKey, now);
          note(cluster, 'cluster', 'out', () => `${where}: none of its ${members.length} endpoints is healthy`);
          return;
        }
        const access = local ? localAccessFor(request, service.key) : undefined;
        if (access !== undefined && !access.allowed) {
          note(cluster, 'cluster', 'out', () => `${where}: access denied here: ${access.reason}`);
          return;
        }
        const required = 'count' in policy.minHealthy ? policy.minHealthy.count : Math.ceil((policy.minHealthy.percent * members.length) / 100);
        let demoted: string | undefined;
        if (healthy < required) {
          this.context.failback.markDown(failbackKey, now);
          demoted = `${healthy} of ${members.length} endpoints healthy, below minHealthy ${required}`;
        }

        const failingBack = (): string | undefined => {
          const since = this.context.failback.seenFit(failbackKey, now, policy.failbackMs);
          return since === undefined ? undefined : `recovered ${formatAge(now - since)} ago; failback after ${formatAge(policy.failbackMs)}`;
        };

        if (local) {
          demoted ??= failingBack();
          const placedKey = (t: Extract<RouteTarget, { kind: 'local' }>): string => `${service.key}|${t.endpoint.address}:${t.port}`;
          const targets = localCandidates(members, servicePort, undefined, random).filter((t) => !buckets.localPlaced.has(placedKey(t)));
          const bucket = demoted === undefined ? fit : later;
          for (const [i, target] of targets.entries()) {
            buckets.localPlaced.add(placedKey(target));
            const why = explain ? `${tier.why}; ${healthy} of ${members.length} healthy${demoted === undefined ? '' : `; ${demoted}`}` : '';
            // Negative: within a step the local endpoints come before every remote cluster (order 0..1).
            bucket.push({ tier: tierNo, order: i - targets.length, candidate: { target, service: service.key, port: servicePort.port, why } });
            note(cluster, `endpoint ${target.endpoint.address}:${target.port}`, demoted === undefined ? 'candidate' : 'after the others', () => why);
          }
          return;
        }

        if (gateways.length === 0) {
          this.context.failback.markDown(failbackKey, now);
          note(cluster, 'cluster', 'out', () => `${where}: no known gateway`);
          return;
        }
        const clusterOrder = random();
        let usable = 0;
        const recovering: Array<{ gateway: GatewayRecord; since: number }> = [];
        const held: Array<{ gateway: GatewayRecord; resort: string }> = [];
        for (const gateway of gateways) {
          const { state, ejection } = judged.byGateway.get(gateway)!;
          if (state.condition === 'dead') {
            note(cluster, `gateway ${gateway.identity}`, 'out', () => `dead: ${state.reason}`);
            continue;
          }
          if (state.condition === 'link-down') {
            held.push({ gateway, resort: `federation link down: ${state.reason}` });
            continue;
          }
          if (ejection !== undefined && !ignoreEjections) {
            held.push({ gateway, resort: `ejected: ${ejection}` });
            continue;
          }
          usable += 1;
          if (state.changedAtMs > 0 && now - state.changedAtMs < policy.failbackMs) recovering.push({ gateway, since: state.changedAtMs });
          else recovering.push({ gateway, since: 0 });
        }
        if (usable === 0) this.context.failback.markDown(failbackKey, now);
        else demoted ??= failingBack();
        for (const { gateway, since } of recovering) {
          const back = since > 0 ? `gateway back up ${formatAge(now - since)} ago; failback after ${formatAge(policy.failbackMs)}` : undefined;
          const reason = demoted ?? back;
          const why = explain
            ? `${tier.why}; ${healthy} of ${members.length} endpoints healthy${ignoreEjections && ejectedShare > 0 ? `; ejections ignored (over maxEjectedPercent ${policy.outlier.maxEjectedPercent})` : ''}${reason === undefined ? '' : `; ${reason}`}`
            : '';
          const entry: Placed = {
            tier: tierNo, order: clusterOrder + random() * 1e-9,
            candidate: { target: { kind: 'remote', cluster, gateway, subset: tier.subset }, service: service.key, port: servicePort.port, why },
          };
          (reason === undefined ? fit : later).push(entry);
          note(cluster, `gateway ${gateway.identity}`, reason === undefined ? 'candidate' : 'after the others', () => why);
        }
        for (const { gateway, resort } of held) {
          const why = explain ? `${tier.why}; ${resort}; tried only when nothing else is left` : '';
          lastResort.push({
            tier: tierNo, order: clusterOrder + random() * 1e-9,
            candidate: { target: { kind: 'remote', cluster, gateway, subset: tier.subset }, service: service.key, port: servicePort.port, why },
          });
          note(cluster, `gateway ${gateway.identity}`, 'last resort', () => why);
        }
      });
    }
  }

  /**
   * Explain only: an `out` line for every cluster no step took and every local endpoint that
   * is no candidate, so each endpoint of the service is accounted for.
   */
  private noteLeftOut(decision: RouteDecision, buckets: Buckets, request: RouteRequest): void {
    const localCluster = this.context.catalog.localCluster;
    for (const { service, servicePort } of buckets.looked.values()) {
      const access = localAccessFor(request, service.key);
      const note = (cluster: string, subject: string, why: string): void => {
        decision.considered.push({ service: service.key, cluster, subject, verdict: 'out', why });
      };
      for (const [cluster, endpoints] of service.clusters) {
        const taken = buckets.taken.has(`${service.key}|${cluster}`);
        if (!taken) note(cluster, 'cluster', `no step of this route takes cluster ${cluster}`);
        if (cluster !== localCluster) continue;
        for (const endpoint of endpoints) {
          const port = endpointPort(endpoint, servicePort);
          if (port !== undefined && buckets.localPlaced.has(`${service.key}|${endpoint.address}:${port}`)) continue;
          const why = port === undefined ? `declares no port ${servicePort.name}`
            : endpoint.health !== 'healthy' ? `health ${endpoint.health}`
              : !taken ? 'its cluster is not taken'
                : access?.allowed === false ? `access denied here: ${access.reason}`
                  : 'lacks the labels of every step that takes the local cluster';
          note(cluster, port === undefined ? `endpoint ${endpoint.address}` : `endpoint ${endpoint.address}:${port}`, why);
        }
      }
    }
  }

  /**
   * Liveness and outlier state of each remote gateway of the service, asked once per decision
   * (the walk over tiers reads it again), and the share of those not dead that are ejected.
   */
  private judgeGateways(service: ResolvedService, servicePort: ServicePort): {
    byGateway: Map<GatewayRecord, { state: GatewayState; ejection: string | undefined }>;
    ejectedShare: number;
  } {
    const byGateway = new Map<GatewayRecord, { state: GatewayState; ejection: string | undefined }>();
    let total = 0;
    let ejected = 0;
    for (const cluster of service.clusters.keys()) {
      if (cluster === this.context.catalog.localCluster) continue;
      for (const gateway of this.context.catalog.gatewaysOf(cluster)) {
        const state = this.context.gateways.stateOf(gateway);
        const ejection = state.condition === 'dead' ? undefined : this.context.outliers.ejection(gateway, service.key, servicePort.port);
        byGateway.set(gateway, { state, ejection });
        if (state.condition === 'dead') continue;
        total += 1;
        if (ejection !== undefined) ejected += 1;
      }
    }
    return { byGateway, ejectedShare: total === 0 ? 0 : ejected / total };
  }
}

/** This gateway's access verdict for `service` (the one asked for, or one a split sends to). */
function localAccessFor(request: RouteRequest, service: ServiceKey): AccessVerdict | undefined {
  return service === request.service ? request.localAccess : (request.localAccessTo?.(service) ?? request.localAccess);
}

function describeBackend(backend: CompiledSplitBackend): string {
  if (backend.service !== undefined) return `service ${backend.service}`;
  const parts: string[] = [];
  if (backend.cluster !== undefined) parts.push(`cluster ${backend.cluster}`);
  if (backend.labels !== undefined) parts.push(`labels ${formatLabels(backend.labels)}`);
  return parts.join(', ');
}

function formatAge(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
