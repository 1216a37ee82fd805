import { createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { CausewayError, ErrorCodes, describeError, type ErrorCode, type Logger } from '../../../registry/index.js';
import { formatLabels, type Candidate } from '../../policy/decide-route.js';
import type { WindowTuning } from '../h2-windows.js';
import { CAUSEWAY_ERROR, CAUSEWAY_ROUTE, CAUSEWAY_SUBSET } from '../headers.js';
import { formatIpAddress, formatMeshAuthority, parseMeshAuthority, type MeshAuthority } from '../mesh-address.js';
import { statusForCode, type RouteDialer } from '../route-dialer.js';
import type { RequestRecord } from '../request-record.js';
import type { TunnelOpener } from '../tunnel-client.js';
import { callHeaders, forwardStream, towardBackend, towardGateway } from './forward-stream.js';
import type { H2cPool } from './h2c-pool.js';

/** The connection preface of HTTP/2 with prior knowledge (RFC 9113 §3.4). */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface OutboundH2Options {
  dialer: RouteDialer;
  tunnels: TunnelOpener;
  h2c: H2cPool;
  maxConcurrentStreams: number;
  maxHeaderListSize: number;
  windows: WindowTuning;
  logger: Logger;
  onRecord: (record: Omit<RequestRecord, 'at'>) => void;
  /** This gateway's SPIFFE ID, `By` of the x-forwarded-client-cert its own endpoints get. */
  by: () => string | undefined;
}

/**
 * HTTP/2 callers of the outbound listener (gRPC clients with prior knowledge): `:authority` is
 * the mesh name. Each call is routed on its own and travels as its own stream — on the
 * east-west session to the remote cluster's gateway, or on a pooled h2c session to a local
 * endpoint — with its trailers.
 */
export class OutboundH2 {
  private readonly server: Http2Server;
  private readonly sources = new WeakMap<ServerHttp2Session, string | undefined>();
  private attaching: string | undefined;
  /** Sessions of a forward port: every call goes to its one service (`accept`'s `pinned`). */
  private readonly pinnedTo = new WeakMap<ServerHttp2Session, MeshAuthority>();
  private attachingPinned: MeshAuthority | undefined;
  private readonly sessions = new Set<ServerHttp2Session>();

  constructor(private readonly options: OutboundH2Options) {
    this.server = createServer({
      settings: {
        maxConcurrentStreams: options.maxConcurrentStreams,
        maxHeaderListSize: options.maxHeaderListSize,
        initialWindowSize: options.windows.streamWindowBytes,
      },
    });
    this.server.on('session', (session: ServerHttp2Session) => {
      this.sources.set(session, this.attaching);
      if (this.attachingPinned !== undefined) this.pinnedTo.set(session, this.attachingPinned);
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
      session.on('error', (err) => options.logger.debug({ err: describeError(err) }, 'outbound h2c session error'));
      session.once('localSettings', () => {
        if (!session.destroyed) session.setLocalWindowSize(options.windows.sessionWindowBytes);
      });
    });
    this.server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      const source = this.sources.get(stream.session as ServerHttp2Session);
      stream.on('error', () => { /* reported through 'close' */ });
      try {
        this.onStream(stream, headers, source, this.pinnedTo.get(stream.session as ServerHttp2Session));
      } catch (err) {
        this.refuse(stream, 500, ErrorCodes.INTERNAL, describeError(err), source, headers, undefined);
      }
    });
  }

  /**
   * Takes over a caller connection that opened with the HTTP/2 preface (`initial` = what was
   * read), or a TLS connection that chose h2 by ALPN (`initial` empty). `pinned`: a forward
   * port's connection, whose every call goes to that service whatever its `:authority`.
   */
  accept(socket: Socket, initial: Buffer, source: string | undefined, pinned?: MeshAuthority): void {
    // Paused, so the bytes already read stay buffered: the HTTP/2 session reads the handle
    // natively and takes what the socket had buffered on its first tick.
    socket.pause();
    if (initial.length > 0) socket.unshift(initial);
    this.attaching = source;
    this.attachingPinned = pinned;
    try {
      this.server.emit('connection', socket);
    } finally {
      this.attaching = undefined;
      this.attachingPinned = undefined;
    }
  }

  close(): void {
    for (const session of this.sessions) session.destroy();
    this.server.close();
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, source: string | undefined, pinned: MeshAuthority | undefined): void {
    const started = performance.now();
    const authority = headers[':authority'];
    const target = pinned ?? (typeof authority === 'string' ? parseMeshAuthority(authority) : 'missing :authority');
    if (typeof target === 'string') return this.refuse(stream, 400, ErrorCodes.REQUEST_INVALID, `bad :authority (want <service>.<namespace>:<port>): ${target}`, source, headers, undefined);
    if (headers[':method'] === 'CONNECT') return this.refuse(stream, 405, ErrorCodes.REQUEST_INVALID, 'CONNECT over HTTP/2 is not served; use HTTP/1.1 CONNECT', source, headers, target);
    const path = String(headers[':path'] ?? '/');
    const method = String(headers[':method'] ?? 'POST');
    let planned: Candidate;
    try {
      planned = this.options.dialer.plan(target, source, { method, path }).candidates[0]!;
    } catch (err) {
      const e = err instanceof CausewayError ? err : new CausewayError(ErrorCodes.INTERNAL, describeError(err));
      return this.refuse(stream, statusForCode(e.code), e.code, e.message, source, headers, target);
    }
    const candidate = planned.target;
    // A TrafficSplit may send the call to another service: that is the authority it asks for.
    const plannedAuthority = `${planned.service}:${planned.port}`;
    let route: string;
    let upstream;
    let endpoint: string | undefined;
    try {
      if (candidate.kind === 'local') {
        endpoint = formatIpAddress(candidate.endpoint.address, candidate.port);
        route = `local ${endpoint}`;
        // This gateway owns the endpoint: it is the one to tell the backend who is calling.
        const out = callHeaders(headers, { method, path, scheme: 'http', authority: plannedAuthority }, towardBackend(this.options.by(), source));
        upstream = this.options.h2c.session(candidate.endpoint, candidate.port).request(out, { endStream: false });
      } else {
        route = `remote ${candidate.cluster} via ${candidate.gateway.identity}`;
        const request = this.options.tunnels.request;
        if (request === undefined) throw new Error('this tunnel client cannot carry HTTP/2 calls');
        upstream = request.call(this.options.tunnels, candidate.gateway, callHeaders(headers, { method, path, scheme: 'https', authority: plannedAuthority }, { ...towardGateway(source), ...(candidate.subset === undefined ? {} : { [CAUSEWAY_SUBSET]: formatLabels(candidate.subset) }) }));
      }
    } catch (err) {
      this.options.dialer.settle(planned, false, describeError(err));
      return this.refuse(stream, 502, ErrorCodes.UPSTREAM_CONNECT, describeError(err), source, headers, target);
    }
    forwardStream(stream, upstream, {
      responseFields: { [CAUSEWAY_ROUTE]: route },
      done: (status) => {
        // Outlier detection counts failures to answer and 5xx (design brief).
        this.options.dialer.settle(planned, status !== undefined && status < 500);
        this.options.onRecord({
          source: source ?? 'anonymous', method, service: target.key, port: target.port, route,
          status: status ?? 502, ...(status === undefined ? { code: ErrorCodes.UPSTREAM_BROKEN } : {}), durationMs: performance.now() - started,
          ...(candidate.kind === 'remote' ? { cluster: candidate.cluster } : {}), ...(endpoint === undefined ? {} : { endpoint }),
          failover: false,
        });
      },
    });
  }

  private refuse(stream: ServerHttp2Stream, status: number, code: ErrorCode, message: string, source: string | undefined, headers: IncomingHttpHeaders, target: MeshAuthority | undefined): void {
    this.options.logger.info({ source: source ?? 'anonymous', service: headers[':authority'], status, code, reason: message }, 'outbound call refused');
    this.options.onRecord({ source: source ?? 'anonymous', method: String(headers[':method']), service: target?.key ?? '', port: target?.port ?? 0, route: undefined, status, code, durationMs: 0 });
    if (stream.destroyed || stream.headersSent) return;
    stream.respond({ ':status': status, [CAUSEWAY_ERROR]: code, 'content-type': 'application/json' });
    stream.end(JSON.stringify({ code, message }));
  }
}
