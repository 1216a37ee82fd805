import { constants as h2, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { clientCertHeader } from '../client-cert-header.js';
import { CAUSEWAY_SOURCE, X_FORWARDED_CLIENT_CERT, isGatewayField } from '../headers.js';

/**
 * Proxying one HTTP/2 request stream onto another (gRPC calls and other HTTP/2 traffic: the
 * design brief's "an HTTP/2 or gRPC call is one HTTP/2 request stream"). Headers are
 * rewritten; DATA is piped with HTTP/2's own flow control; trailers — where gRPC puts its
 * status (grpc-status, grpc-message) — are carried through.
 */

/** RFC 9113 §8.2.2: connection-specific fields are malformed in HTTP/2; never forwarded. */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']);

/**
 * The caller's request fields for the next hop: pseudo-headers and connection-specific fields
 * dropped (the caller sets them again), the fields only gateways write (`causeway-*`,
 * x-forwarded-client-cert) never taken from a caller, `te` only as
 * "trailers" (§8.2.2), then `set` on top.
 */
export function forwardRequestHeaders(headers: IncomingHttpHeaders, set: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':') || CONNECTION_SPECIFIC.has(name) || isGatewayField(name)) continue;
    if (name === 'te' && value !== 'trailers') continue;
    out[name] = value;
  }
  return Object.assign(out, set);
}

/**
 * The caller's identity toward a remote cluster's gateway: `causeway-source`, this gateway's
 * assertion, which the answering gateway accepts only inside our trust domain.
 */
export function towardGateway(source: string | undefined): OutgoingHttpHeaders {
  return source === undefined ? {} : { [CAUSEWAY_SOURCE]: source };
}

/**
 * The caller's identity toward a backend, written by the gateway that owns the endpoint
 * (`by`): x-forwarded-client-cert (client-cert-header.ts); nothing for an anonymous caller.
 */
export function towardBackend(by: string | undefined, source: string | undefined): OutgoingHttpHeaders {
  const value = clientCertHeader(by, source);
  return value === undefined ? {} : { [X_FORWARDED_CLIENT_CERT]: value };
}

/**
 * The request head of a call for its next hop: the caller's fields (see above) with the
 * pseudo-headers of that hop and the caller's identity for it (towardGateway, towardBackend).
 */
export function callHeaders(
  headers: IncomingHttpHeaders, hop: { method: string; path: string; scheme: 'http' | 'https'; authority: string }, identity: OutgoingHttpHeaders,
): OutgoingHttpHeaders {
  return forwardRequestHeaders(headers, { ':method': hop.method, ':path': hop.path, ':scheme': hop.scheme, ':authority': hop.authority, ...identity });
}

/** Response fields and trailers for the caller: connection-specific fields dropped, `:status` kept. */
export function forwardResponseHeaders(headers: IncomingHttpHeaders, add: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || CONNECTION_SPECIFIC.has(name) || (name.startsWith(':') && name !== ':status')) continue;
    out[name] = value;
  }
  return Object.assign(out, add);
}

export interface ForwardHooks {
  /** Fields added to the caller's response head. */
  responseFields?: OutgoingHttpHeaders;
  /** Called once: the answer's status, or undefined when the upstream failed before answering. */
  done(status: number | undefined, error?: Error): void;
}

/**
 * Pipes `incoming` (the caller's stream) to `outgoing` (already requested upstream) and the
 * answer back. A reset on either side resets the other with the same code, so a cancelled
 * gRPC call is cancelled upstream too.
 */
export function forwardStream(incoming: ServerHttp2Stream, outgoing: ClientHttp2Stream, hooks: ForwardHooks): void {
  let finished = false;
  const finish = (status: number | undefined, error?: Error): void => {
    if (finished) return;
    finished = true;
    hooks.done(status, error);
  };
  let status: number | undefined;
  let trailers: IncomingHttpHeaders | undefined;
  let piping = false;

  incoming.pipe(outgoing);
  outgoing.on('response', (headers, flags) => {
    status = Number(headers[':status']);
    if (incoming.destroyed || incoming.headersSent) return;
    // A trailers-only answer (gRPC errors) ends with its headers.
    const endStream = (flags & h2.NGHTTP2_FLAG_END_STREAM) !== 0;
    incoming.respond(forwardResponseHeaders(headers, hooks.responseFields), endStream ? { endStream: true } : { waitForTrailers: true });
    if (!endStream) {
      piping = true;
      outgoing.pipe(incoming);
    }
  });
  outgoing.on('trailers', (headers) => {
    trailers = headers;
  });
  incoming.on('wantTrailers', () => {
    // Without trailers an empty HEADERS frame with END_STREAM ends the stream (what Node does
    // when nobody handles 'wantTrailers'); close() would leave it open.
    incoming.sendTrailers(trailers === undefined ? {} : forwardResponseHeaders(trailers));
  });
  outgoing.on('close', () => {
    const code = outgoing.rstCode ?? h2.NGHTTP2_NO_ERROR;
    // A stream that closed before its END_STREAM was cut, whatever the reset code says: the
    // caller must not take a partial answer for a whole one.
    const cut = piping && !outgoing.readableEnded;
    if (code !== h2.NGHTTP2_NO_ERROR || status === undefined || cut) {
      if (!incoming.destroyed) {
        if (!incoming.headersSent && status === undefined) {
          incoming.respond({ ':status': 502, 'causeway-error': 'CW_UPSTREAM_BROKEN', 'content-type': 'application/json' });
          incoming.end(JSON.stringify({ code: 'CW_UPSTREAM_BROKEN', message: `upstream stream closed before answering (code ${code})` }));
        } else {
          incoming.close(code === h2.NGHTTP2_NO_ERROR ? h2.NGHTTP2_INTERNAL_ERROR : code);
        }
      }
      finish(status, new Error(`upstream stream closed (code ${code})`));
      return;
    }
    finish(status);
  });
  incoming.on('close', () => {
    const code = incoming.rstCode;
    if (!outgoing.destroyed) outgoing.close(code === undefined || code === h2.NGHTTP2_NO_ERROR ? h2.NGHTTP2_CANCEL : code);
  });
  outgoing.on('error', () => { /* reported through 'close' */ });
  incoming.on('error', () => { /* reported through 'close' */ });
}
