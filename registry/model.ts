/**
 * The catalog model of the design brief.
 *
 * A service is keyed `<name>.<namespace>`; the same key in two clusters is the same
 * service (namespace sameness). Each cluster is the single writer of its own services'
 * endpoints, so the unit of replication is a ServiceRecord: one service as seen by one
 * origin cluster, stamped with that origin's version.
 */

/** `<name>.<namespace>`, e.g. `payments.prod`. */
export type ServiceKey = string;

export type EndpointKind = 'pod' | 'vm' | 'metal';
export const ENDPOINT_KINDS: readonly EndpointKind[] = ['pod', 'vm', 'metal'];

export type Health = 'healthy' | 'unhealthy' | 'unknown';
export const HEALTH_STATES: readonly Health[] = ['healthy', 'unhealthy', 'unknown'];

export interface Locality {
  cloud: string;
  region: string;
  zone: string;
  cluster: string;
}

/** A port of a service as callers address it: `<service>.<namespace>:<port>`. */
export interface ServicePort {
  name: string;
  port: number;
  /** `http`: HTTP/1.1; `grpc` and `http2`: HTTP/2 to the backend (h2c); `tcp`: bytes. */
  protocol: 'http' | 'http2' | 'grpc' | 'tcp';
}

export interface Endpoint {
  address: string;
  /** Port number on this endpoint for each service port, by ServicePort.name. */
  ports: Readonly<Record<string, number>>;
  locality: Locality;
  kind: EndpointKind;
  /** SPIFFE ID of the workload behind this endpoint. */
  identity: string;
  health: Health;
  /** Relative load-balancing weight, 1..1000. */
  weight: number;
  labels: Readonly<Record<string, string>>;
  /**
   * The port of the endpoint's sidecar — a `causeway agent` inbound listener on the same
   * host — when the endpoint is reached only through it: the gateway connects there with mTLS
   * (its SVID; the sidecar's certificate must be `identity`) instead of to the service port.
   * Local to the owning cluster: peers never dial an endpoint (no transit), so it is not
   * replicated.
   */
  sidecarPort?: number;
}

/**
 * A change version `(origin, epoch, seq)`. `epoch` changes when the origin starts over
 * without its previous sequence (new data dir); `seq` increases with every change the
 * origin makes within an epoch. Receivers keep the highest version per key.
 */
export interface Version {
  origin: string;
  epoch: number;
  seq: number;
}

/** One service as written by one origin cluster. */
export interface ServiceRecord {
  /** The cluster that owns (is the single writer of) this record. */
  origin: string;
  name: string;
  namespace: string;
  version: Version;
  /** Tombstone: the origin removed (or stopped exporting) this service. */
  deleted: boolean;
  /** Exported records may cross peer links; others stay in their cluster. */
  exported: boolean;
  /**
   * Local records only: the peers an exported record goes to — peer names and `key=value`
   * label selectors (export-scope.ts). Absent: every peer; `[]`: none. The sender's business:
   * never sent over a link, so records learned from peers never carry it.
   */
  exportTo?: readonly string[];
  ports: readonly ServicePort[];
  endpoints: readonly Endpoint[];
}

/** What a source declares for one service; the registry turns it into a ServiceRecord. */
export interface ServiceDeclaration {
  name: string;
  namespace: string;
  exported: boolean;
  /** The peers it is exported to (see ServiceRecord.exportTo); only with `exported: true`. */
  exportTo?: readonly string[];
  ports: readonly ServicePort[];
  endpoints: readonly Endpoint[];
}

/**
 * Where another cluster's traffic enters: the east-west address of one of its gateways.
 * Learned on peer links, kept per cluster.
 */
export interface GatewayRecord {
  cluster: string;
  trustDomain: string;
  /** SPIFFE ID of the gateway, `spiffe://<td>/gateway/<name>`. */
  identity: string;
  /** host:port of its east-west listener. */
  eastWestAddress: string;
  locality: Locality;
}

export function serviceKey(name: string, namespace: string): ServiceKey {
  return `${name}.${namespace}`;
}

/** Splits `name.namespace`; the namespace is everything after the first dot. */
export function parseServiceKey(key: string): { name: string; namespace: string } | undefined {
  const dot = key.indexOf('.');
  if (dot <= 0 || dot === key.length - 1) return undefined;
  return { name: key.slice(0, dot), namespace: key.slice(dot + 1) };
}

/** DNS-1123 label: the names Kubernetes allows for services and namespaces. */
export const NAME_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
