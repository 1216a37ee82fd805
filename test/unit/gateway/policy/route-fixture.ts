// Test fixture for the route decision: a real Catalog seen from cluster `a`, remote clusters
// at chosen localities with their gateways, and the decision's other inputs (gateway
// liveness, outlier ejections, the clock, randomness) held here, where each test sets them.
import { Catalog, serviceKey, type Endpoint, type GatewayRecord, type Locality, type ServiceKey } from '../../../../registry/index.js';
import type { GatewayState, GatewayStateReader } from '../../../../gateway/dataplane/gateway-state.js';
import { RouteDecider, type OutlierView, type RouteDecision } from '../../../../gateway/policy/decide-route.js';
import type { AccessVerdict } from '../../../../gateway/policy/decide-access.js';
import { FailbackTracker } from '../../../../gateway/policy/failback-tracker.js';
import { PolicyEngine } from '../../../../gateway/policy/policy-engine.js';
import type { PolicySet } from '../../../../gateway/policy/policy-set.js';
import { callerOf, type Caller } from '../../../../gateway/policy/source-pattern.js';
import { policiesFrom } from '../../../../gateway/policy/static-policies.js';
import { policySet } from './policy-builders.js';

export const SERVICE: ServiceKey = 'payments.prod';
export const PORT = 8080;

/** a (this gateway) and b in aws/us-east-1; c in aws/eu-west-1; d and e in gcp. */
export const LOCALITIES: Readonly<Record<string, Omit<Locality, 'cluster'>>> = {
  a: { cloud: 'aws', region: 'us-east-1', zone: 'use1-az1' },
  b: { cloud: 'aws', region: 'us-east-1', zone: 'use1-az2' },
  b2: { cloud: 'aws', region: 'us-east-1', zone: 'use1-az3' },
  c: { cloud: 'aws', region: 'eu-west-1', zone: 'euw1-az1' },
  d: { cloud: 'gcp', region: 'us-east1', zone: 'us-east1-b' },
  e: { cloud: 'gcp', region: 'europe-west1', zone: 'europe-west1-b' },
};

export interface EndpointSpec {
  /** Last octet of 10.<cluster>.0.<n>. */
  n: number;
  health?: Endpoint['health'];
  labels?: Record<string, string>;
  weight?: number;
  /** Declares no `http` port (serves another port of the service only). */
  noPort?: boolean;
}

const CLUSTER_OCTET: Record<string, number> = { a: 1, b: 2, b2: 3, c: 4, d: 5, e: 6 };

export function address(cluster: string, n: number): string {
  return `10.${CLUSTER_OCTET[cluster] ?? 9}.0.${n}`;
}

export class RouteWorld {
  readonly catalog = new Catalog({ localCluster: 'a' });
  readonly locality: Locality = { ...LOCALITIES.a!, cluster: 'a' };
  nowMs = 1_000_000;
  random: () => number = () => 0.5;
  /** Gateway conditions by identity; absent: up, never changed. */
  readonly states = new Map<string, GatewayState>();
  /** Ejection reasons by gateway identity (for every service port). */
  readonly ejected = new Map<string, string>();
  readonly failback = new FailbackTracker();
  private seq = 0;

  readonly gatewayReader: GatewayStateReader = {
    stateOf: (gateway) => this.states.get(gateway.identity) ?? { condition: 'up', reason: 'no failure seen', changedAtMs: 0 },
  };

  readonly outliers: OutlierView = { ejection: (gateway) => this.ejected.get(gateway.identity) };

  readonly decider = new RouteDecider({
    catalog: this.catalog, locality: this.locality, gateways: this.gatewayReader, outliers: this.outliers,
    failback: this.failback, now: () => this.nowMs, random: () => this.random(),
  });

  /** Adds a gateway of a remote cluster (`<cluster>-gw<i>`). */
  gateway(cluster: string, i = 1): GatewayRecord {
    const gateway: GatewayRecord = {
      cluster, trustDomain: `${cluster}.example`, identity: gatewayId(cluster, i),
      eastWestAddress: `${address(cluster, 200 + i)}:15443`, locality: { ...LOCALITIES[cluster]!, cluster },
    };
    this.catalog.setGateway(gateway);
    return gateway;
  }

  /** Writes the service's record of `cluster` (the next version), with a gateway for a remote cluster that has none. */
  put(cluster: string, endpoints: EndpointSpec[], service: ServiceKey = SERVICE): void {
    this.seq += 1;
    const [name, namespace] = service.split('.') as [string, string];
    const record = {
      origin: cluster, name, namespace, version: { origin: cluster, epoch: 1, seq: this.seq }, deleted: false, exported: true,
      ports: [{ name: 'http', port: PORT, protocol: 'http' as const }, { name: 'admin', port: 9090, protocol: 'http' as const }],
      endpoints: endpoints.map((spec): Endpoint => ({
        address: address(cluster, spec.n), ports: spec.noPort === true ? { admin: 9090 } : { http: 8080 + spec.n, admin: 9090 },
        locality: { ...LOCALITIES[cluster]!, cluster }, kind: 'pod', identity: `spiffe://${cluster}.example/ns/prod/sa/payments`,
        health: spec.health ?? 'healthy', weight: spec.weight ?? 1, labels: spec.labels ?? {},
      })),
    };
    if (cluster === 'a') {
      if (!this.catalog.applyLocal(record)) throw new Error('local record refused');
    } else {
      if (this.catalog.applyRemote([record]).length !== 1) throw new Error(`record of ${cluster} refused`);
      if (this.catalog.gatewaysOf(cluster).length === 0) this.gateway(cluster);
    }
    if (this.catalog.resolve(serviceKey(name, namespace)) === undefined) throw new Error('service does not resolve');
  }

  decide(set: PolicySet = policySet(), options: { caller?: Caller; explain?: boolean; localAccess?: AccessVerdict; service?: ServiceKey } = {}): RouteDecision {
    return this.decider.decide(set, {
      caller: options.caller ?? anyone(), service: options.service ?? SERVICE, port: PORT,
      localAccess: options.localAccess, explain: options.explain ?? true,
    });
  }

  /** A PolicyEngine over this world (it observes the catalog: close it). */
  engine(set: () => PolicySet): PolicyEngine {
    return new PolicyEngine({
      catalog: this.catalog, policies: policiesFrom(set), localTrustDomain: 'a.example', locality: this.locality,
      gateways: this.gatewayReader, outliers: this.outliers, now: () => this.nowMs, random: () => this.random(),
    });
  }
}

export function gatewayId(cluster: string, i = 1): string {
  return `spiffe://${cluster}.example/gateway/${cluster}-gw${i}`;
}

export function anyone(classes: string[] = []): Caller {
  return { ...callerOf('spiffe://a.example/ns/shop/sa/web'), classes: new Set(classes) };
}

/** Where each candidate goes: `a:10.1.0.1` for a local endpoint, `b` (or `b[env=dev]`, `b@b-gw2`) for a remote cluster. */
export function places(decision: RouteDecision, options: { gateways?: boolean } = {}): string[] {
  return decision.candidates.map(({ target, service }) => {
    const prefix = service === SERVICE ? '' : `${service}/`;
    if (target.kind === 'local') return `${prefix}a:${target.endpoint.address}`;
    const subset = target.subset === undefined ? '' : `[${Object.entries(target.subset).map(([k, v]) => `${k}=${v}`).join(',')}]`;
    const gateway = options.gateways === true ? `@${target.gateway.identity.split('/').pop() ?? ''}` : '';
    return `${prefix}${target.cluster}${subset}${gateway}`;
  });
}

/** The clusters of the candidates, in order, each once (a local cluster's endpoints count once). */
export function clusterOrder(decision: RouteDecision): string[] {
  const order: string[] = [];
  for (const place of places(decision)) {
    const cluster = place.split(/[:[@]/)[0]!;
    if (order[order.length - 1] !== cluster) order.push(cluster);
  }
  return order;
}
