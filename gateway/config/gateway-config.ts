import type { SourcesConfig } from './validate-sources.js';
import type { AgentsConfig } from './validate-agents.js';
import type { TelemetryConfig } from './validate-telemetry.js';
import type { XdsConfig } from './validate-xds.js';
import type { PeeringConfig } from './validate-peering.js';
import type { ForwardConfig } from './validate-forward.js';
import type { Locality, ServiceDeclaration } from '../../registry/index.js';
import type { HostPort } from './address.js';
import type { IntermediateFiles } from '../../federation/index.js';
import type { SecretRef } from '../kubernetes/secret-intermediate.js';
import type { AccessRule } from '../dataplane/access-rules.js';

/** The listeners of a gateway (design brief, "Wire protocols"). */
export interface ListenerAddresses {
  eastWest: HostPort;
  federation: HostPort;
  outbound: HostPort;
  admin: HostPort;
  /** HTTPS: the SPIFFE bundle endpoint and workload SVID issuance (later also the agent channel). */
  identity: HostPort;
}

/** The trust domain's CA and rotation timeline (docs/configuration.md, "trust"). */
export interface TrustConfig {
  /** Sign with an operator-supplied intermediate instead of a self-managed root: three files, or a Kubernetes Secret. */
  intermediate?: { kind: 'files'; files: IntermediateFiles } | { kind: 'secret'; secret: SecretRef };
  /** How long a new root is published before it signs. */
  publishWindowSeconds: number;
  /** `spiffe_refresh_hint` of our bundle. */
  bundleRefreshHintSeconds: number;
  /** Default and maximum TTL of workload SVIDs issued by CSR. */
  workloadSvidTtlSeconds: number;
  maxWorkloadSvidTtlSeconds: number;
}

/** The workload SVID API (docs/configuration.md, "issuance"). */
export interface IssuanceConfig {
  rateLimit: { perSecond: number; burst: number };
  /**
   * Accept Kubernetes service account tokens of this issuer, verified against its JWKS: the
   * file `jwksFile`, else the API server's /openid/v1/jwks (through `kubeconfig`, default in-cluster).
   */
  kubernetes?: { issuer: string; audience: string; jwksFile?: string; kubeconfig?: string; maxTokenTtlSeconds: number };
}

/**
 * Resource limits of the listeners (docs/configuration.md, "limits"). The TLS caps apply to
 * each of the east-west, federation and identity listeners separately.
 */
export interface LimitsConfig {
  /** A connection that has not completed its TLS handshake this long is closed. */
  handshakeTimeoutMs: number;
  /** Connections not yet past the TLS handshake, per listener. */
  maxPendingHandshakes: number;
  /** The same, from one source address (IPv6: one /64). */
  maxPendingHandshakesPerSource: number;
  /** Connections one TLS listener holds; `undefined` = derived from the open-file limit (see listener-limits.ts). */
  maxConnections?: number;
  /** File descriptors kept free of listener connections (admin, data dir, upstream sockets, logs). */
  fileDescriptorReserve: number;
  /** HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE of the east-west and outbound listeners, in bytes. */
  maxHeaderListSize: number;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS of one east-west session (RFC 9113 §6.5.2). */
  eastWest: { maxConcurrentStreams: number };
  /** The same for one HTTP/2 (h2c) connection to the outbound listener. */
  outbound: { maxConcurrentStreams: number };
  federation: {
    /** Largest message on an authenticated peer connection (Link snapshots). */
    maxMessageBytes: number;
    /** Largest message on a connection without a client certificate (Redeem). */
    anonymousMaxMessageBytes: number;
    anonymousMaxConcurrentStreams: number;
    /** An authenticated connection with no call in progress this long is closed. */
    idleTimeoutMs: number;
    anonymousIdleTimeoutMs: number;
    /** Heartbeat interval on every peer link. */
    heartbeatIntervalMs: number;
    /** A link that received nothing (heartbeats included) this long is dead and redialled. */
    deadAfterMs: number;
  };
}

/** Timeouts, pools and HTTP/2 windows of the data plane (docs/configuration.md, "dataPlane"). */
export interface DataPlaneConfig {
  /** TCP connect to an endpoint, TCP + TLS + HTTP/2 setup to a remote gateway. */
  connectTimeoutMs: number;
  /** No byte of an answer from the upstream (or none either way on a tunnel) for this long. */
  idleTimeoutMs: number;
  /** A request head must arrive whole within this. */
  headersTimeoutMs: number;
  /** A caller's keep-alive connection with no request in progress is closed after this. */
  keepAliveTimeoutMs: number;
  /** An east-west HTTP stream with no request in progress is ended after this. */
  streamIdleTimeoutMs: number;
  /** Request and response head size limit (431 past it). */
  maxHeadBytes: number;
  streamWindowBytes: number;
  sessionWindowBytes: number;
  pool: { maxPerKey: number; idleTimeoutMs: number; maxLifetimeMs: number; queueTimeoutMs: number };
  /** Sessions to remote gateways: keep-alive PING (RFC 9113 §6.7) and the CONNECT answer timeout. */
  tunnel: { pingIntervalMs: number; pingTimeoutMs: number; responseTimeoutMs: number };
}

/** A validated, frozen gateway configuration. See docs/configuration.md. */
export interface GatewayConfig {
  /** Cluster name: the origin of this cluster's records. */
  cluster: string;
  trustDomain: string;
  gatewayName: string;
  locality: Omit<Locality, 'cluster'>;
  /** Absolute path; relative paths in the file are taken from the file's directory. */
  dataDir: string;
  listen: ListenerAddresses;
  /** What peers dial; when absent, the bound listen address (which must then be specific). */
  advertise: { eastWest?: HostPort; federation?: HostPort; identity?: HostPort };
  /** The outbound listener's caller identification, and the fixed local forward ports (`outbound.forward`). */
  outbound: { identifyCallersBySourceAddress: boolean; forward: readonly ForwardConfig[] };
  services: readonly ServiceDeclaration[];
  access: readonly AccessRule[];
  /** Policy resources (docs/policy.md): the directory read and followed; absolute. */
  policy: { directory: string };
  /** Lifetime of the gateway's own X.509-SVID; renewed at half life. */
  gatewaySvidTtlSeconds: number;
  trust: TrustConfig;
  issuance: IssuanceConfig;
  limits: LimitsConfig;
  dataPlane: DataPlaneConfig;
  /** Registry sources besides `services` (Consul datacenters; docs/configuration.md, "sources"). */
  sources: SourcesConfig;
  /** VM and bare-metal agents: lease and channel ping (docs/configuration.md, "agents"). */
  agents: AgentsConfig;
  /** Metrics cardinality caps and the access log (docs/configuration.md, "telemetry"). */
  telemetry: TelemetryConfig;
  /** The xDS server for Envoy and proxyless gRPC (docs/xds.md); absent: none. */
  xds?: XdsConfig;
  /** Peerings from files: the bootstrap key this gateway accepts credentials of, and the peers it dials (docs/configuration.md, "Peering"). */
  peering: PeeringConfig;
  logLevel: string;
}

export const DEFAULT_PORTS = { eastWest: 15443, federation: 15012, outbound: 15001, admin: 15000, identity: 15017 } as const;
