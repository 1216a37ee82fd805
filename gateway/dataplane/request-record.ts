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
}

/** What a router reports of one request; the listener adds when and who. */
export type RoutedRecord = Omit<RequestRecord, 'at' | 'source'>;
