import { isIP } from 'node:net';
import type { V1EndpointSlice, V1Node, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { Endpoint, Health, Locality, ServiceDeclaration, ServicePort } from '../../model.js';
import { validateExportTo } from '../../export-scope.js';

type PortProtocol = ServicePort['protocol'];

/** The annotation that exports a Service (`"true"`, or a comma-separated list of peers and `key=value` peer selectors). */
export const EXPORT_ANNOTATION = 'causeway.dev/export';
/** EndpointSlices name their Service in this label (discovery.k8s.io/v1, "Ownership"). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Well-known node labels (https://kubernetes.io/docs/reference/labels-annotations-taints/). */
export const REGION_LABEL = 'topology.kubernetes.io/region';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface TranslateContext {
  trustDomain: string;
  /** The gateway's own locality: the default of every endpoint (zone and region come from Kubernetes when known). */
  locality: Locality;
  pod(namespace: string, name: string): V1Pod | undefined;
  node(name: string): V1Node | undefined;
  /** Whether a ServiceExport (multicluster.x-k8s.io) of this name exists in the namespace. */
  serviceExport(namespace: string, name: string): boolean;
}

/** What a Service's export says: not exported, to every peer, or to the listed peers / selectors. */
export type ExportDecision = { exported: false; problem?: string } | { exported: true; to: readonly string[] | undefined };

/**
 * The annotation or the MCS ServiceExport decides (KEP-1645: a ServiceExport exports the
 * Service of the same name and namespace). `causeway.dev/export: "true"` (or an empty value)
 * means every peer; `"false"` nothing; anything else is the list of peers it goes to. A
 * ServiceExport without the annotation exports to every peer; with it, the annotation's list
 * narrows it.
 */
export function exportOf(service: V1Service, context: Pick<TranslateContext, 'serviceExport'>): ExportDecision {
  const raw = service.metadata?.annotations?.[EXPORT_ANNOTATION];
  const mcs = context.serviceExport(service.metadata?.namespace ?? '', service.metadata?.name ?? '');
  if (raw === undefined) return mcs ? { exported: true, to: undefined } : { exported: false };
  const value = raw.trim();
  if (value === 'false') return { exported: false };
  if (value === '' || value === 'true') return { exported: true, to: undefined };
  const to = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  // A selector the registry would refuse must not refuse the whole source: the Service stays
  // unexported (the safe side) and the problem is reported on it.
  const errors: string[] = [];
  validateExportTo(to, EXPORT_ANNOTATION, errors);
  if (errors.length > 0) return { exported: false, problem: errors.join('; ') };
  return { exported: true, to };
}

/**
 * A Service port's protocol: `appProtocol` first (KEP-3726 names; `kubernetes.io/h2c` is
 * cleartext HTTP/2), then the port name's prefix as Istio reads it (`http-`, `grpc-`,
 * `http2-`), else TCP — bytes piped, no per-request routing, which is always safe.
 */
export function protocolOf(port: Pick<V1ServicePort, 'name' | 'appProtocol'>): PortProtocol {
  const app = (port.appProtocol ?? '').toLowerCase();
  if (app === 'http' || app === 'https') return 'http';
  if (app === 'grpc') return 'grpc';
  if (app === 'http2' || app === 'kubernetes.io/h2c' || app === 'h2c') return 'http2';
  if (app !== '' && app !== 'tcp') return 'tcp';
  const name = (port.name ?? '').toLowerCase();
  for (const protocol of ['grpc', 'http2', 'http'] as const) {
    if (name === protocol || name.startsWith(`${protocol}-`)) return protocol;
  }
  return 'tcp';
}

/** The mesh name of a Service port: its name, or `port-<n>` for the one unnamed port a Service may have. */
export function portName(port: Pick<V1ServicePort, 'name' | 'port'>): string {
  return port.name !== undefined && port.name !== '' ? port.name : `port-${port.port}`;
}

/**
 * A Service and the EndpointSlices that name it, as the registry's declaration: one endpoint
 * per address of every ready-or-not endpoint, health from the EndpointSlice conditions
 * (`ready` → healthy; `serving` but `terminating` and anything else → unhealthy, so a
 * draining pod takes no new requests; an unset `ready` means ready, per the API), identity
 * from the pod's service account (`spiffe://<td>/ns/<ns>/sa/<sa>`, design brief), locality
 * from the endpoint's zone and its node's region. UDP and SCTP ports are left out (the data
 * plane carries TCP); so are ExternalName Services (they have no endpoints) and FQDN slices.
 * Undefined when nothing of the Service can be carried.
 */
export function declarationOf(
  service: V1Service, slices: readonly V1EndpointSlice[], context: TranslateContext, decision: ExportDecision = exportOf(service, context),
): ServiceDeclaration | undefined {
  const name = service.metadata?.name;
  const namespace = service.metadata?.namespace;
  if (name === undefined || namespace === undefined || service.spec?.type === 'ExternalName') return undefined;
  const ports: ServicePort[] = [];
  for (const port of service.spec?.ports ?? []) {
    if ((port.protocol ?? 'TCP') !== 'TCP') continue;
    ports.push({ name: portName(port), port: port.port, protocol: protocolOf(port) });
  }
  if (ports.length === 0) return undefined;
  // A slice port carries the Service port's name ("" for an unnamed one): that is the join.
  const byName = new Map((service.spec?.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p) => [p.name ?? '', portName(p)]));
  const endpoints: Endpoint[] = [];
  const seen = new Set<string>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const endpointPorts: Record<string, number> = {};
    for (const port of slice.ports ?? []) {
      const mesh = byName.get(port.name ?? '');
      if (mesh !== undefined && port.port !== undefined && (port.protocol ?? 'TCP') === 'TCP') endpointPorts[mesh] = port.port;
    }
    if (Object.keys(endpointPorts).length === 0) continue;
    for (const endpoint of slice.endpoints ?? []) {
      const address = endpoint.addresses?.[0];
      if (address === undefined || isIP(address) === 0) continue;
      const key = `${address}|${JSON.stringify(endpointPorts)}`;
      // The same pod may be in two slices for a moment (a move between slices): once is enough.
      if (seen.has(key)) continue;
      const ref = endpoint.targetRef;
      const pod = ref?.kind === 'Pod' && ref.name !== undefined ? context.pod(ref.namespace ?? namespace, ref.name) : undefined;
      // A pod the informer has not shown yet: its identity is unknown, so it waits for the pod's event.
      if (ref?.kind === 'Pod' && pod === undefined) continue;
      seen.add(key);
      const node = endpoint.nodeName === undefined ? undefined : context.node(endpoint.nodeName);
      const conditions = endpoint.conditions ?? {};
      const ready = conditions.ready ?? true;
      const health: Health = ready && conditions.terminating !== true ? 'healthy' : 'unhealthy';
      const serviceAccount = pod?.spec?.serviceAccountName ?? 'default';
      endpoints.push({
        address, ports: endpointPorts, kind: 'pod', health, weight: 1,
        labels: { ...(pod?.metadata?.labels ?? {}) },
        identity: `spiffe://${context.trustDomain}/ns/${pod?.metadata?.namespace ?? namespace}/sa/${serviceAccount}`,
        locality: {
          cloud: context.locality.cloud,
          region: node?.metadata?.labels?.[REGION_LABEL] ?? context.locality.region,
          zone: endpoint.zone ?? node?.metadata?.labels?.[ZONE_LABEL] ?? context.locality.zone,
          cluster: context.locality.cluster,
        },
      });
    }
  }
  return {
    name, namespace, exported: decision.exported, ports, endpoints,
    ...(decision.exported && decision.to !== undefined ? { exportTo: decision.to } : {}),
  };
}
