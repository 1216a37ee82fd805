import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1): they describe one connection, so a proxy must not
 * forward them. Proxy-Authorization is consumed by the proxy it is meant for (§11.7.2).
 */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade', 'trailer',
  'proxy-authorization', 'proxy-authenticate',
]);

/** Our own request fields are set by gateways, never taken from a caller. */
const CAUSEWAY_PREFIX = 'causeway-';

/** RFC 9110 §7.6.3: each proxy appends itself to Via. */
export const VIA = '1.1 causeway';

/**
 * Copies `headers` without the hop-by-hop fields — including every field the Connection
 * header names (RFC 9110 §7.6.1) — and, for requests, without `causeway-*` fields.
 */
export function forwardableHeaders(headers: IncomingHttpHeaders, kind: 'request' | 'response'): OutgoingHttpHeaders {
  const named = new Set<string>();
  for (const value of [headers.connection, headers['proxy-connection']]) {
    const text = Array.isArray(value) ? value.join(',') : value;
    for (const token of (text ?? '').split(',')) if (token.trim() !== '') named.add(token.trim().toLowerCase());
  }
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    if (kind === 'request' && name.startsWith(CAUSEWAY_PREFIX)) continue;
    out[name] = value;
  }
  const via = headers.via;
  out.via = via === undefined ? VIA : `${Array.isArray(via) ? via.join(', ') : via}, ${VIA}`;
  return out;
}

/** Only visible ASCII and spaces: what we write into a raw HTTP/1.1 header line. */
export function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?');
}

/** A whole HTTP/1.1 error answer written straight onto a socket (CONNECT refusals). */
export function rawErrorResponse(status: number, code: string, message: string): string {
  const body = JSON.stringify({ code, message });
  return [
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}`,
    `causeway-error: ${headerSafe(code)}`,
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};
