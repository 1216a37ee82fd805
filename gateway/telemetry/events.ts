import type { SourceEvent } from '../../registry/index.js';
import type { PeerEvent, TrustEvent } from '../../federation/index.js';
import type { RequestRecord } from '../dataplane/request-record.js';

/**
 * Every event a gateway's components publish on its telemetry bus (registry/telemetry.ts).
 * Publishers state facts; metrics.ts, access-log.ts and traffic-window.ts subscribe. Gauges
 * (catalog sizes, link state, certificate expiry) are read from the components' status when
 * scraped and have no event.
 */
export type TelemetryEvent = SourceEvent | PeerEvent | TrustEvent | DataPlaneEvent | PolicyEvent;

export type DataPlaneEvent = OutboundRequestEvent | InboundRequestEvent | TunnelClosedEvent | EjectionEvent;

/** A request or tunnel opening at the outbound listener or a forward port, answered or refused. */
export interface OutboundRequestEvent {
  type: 'request';
  record: RequestRecord;
}

/** What the east-west listener served one calling gateway. */
export type InboundKind = 'http' | 'grpc' | 'tcp';

/**
 * One request (HTTP/1.1 on a pooled stream, one HTTP/2 call) or one tunnel opening at the
 * east-west listener, answered or refused.
 */
export interface InboundRequestEvent {
  type: 'inbound';
  at: string;
  kind: InboundKind;
  /** The calling workload as its gateway vouches for it, or "anonymous". */
  source: string;
  /** The calling gateway's SPIFFE ID. */
  peer: string;
  service: string;
  port: number;
  status: number;
  /** The CW_* code of a refusal or failure. */
  code?: string;
  /** The access rule that denied it (`<policy> rules[<i>]`, or `default`). */
  rule?: string;
  /** The local endpoint that served it. */
  endpoint?: string;
  durationMs: number;
  requestBytes?: number;
  responseBytes?: number;
}

/** A tunnel (TCP over CONNECT) ended: its bytes and how long it lived. */
export interface TunnelClosedEvent {
  type: 'tunnel.closed';
  direction: 'outbound' | 'inbound';
  service: string;
  port: number;
  /** The workload that opened it, or "anonymous". */
  source: string;
  /** The cluster that served it (outbound: where the tunnel went). */
  cluster?: string;
  endpoint?: string;
  /** From the caller to the service, and back. */
  bytesSent: number;
  bytesReceived: number;
  durationMs: number;
  error?: string;
}

/** Outlier detection took a remote gateway out of rotation for one service port. */
export interface EjectionEvent {
  type: 'outlier.ejected';
  at: string;
  gateway: string;
  cluster: string;
  service: string;
  port: number;
  /** How many times in a row (the ejection time grows with it). */
  ejections: number;
  reason: string;
}

/** The policy store put a set in force, or refused one whole. */
export type PolicyEvent =
  | { type: 'policy.applied'; version: number; documents: number }
  | { type: 'policy.refused'; source: string; problems: number };
