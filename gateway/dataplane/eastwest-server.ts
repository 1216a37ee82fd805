import { createServer, constants as h2, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  CausewayError, ErrorCodes, describeError, silentLogger,
  type CatalogReader, type ErrorCode, type EventSink, type Logger, type ServiceRecord, type ServicePort,
} from '../../registry/index.js';
import type { DataPlaneEvent } from '../telemetry/events.js';
import { InboundEvents, deniedBy } from './inbound-events.js';
import { MtlsServer, isGatewayIdentity, parseSpiffeId, type ConnectionLimits, type PeerIdentity, type SvidSource, type TrustReader } from '../../federation/index.js';
import type { AccessRule } from './access-rules.js';
import { CallerClassifier } from '../policy/classify.js';
import { decideAccess, type AccessScope, type AccessVerdict } from '../policy/decide-access.js';
import type { PolicySource } from '../policy/policy-set.js';
import { policySetOfAccessRules } from '../policy/static-policies.js';
import { parseSubset } from './subset-header.js';
import { bridge } from './bridge.js';
import { localCandidates, type Labels, type RandomSource } from '../policy/decide-route.js';
import { parseMeshAuthority, formatIpAddress, type MeshAuthority } from './mesh-address.js';
import { connectEndpoint, type SidecarCredentials } from './endpoint-connector.js';
import { CAUSEWAY_CLUSTER, CAUSEWAY_ENDPOINT, CAUSEWAY_ERROR, CAUSEWAY_SOURCE, CAUSEWAY_STREAM, CAUSEWAY_SUBSET, STREAM_HTTP1 } from './headers.js';
import { Http1ProxyConnection } from './http1/proxy-connection.js';
import { DEFAULT_POOL, UpstreamPool, type PoolTuning } from './http1/upstream-pool.js';
import { IdleSweeper } from './idle-sweeper.js';
import { LocalHttpRouter } from './local-http-router.js';
import { callHeaders, forwardStream, towardBackend } from './h2/forward-stream.js';
import { H2cPool } from './h2/h2c-pool.js';
import { H2_WINDOWS, type WindowTuning } from './h2-windows.js';
import { CAUSEWAY_PROBE, PROBE_VALUE, reachAny } from './probe.js';

export interface EastWestServerOptions {
  svid: SvidSource;
  trust: TrustReader;
  catalog: CatalogReader;
  localTrustDomain: string;
  /**
   * Whether an exported local record is exported to the peer of this trust domain (its
   * exportTo; the peer manager's rule, which the links apply too). Without it, exported means
   * every peer.
   */
  exportsTo?: (record: ServiceRecord, trustDomain: string) => boolean;
  /** The policy set in force (the gateway's store): access is decided on it per stream and per request. */
  policies?: PolicySource;
  /** Telemetry: each request, call and tunnel served or refused (`inbound`), each tunnel's end. */
  events?: EventSink<DataPlaneEvent>;
  /** Without `policies`: the config's access rules alone, read per stream (tests, embedding). */
  access?: () => readonly AccessRule[];
  logger?: Logger;
  /** TCP connect timeout per local endpoint. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** A tunnel with no bytes either way for this long is torn down. Default 300000 ms. */
  idleTimeoutMs?: number;
  /** An HTTP/2 session with no activity for this long is closed (GOAWAY). Default 600000 ms. */
  sessionIdleTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  /** Caps on connections before and after the TLS handshake (MtlsServer). */
  connectionLimits?: Partial<ConnectionLimits>;
  random?: RandomSource;
  /** An HTTP stream with no request in progress for this long is ended. Default 120000 ms. */
  streamIdleTimeoutMs?: number;
  /** A request head must arrive whole within this. Default 30000 ms. */
  headersTimeoutMs?: number;
  /** Request and response head size limit. Default 65536 bytes. */
  maxHeadBytes?: number;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per session (RFC 9113 §6.5.2). Default 1000. */
  maxConcurrentStreams?: number;
  /** HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2). Default 65536. */
  maxHeaderListSize?: number;
  windows?: Partial<WindowTuning>;
  pool?: Partial<PoolTuning>;
}

interface Tuning {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  sessionIdleTimeoutMs: number;
  streamIdleTimeoutMs: number;
  headersTimeoutMs: number;
  maxHeadBytes: number;
  windows: WindowTuning;
}

export interface EastWestStats {
  sessions: number;
  activeTunnels: number;
  tunnelsOpened: number;
  /** HTTP requests (on pooled streams) and HTTP/2 calls served to local endpoints. */
  requests: number;
  /** Refused streams by error code (or HTTP status for malformed requests). */
  refused: Readonly<Record<string, number>>;
  /** TLS handshakes the mTLS layer refused (bad or missing client certificate). */
  tlsRefusals: number;
  /** Full TLS handshakes the listener completed (client certificate verified by the TLS layer). */
  tlsHandshakes: number;
}

type Refusal = { status: number; code: ErrorCode; message: string };

const refusal = (status: number, code: ErrorCode, message: string): Refusal => ({ status, code, message });

/**
 * The east-west data listener (design brief, port 15443): TLS 1.3 mutual with ALPN h2 on the
 * shared MtlsServer (which binds each client certificate to its own trust domain's bundle),
 * then one HTTP/2 CONNECT stream (RFC 7540 §8.3) per proxied connection. Each stream is
 * checked — `causeway-source` inside the calling gateway's trust domain, access rules — and
 * piped to a healthy LOCAL endpoint. There is no transit: a stream never leaves this cluster.
 */
export class EastWestServer {
  private readonly options: EastWestServerOptions;
  private readonly logger: Logger;
  private readonly mtls: MtlsServer;
  /** Sessions of workload peers (an agent's sidecar): Node's own rapid-reset limits. */
  private readonly h2: Http2Server;
  /** Sessions of peer gateways: reset limits fit for many callers sharing one session. */
  private readonly h2Gateways: Http2Server;
  private readonly sessions = new Set<ServerHttp2Session>();
  /** The peer of the TLS socket being handed to the HTTP/2 server (its 'session' event is synchronous). */
  private attaching: PeerIdentity | undefined;
  private readonly counters = { activeTunnels: 0, tunnelsOpened: 0, requests: 0, refused: {} as Record<string, number> };
  private readonly tuning: Tuning;
  private readonly sweeper = new IdleSweeper();
  private readonly pool: UpstreamPool;
  private readonly h2c: H2cPool;
  private readonly open = new Set<{ stream: ServerHttp2Stream; peer: PeerIdentity; source: string | undefined; target: MeshAuthority; scope: AccessScope }>();
  private readonly classifier = new CallerClassifier();
  private readonly inbound: InboundEvents;
  /** When each stream arrived, for the duration its event reports. */
  private readonly arrivals = new WeakMap<ServerHttp2Stream, number>();
  private closing: Promise<void> | undefined;
  private listening = false;
  /** Our SVID and bundle, to reach local endpoints behind an agent's sidecar. */
  private readonly sidecar: SidecarCredentials;

  constructor(options: EastWestServerOptions) {
    this.options = options;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'east-west' });
    this.inbound = new InboundEvents(options.events);
    this.tuning = {
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
      sessionIdleTimeoutMs: options.sessionIdleTimeoutMs ?? 600_000,
      streamIdleTimeoutMs: options.streamIdleTimeoutMs ?? 120_000,
      headersTimeoutMs: options.headersTimeoutMs ?? 30_000,
      maxHeadBytes: options.maxHeadBytes ?? 65_536,
      windows: { ...H2_WINDOWS, ...options.windows },
    };
    this.pool = new UpstreamPool({ ...DEFAULT_POOL, ...options.pool, sweeper: this.sweeper, logger: this.logger });
    this.sidecar = { svid: options.svid, trust: options.trust, trustDomain: options.localTrustDomain };
    this.h2c = new H2cPool({
      connectTimeoutMs: this.tuning.connectTimeoutMs, idleTimeoutMs: this.tuning.streamIdleTimeoutMs, windows: this.tuning.windows, logger: this.logger, sidecar: this.sidecar,
    });
    const h2Server = (resetLimits: Record<string, number>): Http2Server => createServer({
      settings: {
        enableConnectProtocol: false,
        maxConcurrentStreams: options.maxConcurrentStreams ?? 1000,
        maxHeaderListSize: options.maxHeaderListSize ?? 65_536,
        initialWindowSize: this.tuning.windows.streamWindowBytes,
      },
      maxSessionMemory: 64,
      ...resetLimits,
    });
    this.h2 = h2Server({});
    this.h2Gateways = h2Server(GATEWAY_RESET_LIMITS);
    for (const server of [this.h2, this.h2Gateways]) server.on('session', (session: ServerHttp2Session) => this.onSession(session));
    this.mtls = new MtlsServer({
      svid: options.svid,
      trust: options.trust,
      alpn: ['h2'],
      onConnection: (socket, peer) => this.onConnection(socket, peer),
      logger: this.logger,
      // Idleness is judged per HTTP/2 session and per tunnel (sessionIdleTimeoutMs,
      // idleTimeoutMs): a socket-level timer cannot see the traffic HTTP/2 carries for it.
      idleTimeoutMs: 0,
      ...(options.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: options.handshakeTimeoutMs }),
      limits: options.connectionLimits,
    });
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    if (this.closing !== undefined) throw new CausewayError(ErrorCodes.CLOSED, 'east-west server is closed');
    if (this.listening) throw new CausewayError(ErrorCodes.USAGE, 'east-west server is already listening');
    this.listening = true;
    const address = await this.mtls.listen(host, port);
    this.logger.info({ address: formatIpAddress(address.address, address.port) }, 'east-west listener up');
    return address;
  }

  address(): AddressInfo | undefined {
    return this.mtls.address() ?? undefined;
  }

  /** The latest accepted mTLS connections (peer identity, TLS version, ALPN, cipher). */
  recentConnections(): ReturnType<MtlsServer['recentConnections']> {
    return this.mtls.recentConnections();
  }

  stats(): EastWestStats {
    return {
      sessions: this.sessions.size,
      activeTunnels: this.counters.activeTunnels,
      tunnelsOpened: this.counters.tunnelsOpened,
      requests: this.counters.requests,
      refused: { ...this.counters.refused },
      tlsRefusals: this.mtls.refusals(),
      tlsHandshakes: this.mtls.handshakes(),
    };
  }

  /**
   * Graceful stop: every session gets a GOAWAY (no new streams; open tunnels go on), then after
   * `graceMs` whatever is left is destroyed and the listener closes. Idempotent.
   */
  close(graceMs = 5000): Promise<void> {
    this.closing ??= (async () => {
      for (const session of this.sessions) session.close();
      await waitUntilEmpty(this.sessions, graceMs);
      for (const session of this.sessions) session.destroy();
      await this.mtls.close(0);
      this.pool.close();
      this.h2c.close();
      this.sweeper.close();
      this.h2.close();
      this.h2Gateways.close();
      this.logger.info('east-west listener closed');
    })();
    return this.closing;
  }

  private onConnection(socket: TLSSocket, peer: PeerIdentity | undefined): void {
    // MtlsServer (allowAnonymous off) only hands over verified peers; refuse defensively anyway.
    if (this.closing !== undefined || peer === undefined) {
      socket.destroy();
      return;
    }
    this.attaching = peer;
    try {
      (isGatewayPeer(peer) ? this.h2Gateways : this.h2).emit('connection', socket);
    } finally {
      this.attaching = undefined;
    }
  }

  private onSession(session: ServerHttp2Session): void {
    const peer = this.attaching;
    if (peer === undefined) {
      session.destroy();
      return;
    }
    this.sessions.add(session);
    session.setTimeout(this.tuning.sessionIdleTimeoutMs, () => session.close());
    // RFC 9113 §6.9.2: the connection window only grows by WINDOW_UPDATE; the 64 KiB default
    // stalls bulk transfers long before the link is full.
    session.once('localSettings', () => {
      if (!session.destroyed) session.setLocalWindowSize(this.tuning.windows.sessionWindowBytes);
    });
    session.on('close', () => this.sessions.delete(session));
    session.on('error', (err) => this.logger.debug({ peer: peer.spiffeId, err: describeError(err) }, 'east-west session error'));
    session.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      this.onStream(stream, headers, peer).catch((err: unknown) => {
        this.logger.warn({ peer: peer.spiffeId, err: describeError(err) }, 'east-west stream failed');
        if (!stream.destroyed) stream.close(h2.NGHTTP2_INTERNAL_ERROR);
      });
    });
  }

  private async onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, peer: PeerIdentity): Promise<void> {
    this.arrivals.set(stream, performance.now());
    stream.on('error', (err) => this.logger.debug({ peer: peer.spiffeId, err: describeError(err) }, 'east-west stream error'));
    // Until the tunnel is bridged, a stream that goes quiet is cancelled.
    stream.setTimeout(this.tuning.idleTimeoutMs, () => stream.close(h2.NGHTTP2_CANCEL));

    const request = this.checkRequest(headers, peer);
    if ('status' in request) return this.refuse(stream, request, peer, headers);
    const { target, source } = request;
    if (headers[CAUSEWAY_PROBE] !== undefined) return this.answerProbe(stream, headers, target, peer);
    const context = { peer: peer.spiffeId, source: source ?? 'anonymous', service: `${target.key}:${target.port}` };

    // A plain CONNECT to an HTTP port is served as HTTP all the same (each request authorized,
    // x-forwarded-client-cert written by us): piped bytes could carry a forged identity header.
    const protocol = this.options.catalog.get(this.options.catalog.localCluster, target.key)?.ports.find((p) => p.port === target.port)?.protocol;
    const scope: AccessScope = request.call
      ? { method: String(headers[':method']), path: String(headers[':path']) }
      : headers[CAUSEWAY_STREAM] === STREAM_HTTP1 || protocol === 'http' ? 'stream' : 'tcp';
    const decision = this.authorize(source, peer, target.key, scope);
    if (!decision.allowed) return this.refuse(stream, refusal(403, ErrorCodes.ACCESS_DENIED, decision.reason), peer, headers, deniedBy(decision));
    this.logger.debug({ ...context, reason: decision.reason }, 'east-west access allowed');

    const record = this.localRecord(target, peer);
    if ('status' in record) return this.refuse(stream, record, peer, headers);
    const servicePort = record.ports.find((p) => p.port === target.port);
    if (servicePort === undefined) {
      return this.refuse(stream, refusal(404, ErrorCodes.SERVICE_UNKNOWN, `${target.key} has no port ${target.port}`), peer, headers);
    }
    // The calling gateway's decision may ask for an endpoint subset (FailoverPolicy or TrafficSplit labels).
    const subset = parseSubset(headers[CAUSEWAY_SUBSET]);
    if (typeof subset === 'string') return this.refuse(stream, refusal(400, ErrorCodes.REQUEST_INVALID, subset), peer, headers);
    const candidates = localCandidates(record.endpoints, servicePort, subset, this.options.random ?? Math.random);
    if (candidates.length === 0) {
      const which = subset === undefined ? '' : ` with labels ${String(headers[CAUSEWAY_SUBSET])}`;
      return this.refuse(stream, refusal(503, ErrorCodes.NO_HEALTHY_ENDPOINT, `${target.key} has no healthy local endpoint${which} for port ${target.port}`), peer, headers);
    }
    if (request.call) return this.serveCall(stream, headers, target, servicePort, candidates, source, peer);
    if (servicePort.protocol === 'grpc' || servicePort.protocol === 'http2') {
      return this.refuse(stream, refusal(400, ErrorCodes.REQUEST_INVALID, `port ${servicePort.port} is ${servicePort.protocol}: send each HTTP/2 call as its own stream, not a CONNECT tunnel`), peer, headers);
    }
    if (scope === 'stream') return this.serveHttp(stream, target, source, peer, subset);

    let upstream: Socket | undefined;
    let endpoint = '';
    const failures: string[] = [];
    for (const candidate of candidates) {
      endpoint = formatIpAddress(candidate.endpoint.address, candidate.port);
      try {
        upstream = await connectEndpoint(candidate.endpoint, candidate.port, this.tuning.connectTimeoutMs, this.sidecar);
        break;
      } catch (err) {
        failures.push(describeError(err));
        this.logger.debug({ ...context, endpoint, err: describeError(err) }, 'local endpoint failed; trying the next');
      }
    }
    if (upstream === undefined) {
      return this.refuse(stream, refusal(502, ErrorCodes.UPSTREAM_CONNECT, `every endpoint of ${target.key} failed: ${failures.join('; ')}`), peer, headers);
    }
    if (stream.destroyed || stream.closed) {
      upstream.destroy();
      return;
    }

    stream.setTimeout(0);
    stream.respond({ ':status': 200, [CAUSEWAY_ENDPOINT]: endpoint, [CAUSEWAY_CLUSTER]: this.options.catalog.localCluster });
    this.counters.tunnelsOpened += 1;
    this.counters.activeTunnels += 1;
    this.trackStream(stream, peer, source, target, 'tcp');
    this.logger.debug({ ...context, endpoint }, 'east-west tunnel open');
    const started = this.arrivals.get(stream) ?? performance.now();
    this.inbound.served('tcp', target, source, peer, { status: 200, endpoint, durationMs: performance.now() - started });
    bridge(stream, upstream, {
      idleTimeoutMs: this.tuning.idleTimeoutMs,
      sweeper: this.sweeper,
      onEnd: ({ error, bytesFromA, bytesFromB }) => {
        this.counters.activeTunnels -= 1;
        this.logger.debug({ ...context, endpoint, bytesIn: bytesFromA, bytesOut: bytesFromB, err: error?.message }, 'east-west tunnel closed');
        this.inbound.tunnelClosed(target, source, endpoint, this.options.catalog.localCluster, { fromCaller: bytesFromA, fromService: bytesFromB }, performance.now() - started, error);
      },
    });
  }

  /**
   * A pooled HTTP stream (CAUSEWAY_STREAM): HTTP/1.1 with keep-alive inside (design brief). It is
   * answered 200 at once; each request on it is then routed to a local endpoint on its own,
   * over pooled keep-alive connections, with the verified caller passed to the backend.
   */
  private serveHttp(stream: ServerHttp2Stream, target: MeshAuthority, source: string | undefined, peer: PeerIdentity, subset: Labels | undefined): void {
    stream.setTimeout(0);
    stream.respond({ ':status': 200, [CAUSEWAY_CLUSTER]: this.options.catalog.localCluster });
    this.counters.tunnelsOpened += 1;
    this.counters.activeTunnels += 1;
    this.trackStream(stream, peer, source, target, 'stream');
    const router = new LocalHttpRouter({
      catalog: this.options.catalog, pool: this.pool, connectTimeoutMs: this.tuning.connectTimeoutMs,
      random: this.options.random ?? Math.random, logger: this.logger,
      authorize: (request) => this.authorize(source, peer, target.key, request),
      onRequest: (outcome) => {
        // Counted as before: exchanges with an endpoint; refusals are counted by their code.
        if (outcome.endpoint !== undefined) this.counters.requests += 1;
        this.inbound.served('http', target, source, peer, outcome);
      },
      identity: this.options.svid.current().spiffeId,
      sidecar: this.sidecar,
    }, target, source, subset);
    const connection = new Http1ProxyConnection(stream, {
      router, sweeper: this.sweeper, logger: this.logger,
      maxHeadBytes: this.tuning.maxHeadBytes,
      keepAliveTimeoutMs: this.tuning.streamIdleTimeoutMs,
      headersTimeoutMs: this.tuning.headersTimeoutMs,
      idleTimeoutMs: this.tuning.idleTimeoutMs,
    });
    stream.once('close', () => { this.counters.activeTunnels -= 1; });
    connection.start();
  }

  /**
   * One HTTP/2 call (gRPC) to a grpc or http2 port: forwarded as its own stream on a pooled h2c
   * session to a local endpoint, with the verified caller in x-forwarded-client-cert.
   */
  private serveCall(
    stream: ServerHttp2Stream, headers: IncomingHttpHeaders, target: MeshAuthority, servicePort: ServicePort,
    candidates: ReturnType<typeof localCandidates>, source: string | undefined, peer: PeerIdentity,
  ): void {
    if (servicePort.protocol !== 'grpc' && servicePort.protocol !== 'http2') {
      return this.refuse(stream, refusal(400, ErrorCodes.REQUEST_INVALID, `port ${servicePort.port} is ${servicePort.protocol}; HTTP/2 calls go to grpc or http2 ports`), peer, headers);
    }
    stream.setTimeout(0);
    const candidate = candidates[0]!;
    const endpoint = formatIpAddress(candidate.endpoint.address, candidate.port);
    const out = callHeaders(headers, { method: String(headers[':method']), path: String(headers[':path']), scheme: 'http', authority: String(headers[':authority']) },
      towardBackend(this.options.svid.current().spiffeId, source));
    let upstream;
    try {
      upstream = this.h2c.session(candidate.endpoint, candidate.port).request(out, { endStream: false });
    } catch (err) {
      return this.refuse(stream, refusal(502, ErrorCodes.UPSTREAM_CONNECT, `${endpoint}: ${describeError(err)}`), peer, headers);
    }
    this.counters.requests += 1;
    const started = this.arrivals.get(stream) ?? performance.now();
    forwardStream(stream, upstream, {
      responseFields: { [CAUSEWAY_ENDPOINT]: endpoint },
      done: (status) => this.inbound.served('grpc', target, source, peer, {
        status: status ?? 502, ...(status === undefined ? { code: ErrorCodes.UPSTREAM_BROKEN } : {}), endpoint, durationMs: performance.now() - started,
      }),
    });
  }

  /**
   * The probe request (probe.ts): can this service port be reached here now? 200 when one
   * healthy local endpoint accepts a TCP connection (closed at once), 503 otherwise; the answer
   * carries END_STREAM and no data. Only a gateway may probe (403 for workloads). No access
   * policy is consulted: the answer tells the calling gateway whether it may route here, which
   * it needs for every caller it serves, and reveals nothing a refused request would not —
   * no bytes reach an endpoint, no endpoint learns of it. The export rule still holds: a
   * service this cluster does not export is unknown (404) to gateways of other trust domains.
   */
  private async answerProbe(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, target: MeshAuthority, peer: PeerIdentity): Promise<void> {
    if (!isGatewayPeer(peer)) return this.refuse(stream, refusal(403, ErrorCodes.ACCESS_DENIED, `${peer.spiffeId} is not a gateway; only gateways may probe`), peer, headers);
    if (headers[':method'] !== 'CONNECT' || headers[CAUSEWAY_PROBE] !== PROBE_VALUE) {
      return this.refuse(stream, refusal(400, ErrorCodes.REQUEST_INVALID, `a probe is a CONNECT with ${CAUSEWAY_PROBE}: ${PROBE_VALUE}`), peer, headers);
    }
    const record = this.localRecord(target, peer);
    if ('status' in record) return this.refuse(stream, record, peer, headers);
    const servicePort = record.ports.find((p) => p.port === target.port);
    if (servicePort === undefined) return this.refuse(stream, refusal(404, ErrorCodes.SERVICE_UNKNOWN, `${target.key} has no port ${target.port}`), peer, headers);
    const candidates = localCandidates(record.endpoints, servicePort, undefined, this.options.random ?? Math.random);
    if (candidates.length === 0) {
      return this.refuse(stream, refusal(503, ErrorCodes.NO_HEALTHY_ENDPOINT, `${target.key} has no healthy local endpoint for port ${target.port}`), peer, headers);
    }
    let endpoint: string;
    try {
      // An endpoint behind a sidecar is as reachable as its sidecar (the agent checks the port itself).
      endpoint = await reachAny(candidates.map((c) => ({ host: c.endpoint.address, port: c.endpoint.sidecarPort ?? c.port })), this.tuning.connectTimeoutMs);
    } catch (err) {
      return this.refuse(stream, refusal(503, ErrorCodes.UPSTREAM_CONNECT, `${target.key}:${target.port}: ${describeError(err)}`), peer, headers);
    }
    if (stream.destroyed || stream.closed) return;
    stream.respond({ ':status': 200, [CAUSEWAY_ENDPOINT]: endpoint, [CAUSEWAY_CLUSTER]: this.options.catalog.localCluster }, { endStream: true });
  }

  /** Streams open now, so that a change of access rules can re-check them. */
  private trackStream(stream: ServerHttp2Stream, peer: PeerIdentity, source: string | undefined, target: MeshAuthority, scope: AccessScope): void {
    const entry = { stream, peer, source, target, scope };
    this.open.add(entry);
    stream.once('close', () => this.open.delete(entry));
  }

  /**
   * Access rules changed: every open stream is checked again, and those the new rules no longer
   * allow are reset (RST_STREAM CANCEL). Returns how many were reset.
   */
  recheckAccess(): number {
    let reset = 0;
    for (const entry of [...this.open]) {
      const decision = this.authorize(entry.source, entry.peer, entry.target.key, entry.scope);
      if (decision.allowed) continue;
      reset += 1;
      this.open.delete(entry);
      this.counters.refused[ErrorCodes.ACCESS_DENIED] = (this.counters.refused[ErrorCodes.ACCESS_DENIED] ?? 0) + 1;
      this.logger.info({ peer: entry.peer.spiffeId, source: entry.source ?? 'anonymous', service: entry.target.key, reason: decision.reason }, 'open stream no longer allowed; reset');
      if (!entry.stream.destroyed) entry.stream.close(h2.NGHTTP2_CANCEL);
    }
    return reset;
  }

  /**
   * The access decision (policy/decide-access.ts, shared with explain) for a caller that came
   * through `peer`: `source` is the workload the calling gateway vouches for, or undefined
   * (anonymous, judged as of the calling gateway's trust domain).
   */
  private authorize(source: string | undefined, peer: PeerIdentity, service: string, scope: AccessScope): AccessVerdict {
    const set = this.options.policies?.current() ?? policySetOfAccessRules(this.options.access?.() ?? []);
    const caller = this.classifier.caller(set, source, peer.trustDomain);
    return decideAccess(set, { caller, service, scope }, this.options.localTrustDomain);
  }

  /** Pooled keep-alive connections to local endpoints. */
  poolStats(): ReturnType<UpstreamPool['stats']> {
    return this.pool.stats();
  }

  /** RFC 7540 §8.3 request shape, then the `causeway-source` rule of the design brief. */
  private checkRequest(headers: IncomingHttpHeaders, peer: PeerIdentity): Refusal | { target: MeshAuthority; source: string | undefined; call: boolean } {
    const method = headers[':method'];
    // A CONNECT stream (RFC 9113 §8.5) carries bytes or pooled HTTP/1.1; any other method is
    // one HTTP/2 call (gRPC) for a grpc or http2 port.
    const call = method !== 'CONNECT';
    if (call) {
      if (typeof headers[':path'] !== 'string' || headers[':scheme'] !== 'https') {
        return refusal(400, ErrorCodes.REQUEST_INVALID, 'an HTTP/2 call needs :path and :scheme https (RFC 9113 §8.3.1)');
      }
    } else {
      // §8.5: ":scheme and :path pseudo-header fields MUST be omitted".
      for (const pseudo of [':scheme', ':path']) {
        if (headers[pseudo] !== undefined) return refusal(400, ErrorCodes.REQUEST_INVALID, `CONNECT must not carry ${pseudo} (RFC 9113 §8.5)`);
      }
    }
    // :protocol would be an RFC 8441 extended CONNECT, which this listener does not offer.
    if (headers[':protocol'] !== undefined) return refusal(400, ErrorCodes.REQUEST_INVALID, 'extended CONNECT (:protocol) is not offered (RFC 8441)');
    const authority = headers[':authority'];
    const target = typeof authority === 'string' ? parseMeshAuthority(authority) : 'missing :authority';
    if (typeof target === 'string') return refusal(400, ErrorCodes.REQUEST_INVALID, `bad :authority: ${target}`);

    const asserted = headers[CAUSEWAY_SOURCE];
    // Only a gateway speaks for other workloads. A workload certificate (an agent's sidecar,
    // say) IS the caller: it is the source, and it may not claim to be anyone else.
    if (!isGatewayPeer(peer)) {
      if (asserted !== undefined && asserted !== peer.spiffeId) {
        return refusal(403, ErrorCodes.IDENTITY_REFUSED, `${peer.spiffeId} is not a gateway and may not assert ${CAUSEWAY_SOURCE} ${String(asserted).slice(0, 200)}`);
      }
      return { target, source: peer.spiffeId, call };
    }
    if (asserted === undefined) return { target, source: undefined, call };
    if (typeof asserted !== 'string') return refusal(403, ErrorCodes.IDENTITY_REFUSED, `${CAUSEWAY_SOURCE} must be one SPIFFE ID`);
    let trustDomain: string;
    let uri: string;
    try {
      ({ trustDomain, uri } = parseSpiffeId(asserted));
    } catch (err) {
      return refusal(403, ErrorCodes.IDENTITY_REFUSED, `${CAUSEWAY_SOURCE} is not a SPIFFE ID: ${describeError(err)}`);
    }
    // Design brief: a peer gateway may assert causeway-source identities only inside its own
    // trust domain — otherwise cluster A could speak for cluster B's workloads.
    if (trustDomain !== peer.trustDomain) {
      return refusal(403, ErrorCodes.IDENTITY_REFUSED, `gateway ${peer.spiffeId} may not assert ${uri}: outside its trust domain ${peer.trustDomain}`);
    }
    return { target, source: uri, call };
  }

  /**
   * The local cluster's live record of the service. A record this cluster does not export to
   * the caller's trust domain (not exported, or its exportTo leaves that peer out) is
   * invisible to it (design brief: only exported services cross a link), so it is answered as
   * unknown rather than revealed by a different error.
   */
  private localRecord(target: MeshAuthority, peer: PeerIdentity): Refusal | ServiceRecord {
    const record = this.options.catalog.get(this.options.catalog.localCluster, target.key);
    const visible = record !== undefined && !record.deleted && (peer.trustDomain === this.options.localTrustDomain
      || (record.exported && (this.options.exportsTo?.(record, peer.trustDomain) ?? true)));
    if (!visible) return refusal(404, ErrorCodes.SERVICE_UNKNOWN, `${target.key} is not a service of cluster ${this.options.catalog.localCluster}`);
    return record;
  }

  private refuse(stream: ServerHttp2Stream, r: Refusal, peer: PeerIdentity, headers: IncomingHttpHeaders, rule?: string): void {
    this.counters.refused[r.code] = (this.counters.refused[r.code] ?? 0) + 1;
    const started = this.arrivals.get(stream);
    this.inbound.fromHeaders(headers, peer, {
      status: r.status, code: r.code, ...(rule === undefined ? {} : { rule }), durationMs: started === undefined ? 0 : performance.now() - started,
    });
    this.logger.info(
      { peer: peer.spiffeId, source: headers[CAUSEWAY_SOURCE] ?? 'anonymous', service: headers[':authority'], status: r.status, code: r.code, reason: r.message },
      'east-west stream refused',
    );
    if (stream.destroyed || stream.closed || stream.headersSent) return;
    const extra = r.status === 405 ? { allow: 'CONNECT' } : {};
    stream.respond({ ':status': r.status, [CAUSEWAY_ERROR]: r.code, 'content-type': 'application/json', ...extra });
    // A complete response before the client finished its side: end our side, then reset with
    // NO_ERROR so the client stops sending (RFC 7540 §8.1).
    stream.end(JSON.stringify({ code: r.code, message: r.message }), () => {
      if (!stream.closed) stream.close(h2.NGHTTP2_NO_ERROR);
    });
  }
}

/**
 * Rapid-reset limits (CVE-2023-44487) for sessions of peer gateways. nghttp2 allows a client
 * 1000 RST_STREAM frames and 33 more per second, then ends the session with GOAWAY — fair for
 * one client, too tight for a gateway whose session carries every caller of its cluster: a
 * burst of callers giving up would cut them all. Node releases that expose the limit
 * (nodejs/node#54875) apply these to gateways; older ones ignore the options and keep the
 * default, which our own TunnelClient stays inside (reset-budget.ts). Workload peers always
 * keep the default.
 */
const GATEWAY_RESET_LIMITS: Record<string, number> = { streamResetBurst: 10_000, streamResetRate: 1_000 };

/** Whether a verified peer is a gateway (it speaks for other workloads) rather than a workload. */
function isGatewayPeer(peer: PeerIdentity): boolean {
  return isGatewayIdentity(parseSpiffeId(peer.spiffeId));
}

/** Resolves once `set` is empty (polled on 'close' of its members) or after `ms`. */
function waitUntilEmpty(set: Set<ServerHttp2Session>, ms: number): Promise<void> {
  if (set.size === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const check = (): void => {
      // 'close' listeners registered in onSession run first and delete the session.
      setImmediate(() => {
        if (set.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    };
    for (const session of set) session.once('close', check);
  });
}
