import type { Endpoint, GatewayRecord, Locality, ResolvedService, ServicePort } from '../../registry/index.js';

/** One place a proxied connection can go: a local endpoint, or a remote cluster's gateway. */
export type RouteTarget =
  | { kind: 'local'; endpoint: Endpoint; port: number }
  | { kind: 'remote'; cluster: string; gateway: GatewayRecord };

/** What a picker may consult besides the service itself. */
export interface PickContext {
  localCluster: string;
  /** Locality of this gateway: remote clusters are ranked against it. */
  locality: Locality;
  gatewaysOf(cluster: string): readonly GatewayRecord[];
  /** True while outlier detection skips this gateway. */
  isEjected(gateway: GatewayRecord): boolean;
}

/**
 * Endpoint selection as one replaceable step (roadmap: FailoverPolicy and TrafficSplit will
 * supply other pickers). Returns candidates in the order the caller should try them; the
 * caller moves to the next one when a candidate fails to connect.
 */
export interface EndpointPicker {
  pick(service: ResolvedService, servicePort: ServicePort, context: PickContext): RouteTarget[];
}

export type RandomSource = () => number;

/**
 * Weighted random order without replacement (Efraimidis & Spirakis 2006, "A-Res"): each item
 * gets the key u^(1/w) and items are sorted by descending key, so an item's chance of coming
 * first is its share of the total weight.
 */
export function weightedShuffle<T>(items: readonly T[], weightOf: (item: T) => number, random: RandomSource): T[] {
  return items
    .map((item) => ({ item, key: random() ** (1 / Math.max(weightOf(item), Number.MIN_VALUE)) }))
    .sort((x, y) => y.key - x.key)
    .map((x) => x.item);
}

/** Port on `endpoint` for the service port, when it declares one. */
function endpointPort(endpoint: Endpoint, servicePort: ServicePort): number | undefined {
  const port = endpoint.ports[servicePort.name];
  return typeof port === 'number' && Number.isInteger(port) && port > 0 && port <= 65535 ? port : undefined;
}

/** Healthy endpoints of one cluster that serve `servicePort`, in weighted random order. */
export function localCandidates(
  endpoints: readonly Endpoint[],
  servicePort: ServicePort,
  random: RandomSource = Math.random,
): Array<Extract<RouteTarget, { kind: 'local' }>> {
  const usable: Array<Extract<RouteTarget, { kind: 'local' }>> = [];
  for (const endpoint of endpoints) {
    const port = endpointPort(endpoint, servicePort);
    if (endpoint.health === 'healthy' && port !== undefined) usable.push({ kind: 'local', endpoint, port });
  }
  return weightedShuffle(usable, (t) => t.endpoint.weight, random);
}

/** 0 = same region (and cloud), 1 = same cloud, 2 = anywhere. */
export function localityRank(local: Locality, remote: Locality): number {
  if (local.cloud === remote.cloud && local.region === remote.region) return 0;
  if (local.cloud === remote.cloud) return 1;
  return 2;
}

/**
 * The default priority order of the design brief: healthy local endpoints first (weighted
 * random), then remote clusters that have at least one healthy endpoint and a known,
 * non-ejected gateway (all of them, ejected or not, when nothing else is left: panic mode),
 * ranked same region → same cloud → anywhere by the remote gateway's
 * locality. Within a rank, clusters and gateways are shuffled so load spreads. The remote
 * endpoint's port is not needed here: the remote gateway resolves `<service>:<port>` itself.
 */
export class PriorityPicker implements EndpointPicker {
  private readonly random: RandomSource;

  constructor(options: { random?: RandomSource } = {}) {
    this.random = options.random ?? Math.random;
  }

  pick(service: ResolvedService, servicePort: ServicePort, context: PickContext): RouteTarget[] {
    const local = localCandidates(service.clusters.get(context.localCluster) ?? [], servicePort, this.random);
    const remote: Array<{ target: RouteTarget; rank: number; order: number; ejected: boolean }> = [];
    for (const [cluster, endpoints] of service.clusters) {
      if (cluster === context.localCluster) continue;
      if (!endpoints.some((e) => e.health === 'healthy')) continue;
      const order = this.random();
      for (const gateway of context.gatewaysOf(cluster)) {
        // A cluster's gateways share its order key, so one cluster's gateways stay together;
        // the fraction breaks ties between its gateways at random.
        remote.push({
          target: { kind: 'remote', cluster, gateway }, rank: localityRank(context.locality, gateway.locality),
          order: order + this.random() * 1e-9, ejected: context.isEjected(gateway),
        });
      }
    }
    remote.sort((x, y) => x.rank - y.rank || x.order - y.order);
    // Panic mode (as Envoy's panic threshold): with no local endpoint and every remote
    // gateway ejected, skipping them all guarantees failure; trying them may succeed (a
    // gateway ejected for one broken session usually answers on the next one).
    const usable = remote.filter((r) => !r.ejected);
    const chosen = usable.length > 0 || local.length > 0 ? usable : remote;
    return [...local, ...chosen.map((r) => r.target)];
  }
}
