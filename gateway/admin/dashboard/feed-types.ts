// What the page reads of a /v1/live message: GET /v1/status (without services), GET
// /v1/services and GET /v1/traffic in one (gateway/admin/status.ts buildLiveUpdate). Only the
// fields shown are declared; the server sends more. Declared here, not imported, because the
// page is typechecked for the browser apart from the server's code;
// test/unit/gateway/admin/feed-types.test.ts fails to compile when the two drift apart.

export interface LiveUpdate {
  type: 'update';
  status: GatewayStatus;
  services: ServiceView[];
  traffic: TrafficView;
}

export interface GatewayStatus {
  cluster: string;
  trustDomain: string;
  gateway: { name: string; identity: string; ready: boolean };
  policies: { version: number; appliedAt?: string; documents?: number };
  peers: PeerView[];
  outbound: { ejectedGateways: Array<{ gateway: string; service: string; condition: string; reason?: string }> };
}

export type PeerState = 'connecting' | 'connected' | 'disconnected' | 'removed';

export interface PeerView {
  name: string;
  cluster: string;
  state: PeerState;
  stale: boolean;
  silentMs?: number;
  lastAckLagMs?: number;
  unacked: number;
  lastError?: string;
}

export interface EndpointView {
  address: string;
  health: string;
  state: string;
}

export interface ServiceClusterView {
  local: boolean;
  reachability: 'local' | 'reachable' | 'unreachable' | 'ejected';
  endpoints: EndpointView[];
}

export interface ServiceView {
  key: string;
  clusters: Record<string, ServiceClusterView>;
}

export interface TrafficEdgeView {
  direction: 'outbound' | 'inbound';
  from: string;
  to: string;
  service: string;
  rps: number;
  successRate: number | null;
  p99Ms: number | null;
  requests: number;
  errors: number;
}

export interface NotableEventView {
  at: string;
  kind: 'failover' | 'denial' | 'ejection';
  service: string;
  cluster?: string;
  count: number;
  message: string;
}

export interface TrafficView {
  at: string;
  windowSeconds: number;
  edges: TrafficEdgeView[];
  totals: { requests: number; errors: number; denials: number; failovers: number };
  recent: NotableEventView[];
}
