import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { CausewayError, ErrorCodes, describeError, type Logger } from '../../registry/index.js';
import { MtlsServer, VerifiedConnections, shutdownGrpcServer, type ConnectionLimits, type PeerIdentity, type SvidSource, type TrustReader } from '../trust/index.js';
import { toGrpcStatus } from './grpc-errors.js';
import { MAX_MESSAGE_BYTES, federationProto, type WireLinkMessage, type WireRedeemRequest, type WireRedeemResponse } from './proto.js';

export type LinkCall = grpc.ServerDuplexStream<WireLinkMessage, WireLinkMessage>;

export interface FederationHandlers {
  /** `identity`: the verified client certificate, if the caller presented one. */
  redeem(request: WireRedeemRequest, identity: PeerIdentity | undefined): Promise<WireRedeemResponse>;
  /** Called with the verified identity; the handler owns the call from then on. */
  link(call: LinkCall, identity: PeerIdentity): void;
}

/** What the federation listener allows each connection (docs/configuration.md, `limits.federation`). */
export interface FederationListenerLimits {
  /** TLS handshake deadline. */
  handshakeTimeoutMs: number;
  /** Pending-handshake and connection caps of the TLS layer. */
  connections: Partial<ConnectionLimits>;
  /** An authenticated connection with no call in progress this long is closed; a Link in progress keeps it. */
  idleTimeoutMs: number;
  /** Largest message on an authenticated connection (a Link's Snapshot is the largest). */
  maxMessageBytes: number;
  /** Largest message on a connection without a client certificate: Redeem, whose request is a few KiB. */
  anonymousMaxMessageBytes: number;
  /** HTTP/2 streams one anonymous connection may have open at once. */
  anonymousMaxConcurrentStreams: number;
  /** An anonymous connection with no call in progress this long is closed. */
  anonymousIdleTimeoutMs: number;
}

export const DEFAULT_FEDERATION_LIMITS: Readonly<FederationListenerLimits> = Object.freeze({
  handshakeTimeoutMs: 10_000,
  connections: {},
  idleTimeoutMs: 300_000,
  maxMessageBytes: MAX_MESSAGE_BYTES,
  anonymousMaxMessageBytes: 64 * 1024,
  anonymousMaxConcurrentStreams: 10,
  anonymousIdleTimeoutMs: 30_000,
});

export interface FederationServerOptions {
  svid: SvidSource;
  trust: TrustReader;
  handlers: FederationHandlers;
  logger: Logger;
  limits?: Partial<FederationListenerLimits>;
}

/**
 * The federation listener (port 15012): an MtlsServer decides who may connect — it verifies
 * every presented certificate against ITS OWN trust domain's bundle and closes the
 * connection otherwise — and each accepted TLS socket is injected into a grpc-js server
 * that speaks plain HTTP/2 on it. Anonymous connections are allowed through only because
 * Redeem must serve a gateway we do not trust yet; Link refuses them.
 *
 * grpc-js has no per-method receive limit, so the connection decides: a socket without a
 * client certificate goes to a second grpc-js server whose limits fit Redeem (a small
 * message cap, checked against the 5-byte length prefix before any payload is buffered, and
 * few streams), and only authenticated peers reach the one that takes Link-sized messages.
 * Idleness is judged by gRPC (no call in progress), never by a socket timer: HTTP/2 reads
 * the socket natively, so its traffic would never refresh one — that is what dropped every
 * link once a minute. A live Link's liveness is its heartbeat watchdog's business.
 */
export class FederationServer {
  private readonly peerServer: grpc.Server;
  private readonly anonymousServer: grpc.Server;
  private readonly peerInjector: grpc.ConnectionInjector;
  private readonly anonymousInjector: grpc.ConnectionInjector;
  private readonly mtls: MtlsServer;
  private readonly logger: Logger;
  private readonly verified = new VerifiedConnections();
  private readonly socketsByDomain = new Map<string, Set<TLSSocket>>();
  private closing: Promise<void> | undefined;

  constructor(private readonly options: FederationServerOptions) {
    this.logger = options.logger;
    const limits: FederationListenerLimits = { ...DEFAULT_FEDERATION_LIMITS, ...options.limits };
    this.peerServer = this.grpcServer({
      'grpc.max_receive_message_length': limits.maxMessageBytes,
      'grpc.max_send_message_length': limits.maxMessageBytes,
      'grpc.max_connection_idle_ms': limits.idleTimeoutMs,
    });
    this.anonymousServer = this.grpcServer({
      'grpc.max_receive_message_length': limits.anonymousMaxMessageBytes,
      'grpc.max_send_message_length': limits.anonymousMaxMessageBytes,
      // SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2): a stranger gets a handful of streams.
      'grpc.max_concurrent_streams': limits.anonymousMaxConcurrentStreams,
      'grpc.max_connection_idle_ms': limits.anonymousIdleTimeoutMs,
    });
    const insecure = grpc.ServerCredentials.createInsecure();
    this.peerInjector = this.peerServer.createConnectionInjector(insecure);
    this.anonymousInjector = this.anonymousServer.createConnectionInjector(insecure);
    this.mtls = new MtlsServer({
      svid: options.svid,
      trust: options.trust,
      alpn: ['h2'],
      allowAnonymous: true,
      idleTimeoutMs: 0,
      handshakeTimeoutMs: limits.handshakeTimeoutMs,
      limits: limits.connections,
      logger: options.logger,
      onConnection: (socket, peer) => this.accept(socket, peer),
    });
  }

  /** One grpc-js server with both methods; which of the two a connection reaches sets its limits. */
  private grpcServer(options: grpc.ServerOptions): grpc.Server {
    const server = new grpc.Server(options);
    server.addService(federationProto().service, {
      Redeem: (call: grpc.ServerUnaryCall<WireRedeemRequest, WireRedeemResponse>, callback: grpc.sendUnaryData<WireRedeemResponse>) => {
        this.onRedeem(call, callback);
      },
      Link: (call: LinkCall) => this.onLink(call),
    });
    return server;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return this.mtls.listen(host, port);
  }

  address(): AddressInfo | undefined {
    return this.mtls.address() ?? undefined;
  }

  /** TLS-level refusals so far (certificates that failed verification, bad handshakes). */
  refusals(): number {
    return this.mtls.refusals();
  }

  /** Closes every live connection of a trust domain (its peer was removed). */
  dropConnections(trustDomain: string): void {
    for (const socket of this.socketsByDomain.get(trustDomain) ?? []) socket.destroy();
  }

  close(graceMs = 1000): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([this.peerServer, this.anonymousServer].map((server) => shutdownGrpcServer(server, graceMs)));
      this.peerInjector.destroy();
      this.anonymousInjector.destroy();
      await this.mtls.close(graceMs);
    })();
    return this.closing;
  }

  private accept(socket: TLSSocket, peer: PeerIdentity | undefined): void {
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    if (peer === undefined) {
      this.anonymousInjector.injectConnection(socket);
      return;
    }
    this.verified.hold(socket, peer);
    const domainSockets = this.socketsByDomain.get(peer.trustDomain) ?? new Set<TLSSocket>();
    domainSockets.add(socket);
    this.socketsByDomain.set(peer.trustDomain, domainSockets);
    socket.once('close', () => {
      domainSockets.delete(socket);
      if (domainSockets.size === 0) this.socketsByDomain.delete(peer.trustDomain);
    });
    this.peerInjector.injectConnection(socket);
  }


  private onRedeem(call: grpc.ServerUnaryCall<WireRedeemRequest, WireRedeemResponse>, callback: grpc.sendUnaryData<WireRedeemResponse>): void {
    const identity = this.verified.identityOf(call);
    this.options.handlers.redeem(call.request, identity).then(
      (response) => callback(null, response),
      (err: unknown) => {
        this.logger.warn({ code: (err as CausewayError).code, reason: describeError(err), remote: call.getPeer() }, 'peering redemption refused');
        callback(toGrpcStatus(err, ErrorCodes.PEER_REFUSED));
      },
    );
  }

  private onLink(call: LinkCall): void {
    const identity = this.verified.identityOf(call);
    if (identity === undefined) {
      this.logger.warn({ remote: call.getPeer() }, 'link refused: no verified client certificate');
      call.emit('error', {
        code: grpc.status.UNAUTHENTICATED,
        details: 'Link needs a client certificate from a peered trust domain',
      });
      return;
    }
    try {
      this.options.handlers.link(call, identity);
    } catch (err) {
      const status = toGrpcStatus(err instanceof CausewayError ? err : new CausewayError(ErrorCodes.INTERNAL, String(err)));
      call.emit('error', status);
    }
  }
}
