import { isGatewayField } from '../headers.js';
import type { MessageHead } from './llhttp.js';

/**
 * Rewriting HTTP/1.1 heads as a proxy must (RFC 9110 §7.6): hop-by-hop fields are dropped,
 * the fields only gateways write (`causeway-*`, x-forwarded-client-cert) are never taken from
 * a caller, Via is appended. The framing
 * fields (Content-Length, Transfer-Encoding) are kept: bodies are forwarded with their framing
 * untouched, so the head must keep describing them.
 */

/** RFC 9110 §7.6.1 hop-by-hop fields, less Transfer-Encoding (see above). */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'proxy-connection', 'keep-alive', 'te', 'upgrade', 'proxy-authorization', 'proxy-authenticate',
]);
const VIA = '1.1 causeway';

/** Methods RFC 9110 §9.2.2 calls idempotent: safe to send again after a stale pooled connection. */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** The first value of a field (case-insensitive name), or undefined. */
export function fieldValue(head: MessageHead, name: string): string | undefined {
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) return raw[i + 1];
  return undefined;
}

/** Every value of a field, in order. */
export function fieldValues(head: MessageHead, name: string): string[] {
  const out: string[] = [];
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
}

/** The message has a body to forward (RFC 9112 §6.3): chunked, or a Content-Length above 0. */
export function hasBody(head: MessageHead): boolean {
  if (fieldValue(head, 'transfer-encoding') !== undefined) return true;
  const length = fieldValue(head, 'content-length');
  return length !== undefined && length.trim() !== '0';
}

/**
 * The response has framing of its own (RFC 9112 §6.3): no body by rule, chunked as the last
 * transfer coding, or Content-Length. Anything else is delimited by the connection closing.
 */
export function responseFramed(head: MessageHead, method: string): boolean {
  if (method === 'HEAD' || head.status === 204 || head.status === 304) return true;
  const coding = fieldValue(head, 'transfer-encoding');
  if (coding !== undefined) return /(^|,)\s*chunked\s*$/i.test(coding);
  return fieldValue(head, 'content-length') !== undefined;
}

/**
 * Framing rules llhttp leaves to the application (it already refuses Content-Length with
 * Transfer-Encoding, duplicate or malformed Content-Length and bad chunks). RFC 9112 §6.3 (4):
 * a request whose Transfer-Encoding does not end in chunked cannot be delimited — 400. We are
 * stricter and accept only `chunked` itself: a transfer coding we would forward unparsed is
 * one the next hop might frame differently (§6.1). A Transfer-Encoding in an HTTP/1.0 request
 * is faulty framing (§6.1). Returns what is wrong, or undefined.
 */
export function requestFramingError(head: MessageHead): string | undefined {
  // RFC 9112 §3.2: more than one Host is a 400; the next hop might route by another one.
  if (fieldValues(head, 'host').length > 1) return 'more than one Host field';
  const codings = fieldValues(head, 'transfer-encoding');
  if (codings.length === 0) return undefined;
  if (head.versionMinor === 0) return 'Transfer-Encoding in an HTTP/1.0 request';
  if (codings.length > 1) return 'more than one Transfer-Encoding field';
  if (codings[0]!.trim().toLowerCase() !== 'chunked') return `Transfer-Encoding "${codings[0]!.slice(0, 100)}" is not "chunked"`;
  return undefined;
}

/**
 * Only HTTP/1.0 and HTTP/1.1 are spoken here. llhttp also reads an HTTP/0.9 request line (no
 * version, no fields) and HTTP/2.0 in HTTP/1 syntax; neither may be forwarded as HTTP/1.1
 * (RFC 9110 §15.6.6: 505). Returns what is wrong, or undefined.
 */
export function requestVersionError(head: MessageHead): string | undefined {
  if (head.versionMajor === 1 && (head.versionMinor === 0 || head.versionMinor === 1)) return undefined;
  return `HTTP/${head.versionMajor}.${head.versionMinor} is not supported; send HTTP/1.1`;
}

/** Field names listed in Connection (RFC 9110 §7.6.1): hop-by-hop for this connection. */
function connectionNamed(head: MessageHead): Set<string> | undefined {
  let named: Set<string> | undefined;
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name !== 'connection' && name !== 'proxy-connection') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const t = token.trim().toLowerCase();
      if (t !== '') (named ??= new Set()).add(t);
    }
  }
  return named;
}

/** The fields to forward, as `Name: value\r\n` lines, with Via appended; Host is left out for requests. */
function forwardedFields(head: MessageHead, kind: 'request' | 'response'): string {
  const named = connectionNamed(head);
  const raw = head.rawHeaders;
  let out = '';
  let via: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named?.has(lower) === true) continue;
    if (kind === 'request' && (lower === 'host' || isGatewayField(lower))) continue;
    if (lower === 'via') {
      via = via === undefined ? raw[i + 1] : `${via}, ${raw[i + 1]}`;
      continue;
    }
    out += `${name}: ${raw[i + 1]}\r\n`;
  }
  return `${out}Via: ${via === undefined ? VIA : `${via}, ${VIA}`}\r\n`;
}

/**
 * The request head for the next hop: origin-form target (RFC 9112 §3.2.1), Host = the mesh
 * authority, the caller's fields less hop-by-hop and gateway-only ones, then `extra` (set by us).
 */
export function requestHead(head: MessageHead, path: string, host: string, extra: string): Buffer {
  const text = `${head.method} ${path} HTTP/1.${head.versionMinor === 0 ? 0 : 1}\r\nHost: ${host}\r\n${forwardedFields(head, 'request')}${extra}\r\n`;
  return Buffer.from(text, 'latin1');
}

/** The response head for the caller, with `extra` fields and, when `close`, Connection: close. */
export function responseHead(head: MessageHead, extra: string, close: boolean): string {
  return `HTTP/1.1 ${head.status} ${head.reason}\r\n${forwardedFields(head, 'response')}${extra}${close ? 'Connection: close\r\n' : ''}\r\n`;
}

/** Only visible ASCII and spaces: what we write into a raw header line of our own. */
export function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?');
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout',
  413: 'Content Too Large', 417: 'Expectation Failed', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

/** A whole error answer of our own: JSON `{code, message}` with the code in `causeway-error`. */
export function errorResponse(status: number, code: string, message: string, options: { close: boolean; extra?: string }): Buffer {
  const body = JSON.stringify({ code, message });
  return Buffer.from(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\ncauseway-error: ${headerSafe(code)}\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n${options.extra ?? ''}${options.close ? 'connection: close\r\n' : ''}\r\n${body}`,
  );
}
