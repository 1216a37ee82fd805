import type { Locality, ServiceDeclaration } from '../../registry/index.js';
import type { HostPort } from './address.js';
import type { AccessRule } from '../dataplane/access-rules.js';

/** The four listeners of a gateway (design brief, "Wire protocols"). */
export interface ListenerAddresses {
  eastWest: HostPort;
  federation: HostPort;
  outbound: HostPort;
  admin: HostPort;
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
  advertise: { eastWest?: HostPort; federation?: HostPort };
  outbound: { identifyCallersBySourceAddress: boolean };
  services: readonly ServiceDeclaration[];
  access: readonly AccessRule[];
  /** Lifetime of the gateway's own X.509-SVID; renewed at half life. */
  gatewaySvidTtlSeconds: number;
  logLevel: string;
}

export const DEFAULT_PORTS = { eastWest: 15443, federation: 15012, outbound: 15001, admin: 15000 } as const;
