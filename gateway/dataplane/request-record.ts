/** One proxied request or tunnel, for telemetry, the status API and the demo. */
export interface RequestRecord {
  /** When the request arrived (ISO 8601). */
  at: string;
  /** The HTTP method, or CONNECT for a tunnel. */
  method: string;
  /** The mesh name as asked for (a service key when it is one). */
  service: string;
  port: number;
  /** `local <ip:port>` / `remote <cluster> via <gateway> -> <endpoint>`; undefined when nothing was reached. */
  route: string | undefined;
  /** Status answered to the caller (200 for an established tunnel). */
  status: number;
  /** The CW_* code of a refusal or failure. */
  code?: string;
  /** Until the response finished (absolute-form) or the tunnel was established (CONNECT). */
  durationMs: number;
  /** The caller's SPIFFE ID, or "anonymous". */
  source: string;
  /** The fixed forward port it came in on (`forward 127.0.0.1:9001`); absent: the outbound listener. */
  via?: string;
  /** The cluster that served it (this one for a local endpoint); absent when nothing was reached. */
  cluster?: string;
  /** The endpoint that served it (`ip:port`), when known (a remote gateway names it). */
  endpoint?: string;
  /** Served by a cluster after the first one its decision ranked (a failover). */
  failover?: boolean;
  /** Tries after the first (FailoverPolicy retries). */
  retries?: number;
  /** HTTP: bytes of the request sent on (head and body) and of the answer passed back. */
  requestBytes?: number;
  responseBytes?: number;
}

/** What a router reports of one request; the listener adds when and who. */
export type RoutedRecord = Omit<RequestRecord, 'at' | 'source'>;
