import { CausewayError, ErrorCodes, type CatalogReader, type Locality } from '../../registry/index.js';
import type { PolicyEngine } from '../policy/policy-engine.js';
import { parseMeshAuthority, type MeshAuthority } from '../dataplane/mesh-address.js';
import { failoverOf } from '../policy/policy-set.js';
import type { Listener } from './generated/envoy/config/listener/v3/Listener.js';
import type { RouteConfiguration } from './generated/envoy/config/route/v3/RouteConfiguration.js';
import type { Cluster } from './generated/envoy/config/cluster/v3/Cluster.js';
import type { ClusterLoadAssignment } from './generated/envoy/config/endpoint/v3/ClusterLoadAssignment.js';
import type { LocalityLbEndpoints } from './generated/envoy/config/endpoint/v3/LocalityLbEndpoints.js';
import type { HttpConnectionManager } from './generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpConnectionManager.js';
import { serverListenerAddress, serverListenerOf } from './server-listener.js';
import { HTTP_CONNECTION_MANAGER_TYPE, ROUTER_TYPE, TYPE_URLS, type ResourceKind } from './xds-protos.js';

/** A resource as it goes into a DiscoveryResponse: an `Any` (protobufjs encodes `@type`). */
export type AnyResource = { '@type': string } & Record<string, unknown>;

/** What resources are made of, for one client. */
export interface ResourceContext {
  catalog: CatalogReader;
  engine: PolicyEngine;
  /** The client's SPIFFE ID (verified certificate, or its source address). */
  caller: string;
  locality: Locality;
  /** host:port of this gateway's outbound listener: how the client reaches endpoints it cannot dial (remote clusters). */
  outbound: { host: string; port: number };
  /** The certificate provider instance the client's node metadata names (server-listener.ts). */
  certificateProvider?: string | undefined;
  /**
   * This caller's route decisions by name, kept by the server as long as the resources built
   * from them: the four resource types of a name share one decision instead of making four.
   */
  decisions?: Map<string, RouteDecision | undefined>;
}

const ADS: { ads: Record<string, never>; resourceApiVersion: 'V3' } = { ads: {}, resourceApiVersion: 'V3' };

/**
 * The one name of every resource of a service port: `<service>.<namespace>:<port>`, what a
 * gRPC client asks for with `xds:///payments.prod:8080` — listener, route configuration,
 * cluster and load assignment alike (gRFC A27 lets them share it). The port is part of it: it
 * is the `:authority` the outbound listener routes by, and a service may have several.
 */
export function targetOf(name: string): MeshAuthority | undefined {
  const parsed = parseMeshAuthority(name);
  return typeof parsed === 'string' ? undefined : parsed;
}

/**
 * The resource `name` of `kind` as `context.caller` may see it, or undefined when it does not
 * exist for that caller: an unknown service or port, or one its access rules refuse the
 * caller (a client sees only what it may call).
 */
export function buildResource(kind: ResourceKind, name: string, context: ResourceContext): AnyResource | undefined {
  if (kind === 'listener' && serverListenerAddress(name) !== undefined) {
    const trustDomain = context.engine.localTrustDomain;
    if (trustDomain === undefined) return undefined;
    return serverListenerOf(name, {
      catalog: context.catalog, policies: context.engine.policies(), trustDomain, caller: context.caller, certificateProvider: context.certificateProvider,
    });
  }
  const target = targetOf(name);
  if (target === undefined) return undefined;
  const decision = decisionFor(name, target, context);
  if (decision === undefined) return undefined;
  switch (kind) {
    case 'listener':
      return listenerOf(name);
    case 'route':
      return routeOf(name, target, context);
    case 'cluster':
      return clusterOf(name, target, context);
    case 'endpoints':
      return endpointsOf(name, decision, context);
    default:
      return undefined;
  }
}

type Decision = RouteDecision;
export type RouteDecision = ReturnType<PolicyEngine['route']>;

function decisionFor(name: string, target: MeshAuthority, context: ResourceContext): Decision | undefined {
  const held = context.decisions;
  if (held?.has(name) === true) return held.get(name);
  const decision = decide(target, context);
  held?.set(name, decision);
  return decision;
}

/** The route decision for the caller, or undefined when the service or port is unknown or access refuses it. */
function decide(target: MeshAuthority, context: ResourceContext): Decision | undefined {
  const { engine } = context;
  try {
    // 'stream': a gRPC channel carries many calls; rules on methods or paths are each call's.
    const decision = engine.route(engine.caller(context.caller), target.key, target.port, 'stream');
    return decision.refusal?.code === ErrorCodes.ACCESS_DENIED ? undefined : decision;
  } catch (err) {
    if (err instanceof CausewayError && err.code === ErrorCodes.SERVICE_UNKNOWN) return undefined;
    throw err;
  }
}

/** An API listener (gRFC A27): an HttpConnectionManager that takes its routes from RDS over this ADS stream. */
function listenerOf(name: string): AnyResource {
  const manager: HttpConnectionManager & { '@type': string } = {
    '@type': HTTP_CONNECTION_MANAGER_TYPE,
    rds: { configSource: ADS, routeConfigName: name },
    httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER_TYPE } as never }],
  };
  const listener: Listener = { name, apiListener: { apiListener: manager as never } };
  return { '@type': TYPE_URLS.listener, ...listener };
}

/**
 * One virtual host, every path to the cluster of the same name — or, under a TrafficSplit
 * between services for this caller, weighted clusters (one per backend service, its weight as
 * in the split). A split across clusters or labelled subsets has no xDS form here: the client
 * gets the plain route (see docs/xds.md).
 */
function routeOf(name: string, target: MeshAuthority, context: ResourceContext): AnyResource {
  const split = splitByServiceFor(target, context);
  const action = split === undefined
    ? { cluster: name }
    : { weightedClusters: { clusters: split.map((b) => ({ name: `${b.service}:${target.port}`, weight: { value: b.weight } })) } };
  const route: RouteConfiguration = {
    name,
    virtualHosts: [{
      name,
      // What the client puts in :authority: the xDS target, with or without the port.
      domains: [name, target.key],
      routes: [{ match: { prefix: '' }, route: action }],
    }],
  };
  return { '@type': TYPE_URLS.route, ...route };
}

/** The TrafficSplit for this caller (as decide-route picks it) when every backend is a whole service with a weight. */
function splitByServiceFor(target: MeshAuthority, context: ResourceContext): Array<{ service: string; weight: number }> | undefined {
  const caller = context.engine.caller(context.caller);
  const split = context.engine.policies().splits.get(target.key)?.find((s) => s.classes === undefined || [...s.classes].some((c) => caller.classes.has(c)));
  if (split === undefined) return undefined;
  const backends = split.backends.filter((b) => b.weight > 0);
  if (backends.length === 0 || backends.some((b) => b.service === undefined || b.cluster !== undefined || b.labels !== undefined)) return undefined;
  return backends.map((b) => ({ service: b.service!, weight: b.weight }));
}

/**
 * An EDS cluster with the service's FailoverPolicy thresholds as outlier detection, and its
 * retry budget as the circuit breaker's `retry_budget` (Envoy: retries at most `budgetPercent`
 * of the active requests, and `minRetryConcurrency` whatever the budget — our per-second floor
 * is the nearest thing). gRPC clients honour only `max_requests` (gRFC A32), left at its
 * default of 1024 concurrent calls: the policy has no concurrency cap of its own.
 */
function clusterOf(name: string, target: MeshAuthority, context: ResourceContext): AnyResource {
  const failover = failoverOf(context.engine.policies(), target.key);
  const { outlier } = failover;
  const seconds = (ms: number): { seconds: string; nanos: number } => ({ seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 });
  const cluster: Cluster = {
    name,
    type: 'EDS',
    edsClusterConfig: { edsConfig: ADS, serviceName: name },
    lbPolicy: 'ROUND_ROBIN',
    // Envoy's consecutive-5xx detector is the one our outlier tracker models (outlier-tracker.ts).
    outlierDetection: {
      consecutive_5xx: { value: outlier.consecutiveFailures },
      baseEjectionTime: seconds(outlier.ejectionMs),
      maxEjectionTime: seconds(outlier.maxEjectionMs),
      maxEjectionPercent: { value: outlier.maxEjectedPercent },
    } as never,
    circuitBreakers: {
      thresholds: [{
        priority: 'DEFAULT',
        retryBudget: { budgetPercent: { value: failover.retries.budgetPercent }, minRetryConcurrency: { value: failover.retries.minRetriesPerSecond } },
      }],
    },
  };
  return { '@type': TYPE_URLS.cluster, ...cluster };
}

/**
 * Priorities mirror the failover order: priority 0 holds the local endpoints the decision
 * would try (healthy, allowed); priority 1 is this gateway's outbound listener, which carries
 * the call to the remote clusters in their own order, with their gateways' failover — a client
 * cannot dial a remote cluster's endpoints itself.
 */
function endpointsOf(name: string, decision: Decision, context: ResourceContext): AnyResource {
  const localities: LocalityLbEndpoints[] = [];
  // This service's own candidates: a split's other services are clusters of their own (routeOf).
  const own = decision.candidates.filter((c) => c.service === decision.service);
  // In address order: the decision lists local endpoints in a weighted shuffle (the data
  // plane's load spread), and in that order every build of the same endpoints would be a new
  // version, pushed again after every ACK without end; an xDS client balances by itself.
  const local = own.flatMap((c) => (c.target.kind === 'local' ? [c.target] : []))
    .sort((x, y) => x.endpoint.address.localeCompare(y.endpoint.address) || x.port - y.port);
  const remote = own.some((c) => c.target.kind === 'remote');
  const { region, zone } = context.locality;
  if (local.length > 0) {
    localities.push({
      locality: { region, zone, subZone: context.locality.cluster },
      priority: 0,
      loadBalancingWeight: { value: local.length },
      lbEndpoints: local.map((t) => ({
        endpoint: { address: { socketAddress: { address: t.endpoint.address, portValue: t.port } } },
        healthStatus: 'HEALTHY',
        loadBalancingWeight: { value: t.endpoint.weight },
      })),
    });
  }
  if (remote) {
    localities.push({
      locality: { region, zone, subZone: 'causeway-gateway' },
      priority: localities.length,
      loadBalancingWeight: { value: 1 },
      lbEndpoints: [{
        endpoint: { address: { socketAddress: { address: context.outbound.host, portValue: context.outbound.port } } },
        healthStatus: 'HEALTHY',
      }],
    });
  }
  const assignment: ClusterLoadAssignment = { clusterName: name, endpoints: localities };
  return { '@type': TYPE_URLS.endpoints, ...assignment };
}
