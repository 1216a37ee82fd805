import { X_FORWARDED_CLIENT_CERT } from './headers.js';
import { headerSafe } from './http1/head.js';

/**
 * The verified caller toward a backend, as Envoy's `x-forwarded-client-cert` (XFCC; Envoy
 * docs, HTTP connection manager, "HTTP header manipulation"). The header is a comma-separated
 * list of elements, one per proxy; an element is `;`-separated `Key=value` pairs, keys
 * case-insensitive. A value holding `,`, `;` or `=` is double-quoted, with `"` inside written
 * `\"`. We write one element (Envoy's SANITIZE_SET: whatever the caller sent is dropped,
 * head.ts and forward-stream.ts) with two keys:
 *
 * - `By`: the URI SAN of the certificate of the proxy writing it — this gateway's SPIFFE ID;
 * - `URI`: the URI SAN of the client's certificate — the caller's SPIFFE ID, verified at the
 *   outbound listener (mTLS), or asserted by the calling gateway inside its own trust domain.
 *
 * An anonymous caller gets no header at all.
 */

/** One XFCC value, quoted only when the grammar needs it. */
function xfccValue(value: string): string {
  return /[,;="]/.test(value) ? `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : value;
}

/**
 * The x-forwarded-client-cert value for `caller` as seen by the gateway `by`, or undefined
 * for an anonymous caller. `by` is omitted when unknown (a listener built without an SVID).
 */
export function clientCertHeader(by: string | undefined, caller: string | undefined): string | undefined {
  if (caller === undefined) return undefined;
  const uri = `URI=${xfccValue(caller)}`;
  return by === undefined ? uri : `By=${xfccValue(by)};${uri}`;
}

/** The same as an HTTP/1.1 field line (`x-forwarded-client-cert: …\r\n`), or '' for an anonymous caller. */
export function clientCertLine(by: string | undefined, caller: string | undefined): string {
  const value = clientCertHeader(by, caller);
  // SPIFFE IDs are checked before they get here; a control character still never reaches a raw head.
  return value === undefined ? '' : `${X_FORWARDED_CLIENT_CERT}: ${headerSafe(value)}\r\n`;
}
