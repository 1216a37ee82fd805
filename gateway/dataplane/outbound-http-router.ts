import type { Duplex } from 'node:stream';
import { CausewayError, ErrorCodes, describeError, type Logger } from '../../registry/index.js';
import { CAUSEWAY_ENDPOINT, CAUSEWAY_ROUTE, CAUSEWAY_SOURCE } from './headers.js';
import { fieldValue, headerSafe, requestHead } from './http1/head.js';
import type { MessageHead } from './http1/llhttp.js';
import type { ExchangeOutcome, Http1Router, Refusal, RoutedRequest } from './http1/proxy-connection.js';
import type { UpstreamPool } from './http1/upstream-pool.js';
import type { RoutedRecord } from './request-record.js';
import { formatIpAddress, formatMeshAuthority, isIpAddressText, parseMeshHost, type MeshAuthority } from './mesh-address.js';
import { describeTarget, statusForCode, summarise, type RouteDialer } from './route-dialer.js';
import type { RouteTarget } from './endpoint-picker.js';
import { connectTcp } from './tcp-connect.js';

export interface OutboundHttpRouterOptions {
  dialer: RouteDialer;
  pool: UpstreamPool;
  connectTimeoutMs: number;
  logger: Logger;
  onRecord: (record: RoutedRecord) => void;
  /** Why this connection's caller is anonymous and how to identify it, added to its access refusals. */
  anonymousHint?: () => string;
}

/** The request target as a mesh authority and an origin-form path. */
interface Target {
  authority: MeshAuthority;
  path: string;
}

/**
 * Routes each HTTP/1.1 request of one caller connection at the outbound listener: the mesh
 * name from the absolute-form target (RFC 9112 §3.2.2), or from Host for an origin-form
 * request; then the candidates in the picker's order, each tried for a pooled keep-alive
 * connection — a TCP connection to a local endpoint, or a CONNECT stream to the remote
 * cluster's gateway that carries this caller's identity. Every request is routed on its own,
 * and its answer is counted for outlier detection.
 */
export class OutboundHttpRouter implements Http1Router {
  constructor(private readonly options: OutboundHttpRouterOptions, private readonly source: string | undefined) {}

  async route(head: MessageHead, attempt: number): Promise<RoutedRequest | Refusal> {
    const started = performance.now();
    const target = parseTarget(head);
    if ('status' in target) return this.refused(head, started, target.status, target.code, target.message, '', 0);
    const { authority } = target;
    let candidates: RouteTarget[];
    try {
      candidates = this.options.dialer.plan(authority);
    } catch (err) {
      const e = err instanceof CausewayError ? err : new CausewayError(ErrorCodes.INTERNAL, describeError(err));
      return this.refused(head, started, statusForCode(e.code), e.code, e.message, authority.key, authority.port);
    }
    const failures: CausewayError[] = [];
    for (const candidate of candidates) {
      try {
        return await this.routeTo(candidate, head, target, started, attempt);
      } catch (err) {
        const failure = err instanceof CausewayError ? err : new CausewayError(ErrorCodes.UPSTREAM_CONNECT, describeError(err), { cause: err });
        failures.push(failure);
        this.options.logger.debug({ service: formatMeshAuthority(authority), candidate: describeTarget(candidate), attempt, err: failure.message }, 'candidate failed; trying the next');
      }
    }
    const e = summarise(authority, failures);
    return this.refused(head, started, statusForCode(e.code), e.code, e.message, authority.key, authority.port);
  }

  private async routeTo(candidate: RouteTarget, head: MessageHead, target: Target, started: number, attempt: number): Promise<RoutedRequest> {
    const { pool, dialer, connectTimeoutMs } = this.options;
    const authorityText = formatMeshAuthority(target.authority);
    let key: string;
    let create: () => Promise<Duplex>;
    let route: string;
    let extra = '';
    if (candidate.kind === 'local') {
      const where = formatIpAddress(candidate.endpoint.address, candidate.port);
      key = `local ${where}`;
      route = key;
      create = () => connectTcp(candidate.endpoint.address, candidate.port, connectTimeoutMs);
      // This gateway owns the endpoint: it is the one to tell the backend who is calling.
      if (this.source !== undefined) extra = `${CAUSEWAY_SOURCE}: ${this.source}\r\n`;
    } else {
      // One pool per gateway, authority and caller: the stream's CONNECT carries the caller's
      // identity, which the remote gateway authorizes once per stream.
      key = `remote ${candidate.gateway.identity} ${candidate.gateway.eastWestAddress} ${authorityText} ${this.source ?? ''}`;
      route = `remote ${candidate.cluster} via ${candidate.gateway.identity}`;
      create = async () => (await dialer.openTunnel(candidate, authorityText, this.source, { http1: true })).stream;
    }
    // A retry (attempt 1) follows a stale pooled connection: it gets a fresh one (issue 7).
    const conn = await pool.acquire(key, create, { fresh: attempt > 0 });
    return {
      pool,
      conn,
      head: requestHead(head, target.path, authorityText, extra),
      responseFields: (response) => {
        // The remote gateway names the endpoint it chose for this request.
        const endpoint = candidate.kind === 'remote' ? fieldValue(response, CAUSEWAY_ENDPOINT) : undefined;
        if (endpoint !== undefined) route = `${route} -> ${isIpAddressText(endpoint) ? endpoint : 'unknown endpoint'}`;
        return `${CAUSEWAY_ROUTE}: ${headerSafe(route)}\r\n`;
      },
      done: (outcome: ExchangeOutcome) => {
        if (outcome.status !== undefined || outcome.upstreamFailed) {
          // Design brief: outlier detection counts connect errors and 5xx answers.
          dialer.settle(candidate, !outcome.upstreamFailed && (outcome.status ?? 502) < 500);
        }
        this.options.onRecord({
          method: head.method, service: target.authority.key, port: target.authority.port, route,
          status: outcome.status ?? 0, ...(outcome.code === undefined ? {} : { code: outcome.code }),
          durationMs: performance.now() - started,
        });
      },
    };
  }

  private refused(head: MessageHead, started: number, status: number, code: Refusal['code'], text: string, service: string, port: number): Refusal {
    // The refusing gateway only knows that no identity arrived; this one knows why none was sent.
    const hint = code === ErrorCodes.ACCESS_DENIED && this.source === undefined ? this.options.anonymousHint?.() : undefined;
    const message = hint === undefined ? text : `${text}; ${hint}`;
    this.options.logger.info({ source: this.source ?? 'anonymous', service: `${service}:${port}`, status, code, reason: message }, 'outbound request refused');
    this.options.onRecord({ method: head.method, service, port, route: undefined, status, code, durationMs: performance.now() - started });
    return { status, code, message };
  }
}

/**
 * The mesh authority and path of a request: absolute-form `http://<service>.<namespace>:<port>/p`
 * (what an HTTP proxy is sent), or origin-form with the mesh name in Host. Nothing else is
 * accepted, and nothing is ever looked up in DNS.
 */
function parseTarget(head: MessageHead): Target | Refusal {
  const invalid = (message: string): Refusal => ({ status: 400, code: ErrorCodes.REQUEST_INVALID, message });
  let host: string;
  let port: number;
  let path: string;
  const raw = head.target;
  if (raw.startsWith('/')) {
    const hostField = fieldValue(head, 'host');
    if (hostField === undefined) return invalid(`origin-form request ${raw.slice(0, 200)} has no Host; send GET http://<service>.<namespace>:<port>/path`);
    const shape = /^([^:]+)(?::(\d{1,5}))?$/.exec(hostField.trim());
    if (shape === null) return invalid(`Host "${hostField.slice(0, 200)}" is not <service>.<namespace>[:<port>]`);
    host = shape[1]!;
    port = shape[2] === undefined ? 80 : Number(shape[2]);
    path = raw;
  } else {
    let url: URL;
    try {
      if (!/^http:\/\//i.test(raw)) throw new Error('not http');
      url = new URL(raw);
    } catch {
      return invalid(`"${raw.slice(0, 200)}" is not an absolute-form http:// request; send GET http://<service>.<namespace>:<port>/path or CONNECT`);
    }
    host = url.hostname;
    port = url.port === '' ? 80 : Number(url.port);
    path = `${url.pathname}${url.search}`;
  }
  const authority = parseMeshHost(host.toLowerCase(), port);
  if (typeof authority === 'string') return { status: 502, code: ErrorCodes.SERVICE_UNKNOWN, message: `${authority}; nothing is looked up in DNS` };
  return { authority, path };
}
