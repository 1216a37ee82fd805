/**
 * Header names of the Causeway data plane (lower-case: HTTP/2 requires it, RFC 7540 §8.1.2,
 * and node:http reports HTTP/1.1 headers lower-cased).
 */

/** Request, east-west streams: SPIFFE ID of the calling workload, asserted by the calling gateway. Never sent to a backend. */
export const CAUSEWAY_SOURCE = 'causeway-source';
/**
 * Request, toward a backend: the verified caller in Envoy's x-forwarded-client-cert format
 * (client-cert-header.ts), written only by the gateway that owns the endpoint.
 */
export const X_FORWARDED_CLIENT_CERT = 'x-forwarded-client-cert';

/**
 * Request fields only a gateway writes (`causeway-*` and x-forwarded-client-cert): dropped
 * from every request head a caller sends, HTTP/1.1 and HTTP/2, and refused in a trailer
 * section, which is forwarded as it came. `lowerName` is lower-case.
 */
export function isGatewayField(lowerName: string): boolean {
  return lowerName.startsWith('causeway-') || lowerName === X_FORWARDED_CLIENT_CERT;
}
/** Response, on refusals: the stable CW_* code (docs/errors.md). */
export const CAUSEWAY_ERROR = 'causeway-error';
/** Response, east-west 200: the `ip:port` of the endpoint the tunnel reached. */
export const CAUSEWAY_ENDPOINT = 'causeway-endpoint';
/** Response, east-west 200: the cluster that answered. */
export const CAUSEWAY_CLUSTER = 'causeway-cluster';
/** Response, outbound proxy: the path a request took (`local <ip:port>` or `remote <cluster> via <gateway> -> <endpoint>`). */
export const CAUSEWAY_ROUTE = 'causeway-route';

/**
 * Request, east-west CONNECT: `http/1.1` when the calling gateway will send HTTP/1.1 requests
 * with keep-alive on the stream (its pooled HTTP path); the answering gateway then routes each
 * request on its own. Absent: a byte stream, piped to one endpoint (a caller's own CONNECT).
 */
export const CAUSEWAY_STREAM = 'causeway-stream';
export const STREAM_HTTP1 = 'http/1.1';

/**
 * Request, east-west CONNECT or HTTP/2 call: the endpoint labels the calling gateway's route
 * decision asked for (`name=value,name=value`, names sorted), when a FailoverPolicy target, a
 * traffic class route or a TrafficSplit backend names an endpoint subset. The answering gateway
 * picks only endpoints that carry every label.
 */
export const CAUSEWAY_SUBSET = 'causeway-subset';
