import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ClientHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import {
  CausewayError, ErrorCodes, describeError, listenOn, silentLogger, type CatalogReader, type EventSink, type Locality, type Logger,
} from '../../registry/index.js';
import type { DataPlaneEvent } from '../telemetry/events.js';
import { MtlsServer, type ConnectionLimits, type PeerIdentity, type SvidSource, type TrustReader } from '../../federation/index.js';
import { bridge } from './bridge.js';
import type { SidecarCredentials } from './endpoint-connector.js';
import { PolicyEngine } from '../policy/policy-engine.js';
import { EMPTY_POLICY_SET } from '../policy/policy-set.js';
import { policiesFrom } from '../policy/static-policies.js';
import { RetryBudget } from './retry-budget.js';
import { CAUSEWAY_ROUTE } from './headers.js';
import { errorResponse, headerSafe } from './http1/head.js';
import type { MessageHead } from './http1/llhttp.js';
import { Http1ProxyConnection } from './http1/proxy-connection.js';
import { PinnedRouter } from './http1/pinned-router.js';
import { DEFAULT_POOL, UpstreamPool, type PoolTuning } from './http1/upstream-pool.js';
import { IdleSweeper } from './idle-sweeper.js';
import { OutboundHttpRouter } from './outbound-http-router.js';
import type { RequestRecord } from './request-record.js';

export type { RequestRecord } from './request-record.js';
import { H2cPool } from './h2/h2c-pool.js';
import { H2_PREFACE, OutboundH2 } from './h2/outbound-h2.js';
import { H2_WINDOWS, type WindowTuning } from './h2-windows.js';
import { formatIpAddress, formatMeshAuthority, parseMeshHost, type MeshAuthority } from './mesh-address.js';
import { OutlierTracker } from './outlier-tracker.js';
import { RouteDialer, statusForCode, type DialedRoute } from './route-dialer.js';
import type { TunnelOpener } from './tunnel-client.js';

/**
 * mTLS for workloads at the outbound listener (design brief, port 15001: "optionally mTLS with
 * the workload's SVID"), on the same port as plaintext HTTP/1.1 and h2c.
 */
export interface OutboundTlsOptions {
  /** This gateway's SVID: served to TLS callers, and `By` of the x-forwarded-client-cert its own endpoints get. */
  svid: SvidSource;
  /** Bundles held; a caller's chain is checked as on every mTLS listener (MtlsServer, verifyPeerChain). */
  trust: TrustReader;
  /** Which verified callers this listener serves: the reason to refuse one, or undefined (workloadCallerRefusal). */
  admit: (peer: PeerIdentity) => string | undefined;
  /** A TLS caller must complete its handshake within this (limits.handshakeTimeout). Default 10000 ms. */
  handshakeTimeoutMs?: number;
  /** Pending-handshake caps (limits.*); the connection cap is the listener's own maxConnections. */
  limits?: Partial<ConnectionLimits>;
}

export interface OutboundProxyOptions {
  catalog: CatalogReader;
  tunnels: TunnelOpener;
  /** Locality of this gateway. */
  locality: Locality;
  /**
   * The gateway's decisions (access, failover, split). Absent: one over the catalog with no
   * policies, every gateway up and the caller's trust domain `localTrustDomain`.
   */
  engine?: PolicyEngine;
  localTrustDomain?: string;
  outliers?: OutlierTracker;
  /**
   * Who is calling, for a plaintext caller (design brief, "Who is calling": the source address,
   * option 3); undefined = anonymous (the default). A TLS caller is its SVID and nothing else.
   */
  callerIdentity?: (remoteAddress: string, socket: Socket) => string | undefined;
  /** Callers may connect with TLS and their X.509-SVID. Absent: plaintext only, and x-forwarded-client-cert carries no `By`. */
  tls?: OutboundTlsOptions;
  onRequest?: (record: RequestRecord) => void;
  /** Telemetry: every request and tunnel opening (`request`), every tunnel's end (`tunnel.closed`). */
  events?: EventSink<DataPlaneEvent>;
  logger?: Logger;
  /** Per candidate. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** No bytes either way on a tunnel, or no progress of an upstream response, for this long. Default 300000 ms. */
  idleTimeoutMs?: number;
  /** A client must send its request headers within this. Default 30000 ms. */
  headersTimeoutMs?: number;
  /** A caller's keep-alive connection with no request in progress is closed after this. Default 60000 ms. */
  keepAliveTimeoutMs?: number;
  /** Request and response head size limit. Default 65536 bytes. */
  maxHeadBytes?: number;
  pool?: Partial<PoolTuning>;
  /** HTTP/2 (h2c) callers: SETTINGS_MAX_CONCURRENT_STREAMS per connection. Default 1000. */
  maxConcurrentStreams?: number;
  /** HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE. Default 65536. */
  maxHeaderListSize?: number;
  windows?: Partial<WindowTuning>;
  /**
   * Caller connections held at once; beyond it new ones are closed as they arrive, so a flood
   * cannot take the descriptors the rest of the gateway needs (limits.maxConnections).
   */
  maxConnections?: number;
  /** Why a caller from this address is anonymous, and which config key would identify it (CW_ACCESS_DENIED refusals). */
  anonymousHint?: (remoteAddress: string) => string;
}

interface ResolvedOptions extends OutboundProxyOptions {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxHeadBytes: number;
}

/**
 * The local outbound listener (design brief, port 15001): an HTTP/1.1 proxy that takes
 * absolute-form requests (`GET http://echo.demo:8080/x`, RFC 9112 §3.2.2 — what `curl -x`
 * sends), origin-form requests whose Host is a mesh name, and CONNECT (`CONNECT
 * echo.demo:8080`, RFC 9110 §9.3.6 — `curl -p -x` and TCP clients). The host is a service key
 * of the federated catalog and nothing else: it is never resolved through DNS, and a host
 * that is not in the catalog is answered 502.
 *
 * HTTP is handled lean: each request head is parsed (llhttp) and routed on its own, bodies are
 * forwarded with their framing untouched, and upstream connections are pooled keep-alive
 * connections (see Http1ProxyConnection). A caller's connection stays open across requests.
 *
 * One port, three openings, told apart by the first bytes: a TLS handshake record (mTLS with
 * the caller's SVID, then HTTP/2 or HTTP/1.1 by ALPN), the HTTP/2 preface (h2c), anything else
 * HTTP/1.1. The caller's identity goes to the endpoint's gateway, which tells the backend in
 * x-forwarded-client-cert (ours, when the endpoint is local).
 */
export class OutboundProxy {
  private readonly options: ResolvedOptions;
  private readonly logger: Logger;
  private readonly server: Server;
  private readonly dialer: RouteDialer;
  private readonly sweeper = new IdleSweeper();
  private readonly pool: UpstreamPool;
  private readonly h2c: H2cPool;
  private readonly h2: OutboundH2;
  private readonly sockets = new Set<Duplex>();
  private readonly mtls: MtlsServer | undefined;
  private closing: Promise<void> | undefined;
  /** The engine built here when none was given (closed with the proxy). */
  private readonly ownEngine: PolicyEngine | undefined;
  private readonly retryBudget = new RetryBudget();

  constructor(options: OutboundProxyOptions) {
    this.options = {
      ...options,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
      headersTimeoutMs: options.headersTimeoutMs ?? 30_000,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 60_000,
      maxHeadBytes: options.maxHeadBytes ?? 65_536,
    };
    this.logger = (options.logger ?? silentLogger()).child({ component: 'outbound' });
    const outliers = options.outliers ?? new OutlierTracker({ logger: this.logger });
    this.ownEngine = options.engine === undefined ? new PolicyEngine({
      catalog: options.catalog, locality: options.locality, policies: policiesFrom(() => EMPTY_POLICY_SET),
      localTrustDomain: options.localTrustDomain,
    }) : undefined;
    // Local endpoints behind an agent's sidecar are reached with this listener's SVID.
    const sidecar: SidecarCredentials | undefined = options.tls === undefined || options.localTrustDomain === undefined ? undefined
      : { svid: options.tls.svid, trust: options.tls.trust, trustDomain: options.localTrustDomain };
    this.dialer = new RouteDialer({
      engine: options.engine ?? this.ownEngine!,
      outliers,
      tunnels: options.tunnels,
      connectTimeoutMs: this.options.connectTimeoutMs,
      logger: this.logger,
      ...(sidecar === undefined ? {} : { sidecar }),
    });
    const tunnels = options.tunnels;
    this.pool = new UpstreamPool({
      ...DEFAULT_POOL, ...options.pool, sweeper: this.sweeper, logger: this.logger,
      // A CONNECT stream goes back through the tunnel client (its reset budget); a socket is destroyed.
      dispose: (stream) => {
        if (tunnels.cancel !== undefined && 'session' in stream) tunnels.cancel(stream as ClientHttp2Stream);
        else stream.destroy();
      },
    });
    const windows = { ...H2_WINDOWS, ...options.windows };
    this.h2c = new H2cPool({
      connectTimeoutMs: this.options.connectTimeoutMs, idleTimeoutMs: this.options.keepAliveTimeoutMs, windows, logger: this.logger,
      ...(sidecar === undefined ? {} : { sidecar }),
    });
    this.h2 = new OutboundH2({
      dialer: this.dialer, tunnels: options.tunnels, h2c: this.h2c, windows, logger: this.logger,
      maxConcurrentStreams: options.maxConcurrentStreams ?? 1000, maxHeaderListSize: options.maxHeaderListSize ?? 65_536,
      onRecord: (record) => this.emit({ at: new Date().toISOString(), ...record }),
      by: () => this.by(),
    });
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.onConnection(socket));
    if (options.maxConnections !== undefined) this.server.maxConnections = options.maxConnections;
    const tls = options.tls;
    // The mTLS listener every gateway port uses, fed the connections that open with TLS: the
    // same chain rules as east-west (verifyPeerChain), TLS 1.3, client certificate required —
    // a TLS caller without one is refused in the handshake (RFC 8446 §4.4.2.4,
    // certificate_required); a caller that wants to be anonymous speaks plaintext. Bundle
    // changes and SVID rotations swap its context as on the other listeners.
    this.mtls = tls === undefined ? undefined : new MtlsServer({
      svid: tls.svid, trust: tls.trust, alpn: ['h2', 'http/1.1'], allowNoAlpn: true, admit: tls.admit,
      onConnection: (socket, peer) => this.onSecureConnection(socket, peer),
      logger: this.logger,
      // Idleness is judged per request and per HTTP/2 session, as for plaintext callers.
      idleTimeoutMs: 0,
      handshakeTimeoutMs: tls.handshakeTimeoutMs,
      limits: tls.limits,
    });
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    if (this.closing !== undefined) return Promise.reject(new CausewayError(ErrorCodes.CLOSED, 'outbound proxy is closed'));
    return listenOn(this.server, host, port).then((address) => {
      this.logger.info({ address: formatIpAddress(address.address, address.port) }, 'outbound proxy listening');
      return address;
    });
  }

  address(): AddressInfo | undefined {
    const address = this.server.address();
    return address === null || typeof address === 'string' ? undefined : address;
  }

  /** Open and idle pooled upstream connections. */
  poolStats(): ReturnType<UpstreamPool['stats']> {
    return this.pool.stats();
  }

  /** Caller connections (and tunnels) open now. */
  connectionCount(): number {
    return this.sockets.size;
  }

  /** TLS callers: handshakes completed and connections refused (bad, missing or unadmitted certificates). */
  tlsStats(): { handshakes: number; refusals: number } | undefined {
    return this.mtls === undefined ? undefined : { handshakes: this.mtls.handshakes(), refusals: this.mtls.refusals() };
  }

  /** Stops listening and ends every client connection, tunnel and pooled connection at once. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (!this.server.listening) resolve();
      else this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
      this.mtls?.destroy();
      this.pool.close();
      this.h2.close();
      this.h2c.close();
      this.sweeper.close();
      this.ownEngine?.close();
    });
    return this.closing;
  }

  private onConnection(socket: Socket): void {
    this.track(socket);
    if (this.closing !== undefined) return;
    // A TLS connection opens with a handshake record, content type 22 (RFC 8446 §5.1), a byte
    // no HTTP/1.1 request line starts with; HTTP/2 with prior knowledge starts with its
    // preface (RFC 9113 §3.4); anything else is HTTP/1.1.
    let seen: Buffer = Buffer.alloc(0);
    // Until the first bytes say which protocol it is, the connection has no owner: a caller
    // that sends nothing (or only half a preface) is closed at the headers timeout, and one
    // that half-closes is closed at once.
    const quiet = this.sweeper.watch(this.options.headersTimeoutMs, () => socket.destroy());
    const ended = (): void => {
      quiet.stop();
      socket.destroy();
    };
    socket.once('end', ended);
    socket.once('close', () => quiet.stop());
    const sniff = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const tls = seen[0] === TLS_HANDSHAKE && this.mtls !== undefined;
      const compared = Math.min(seen.length, H2_PREFACE.length);
      const h2 = !tls && seen.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared));
      if (h2 && seen.length < H2_PREFACE.length) return; // wait for the rest of the preface
      quiet.stop();
      socket.off('end', ended);
      socket.off('data', sniff);
      if (tls) return this.acceptTls(socket, seen);
      // Plaintext: the caller is whoever its source address says, when that is enabled.
      const source = this.caller(socket);
      if (h2) this.h2.accept(socket, seen, source);
      else this.serveHttp1(socket, source, seen);
    };
    socket.on('data', sniff);
  }

  /** Hands a connection that opened with TLS to the mTLS listener, the bytes read so far put back. */
  private acceptTls(socket: Socket, seen: Buffer): void {
    // The TLS socket takes its half-open mode from this one: closed at the caller's end until
    // the caller is known (a half-open handshake would hold its descriptor), see below.
    socket.allowHalfOpen = false;
    socket.pause();
    socket.unshift(seen);
    this.mtls?.accept(socket);
  }

  /**
   * A TLS caller whose SVID passed (MtlsServer refuses the rest): the caller is its SPIFFE ID,
   * never its source address. ALPN picks the protocol (RFC 9113 §3.2: HTTP/2 over TLS is
   * "h2" by ALPN); "http/1.1" or no ALPN at all (curl's HTTPS proxy client offers none) is
   * HTTP/1.1, absolute-form and CONNECT as in plaintext.
   */
  private onSecureConnection(socket: TLSSocket, peer: PeerIdentity | undefined): void {
    if (this.closing !== undefined || peer === undefined) {
      socket.destroy();
      return;
    }
    socket.on('error', (err) => this.logger.debug({ source: peer.spiffeId, err: describeError(err) }, 'outbound TLS client connection error'));
    this.logger.debug({ source: peer.spiffeId, alpn: socket.alpnProtocol }, 'outbound TLS caller identified');
    if (socket.alpnProtocol === 'h2') return this.h2.accept(socket, Buffer.alloc(0), peer.spiffeId);
    // HTTP/1.1 keeps the plaintext rule: a caller's half-close (close_notify, RFC 8446 §6.1)
    // still gets its answer, and a CONNECT tunnel carries it. HTTP/2 ends with the connection.
    socket.allowHalfOpen = true;
    this.serveHttp1(socket, peer.spiffeId, Buffer.alloc(0));
  }

  /** This gateway's SPIFFE ID, for x-forwarded-client-cert toward its own endpoints. */
  private by(): string | undefined {
    return this.options.tls?.svid.current().spiffeId;
  }

  /** HTTP/1.1 on a caller's connection; `pinned`: every request goes there (a forward port, named `via`). */
  private serveHttp1(socket: Duplex, source: string | undefined, initial: Buffer, pinned?: MeshAuthority, via?: string): void {
    const router = new OutboundHttpRouter({
      dialer: this.dialer, pool: this.pool, connectTimeoutMs: this.options.connectTimeoutMs, logger: this.logger, by: this.by(),
      retryBudget: this.retryBudget,
      onRecord: (record) => this.emit({ at: new Date().toISOString(), source: source ?? 'anonymous', ...(via === undefined ? {} : { via }), ...record }),
      ...(this.options.anonymousHint === undefined ? {} : { anonymousHint: () => this.hintFor(socket) }),
    }, source);
    const connection = new Http1ProxyConnection(socket, {
      router: pinned === undefined ? router : new PinnedRouter(router, formatMeshAuthority(pinned)), sweeper: this.sweeper, logger: this.logger,
      maxHeadBytes: this.options.maxHeadBytes,
      keepAliveTimeoutMs: this.options.keepAliveTimeoutMs,
      headersTimeoutMs: this.options.headersTimeoutMs,
      idleTimeoutMs: this.options.idleTimeoutMs,
      onConnect: (head, downstream, rest) => {
        this.onConnect(head, downstream, rest, source).catch((err: unknown) => {
          this.logger.error({ err: describeError(err) }, 'outbound tunnel handler failed');
          downstream.destroy();
        });
      },
    });
    connection.start(initial);
  }

  private hintFor(socket: Duplex): string {
    try {
      return this.options.anonymousHint?.((socket as Socket).remoteAddress ?? '') ?? '';
    } catch (err) {
      return `(no hint: ${describeError(err)})`;
    }
  }

  private track(socket: Duplex): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', (err) => this.logger.debug({ err: describeError(err) }, 'outbound client connection error'));
    if (this.closing !== undefined) socket.destroy();
  }

  private caller(socket: Socket): string | undefined {
    try {
      return this.options.callerIdentity?.(socket.remoteAddress ?? '', socket);
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'caller identity lookup failed; treating the caller as anonymous');
      return undefined;
    }
  }

  private emit(routed: RequestRecord): void {
    // What a local endpoint served was served by this cluster. A request served elsewhere
    // although this cluster has the service failed over from it (its endpoints were all
    // unhealthy, or refused), even when the decision ranked no local candidate at all.
    const local = this.options.locality.cluster;
    const cluster = routed.cluster ?? (routed.route?.startsWith('local ') === true ? local : undefined);
    const failover = routed.failover === true
      || (cluster !== undefined && cluster !== local && this.options.catalog.get(local, routed.service)?.deleted === false);
    const record: RequestRecord = cluster === undefined ? routed : { ...routed, cluster, failover };
    this.options.events?.publish({ type: 'request', record });
    try {
      this.options.onRequest?.(record);
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'onRequest listener threw');
    }
  }

  /**
   * A connection of a fixed local forward port (`outbound.forward`, ForwardListeners), for a
   * client that cannot be told to use a proxy: a tunnel to `target`, as if the caller had sent
   * `CONNECT <target>` — the same code from there on, but nothing is answered before the bytes
   * flow. A `tcp` port is bridged to an endpoint; an `http` port is served as HTTP, each request
   * routed on its own as if sent to `target` (its Host replaced); a `grpc` or `http2` port takes
   * HTTP/2 with prior knowledge, each call's `:authority` replaced. The caller is who its source
   * address says (callerIdentity), as for a plaintext caller of the listener, else anonymous. A
   * refused tunnel closes the connection and is logged and recorded; an HTTP request that
   * cannot be served is answered as on the listener. `via` names the port in the records.
   */
  forward(socket: Socket, target: MeshAuthority, via: string): void {
    this.track(socket);
    if (this.closing !== undefined) return;
    const opening: TunnelOpening = { at: new Date().toISOString(), started: performance.now(), answer: false, via };
    this.tunnel(socket, target, Buffer.alloc(0), this.caller(socket), opening).catch((err: unknown) => {
      this.logger.error({ err: describeError(err), via }, 'forwarded connection handler failed');
      socket.destroy();
    });
  }

  /** CONNECT: the target is authority-form `<service>.<namespace>:<port>`, then a tunnel to it. */
  private async onConnect(request: MessageHead, socket: Duplex, head: Buffer, source: string | undefined): Promise<void> {
    const opening: TunnelOpening = { at: new Date().toISOString(), started: performance.now(), answer: true, via: undefined };
    const authority = request.target;
    // RFC 9110 §9.3.6: the CONNECT target is authority-form, host and port.
    const shape = /^([^:/?#\s]+):(\d{1,5})$/.exec(authority);
    if (shape === null) {
      return this.refuseTunnel(socket, opening, source, authority, 400,
        new CausewayError(ErrorCodes.REQUEST_INVALID, `CONNECT target "${authority.slice(0, 200)}" is not <service>.<namespace>:<port>`), authority, 0);
    }
    const port = Number(shape[2]);
    const target = parseMeshHost((shape[1] ?? '').toLowerCase(), port);
    if (typeof target === 'string') {
      return this.refuseTunnel(socket, opening, source, authority, 502, new CausewayError(ErrorCodes.SERVICE_UNKNOWN, `${target}; nothing is looked up in DNS`), shape[1] ?? '', port);
    }
    return this.tunnel(socket, target, head, source, opening);
  }

  /** A refused tunnel: answered (CONNECT) or closed (a forward port), logged and recorded. */
  private refuseTunnel(socket: Duplex, opening: TunnelOpening, source: string | undefined, requested: string, status: number, refusal: CausewayError, service: string, port: number): void {
    const err = refusal.code === ErrorCodes.ACCESS_DENIED && source === undefined && this.options.anonymousHint !== undefined
      ? new CausewayError(refusal.code, `${refusal.message}; ${this.hintFor(socket)}`) : refusal;
    const via = opening.via === undefined ? {} : { via: opening.via };
    this.logger.info({ source: source ?? 'anonymous', service: requested, status, code: err.code, reason: err.message, ...via }, opening.answer ? 'outbound tunnel refused' : 'forwarded connection refused');
    if (opening.answer && socket.writable) socket.end(errorResponse(status, err.code, err.message, { close: true }));
    else socket.destroy();
    this.emit({
      at: opening.at, method: 'CONNECT', source: source ?? 'anonymous', ...via, service, port, route: undefined, status, code: err.code,
      durationMs: performance.now() - opening.started,
    });
  }

  /** A tunnel to `target` (CONNECT, or a forward port): answer 200 (CONNECT) once a byte stream to the service exists, then splice the two. */
  private async tunnel(socket: Duplex, target: MeshAuthority, head: Buffer, source: string | undefined, opening: TunnelOpening): Promise<void> {
    const { started } = opening;
    const { port } = target;
    const base = { at: opening.at, method: 'CONNECT', source: source ?? 'anonymous', ...(opening.via === undefined ? {} : { via: opening.via }) };
    const fail = (status: number, refusal: CausewayError): void => this.refuseTunnel(socket, opening, source, formatMeshAuthority(target), status, refusal, target.key, port);

    // A tunnel to an HTTP port carries HTTP: it is served as such, each request routed,
    // authorized and given the verified caller in x-forwarded-client-cert on its own — bytes
    // piped as they came would let a caller hand a backend a forged identity header.
    const protocol = this.options.catalog.resolve(target.key)?.ports.find((p) => p.port === port)?.protocol;
    if (protocol !== undefined && protocol !== 'tcp') {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      if (opening.answer) socket.write(`HTTP/1.1 200 Connection Established\r\n${CAUSEWAY_ROUTE}: ${protocol} requests routed one by one\r\n\r\n`);
      this.emit({ ...base, service: target.key, port, route: `${protocol} inside ${opening.answer ? 'CONNECT' : 'a forward port'}`, status: 200, durationMs: performance.now() - started });
      // A tunnel means its one service (RFC 9110 §9.3.6: CONNECT opens a tunnel to its target), as a
      // forward port does: each request inside goes there whatever Host it names — which is what
      // lets an agent's fixed local port carry HTTP clients that name 127.0.0.1:<port>.
      const pinned = target;
      if (protocol === 'http') this.serveHttp1(socket, source, head, pinned, opening.via);
      else this.h2.accept(socket as Socket, head, source, pinned);
      socket.resume();
      return;
    }

    let dialed: DialedRoute;
    try {
      dialed = await this.dialer.dial(target, source, () => socket.destroyed);
    } catch (err) {
      const e = asCausewayError(err);
      return fail(statusForCode(e.code), e);
    }
    if (socket.destroyed || !socket.writable) {
      dialed.stream.destroy();
      dialed.settle(true);
      return;
    }
    dialed.settle(true);
    if (opening.answer) socket.write(`HTTP/1.1 200 Connection Established\r\n${CAUSEWAY_ROUTE}: ${headerSafe(dialed.route)}\r\n\r\n`);
    if (head.length > 0) dialed.stream.write(head);
    const servedBy = {
      cluster: dialed.cluster ?? this.options.locality.cluster, ...(dialed.endpoint === undefined ? {} : { endpoint: dialed.endpoint }),
    };
    this.emit({ ...base, service: target.key, port, route: dialed.route, status: 200, durationMs: performance.now() - started, ...servedBy, failover: dialed.failover });
    this.logger.debug({ source: base.source, service: `${target.key}:${port}`, route: dialed.route, ...(opening.via === undefined ? {} : { via: opening.via }) }, 'outbound tunnel open');
    bridge(socket, dialed.stream, {
      idleTimeoutMs: this.options.idleTimeoutMs,
      sweeper: this.sweeper,
      onEnd: ({ error, bytesFromA, bytesFromB }) => {
        this.logger.debug({ service: `${target.key}:${port}`, route: dialed.route, bytesOut: bytesFromA, bytesIn: bytesFromB, err: error?.message }, 'outbound tunnel closed');
        this.options.events?.publish({
          type: 'tunnel.closed', direction: 'outbound', service: target.key, port, source: base.source, ...servedBy,
          bytesSent: bytesFromA, bytesReceived: bytesFromB, durationMs: performance.now() - started, ...(error === undefined ? {} : { error: error.message }),
        });
      },
    });
  }
}

/** How a tunnel was asked for: CONNECT on the listener, or a connection to a forward port. */
interface TunnelOpening {
  /** When it arrived (ISO 8601), for its record. */
  at: string;
  started: number;
  /** CONNECT: answered 200 or an error. A forward port: nothing is answered; a refusal closes the connection. */
  answer: boolean;
  /** The forward port (RequestRecord.via); undefined for the listener. */
  via: string | undefined;
}

/** TLS record content type "handshake" (RFC 8446 §5.1): the first byte of every TLS connection. */
const TLS_HANDSHAKE = 0x16;

function asCausewayError(err: unknown): CausewayError {
  return err instanceof CausewayError ? err : new CausewayError(ErrorCodes.INTERNAL, describeError(err), { cause: err });
}
