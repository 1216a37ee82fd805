import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { CausewayError, ErrorCodes, describeError, type Logger } from '../../registry/index.js';
import { MtlsServer, type PeerIdentity, type SvidSource, type TrustReader } from '../trust/index.js';
import { toGrpcStatus } from './grpc-errors.js';
import { MAX_MESSAGE_BYTES, federationProto, type WireLinkMessage, type WireRedeemRequest, type WireRedeemResponse } from './proto.js';

export type LinkCall = grpc.ServerDuplexStream<WireLinkMessage, WireLinkMessage>;

export interface FederationHandlers {
  /** `identity`: the verified client certificate, if the caller presented one. */
  redeem(request: WireRedeemRequest, identity: PeerIdentity | undefined): Promise<WireRedeemResponse>;
  /** Called with the verified identity; the handler owns the call from then on. */
  link(call: LinkCall, identity: PeerIdentity): void;
}

export interface FederationServerOptions {
  svid: SvidSource;
  trust: TrustReader;
  handlers: FederationHandlers;
  logger: Logger;
  idleTimeoutMs: number;
}

/**
 * The federation listener (port 15012): an MtlsServer decides who may connect — it verifies
 * every presented certificate against ITS OWN trust domain's bundle and closes the
 * connection otherwise — and each accepted TLS socket is injected into a grpc-js server
 * that speaks plain HTTP/2 on it. Anonymous connections are allowed through only because
 * Redeem must serve a gateway we do not trust yet; Link refuses them.
 */
export class FederationServer {
  private readonly grpcServer: grpc.Server;
  private readonly injector: grpc.ConnectionInjector;
  private readonly mtls: MtlsServer;
  private readonly logger: Logger;
  /** Verified identities by leaf fingerprint, counted per live socket. */
  private readonly verified = new Map<string, { identity: PeerIdentity; sockets: number }>();
  private readonly socketsByDomain = new Map<string, Set<TLSSocket>>();
  private closing: Promise<void> | undefined;

  constructor(private readonly options: FederationServerOptions) {
    this.logger = options.logger;
    this.grpcServer = new grpc.Server({
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    });
    this.grpcServer.addService(federationProto().service, {
      Redeem: (call: grpc.ServerUnaryCall<WireRedeemRequest, WireRedeemResponse>, callback: grpc.sendUnaryData<WireRedeemResponse>) => {
        this.onRedeem(call, callback);
      },
      Link: (call: LinkCall) => this.onLink(call),
    });
    this.injector = this.grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    this.mtls = new MtlsServer({
      svid: options.svid,
      trust: options.trust,
      alpn: ['h2'],
      allowAnonymous: true,
      idleTimeoutMs: options.idleTimeoutMs,
      logger: options.logger,
      onConnection: (socket, peer) => this.accept(socket, peer),
    });
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
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.grpcServer.forceShutdown();
          resolve();
        }, graceMs);
        timer.unref();
        this.grpcServer.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.injector.destroy();
      await this.mtls.close(graceMs);
    })();
    return this.closing;
  }

  private accept(socket: TLSSocket, peer: PeerIdentity | undefined): void {
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    if (peer !== undefined) {
      const entry = this.verified.get(peer.fingerprint) ?? { identity: peer, sockets: 0 };
      entry.sockets += 1;
      this.verified.set(peer.fingerprint, entry);
      const domainSockets = this.socketsByDomain.get(peer.trustDomain) ?? new Set<TLSSocket>();
      domainSockets.add(socket);
      this.socketsByDomain.set(peer.trustDomain, domainSockets);
      socket.once('close', () => {
        entry.sockets -= 1;
        if (entry.sockets <= 0) this.verified.delete(peer.fingerprint);
        domainSockets.delete(socket);
        if (domainSockets.size === 0) this.socketsByDomain.delete(peer.trustDomain);
      });
    }
    this.injector.injectConnection(socket);
  }

  /**
   * The identity MtlsServer verified for the connection carrying this call. grpc-js exposes
   * the TLS peer certificate of an injected socket (auth context); we map it back to the
   * identity verified at accept time by its fingerprint, so no certificate is trusted that
   * did not pass verifyPeerChain on this listener.
   */
  private identityOf(call: { getAuthContext(): { sslPeerCertificate?: { raw?: Buffer } } }): PeerIdentity | undefined {
    const raw = call.getAuthContext().sslPeerCertificate?.raw;
    if (raw === undefined) return undefined;
    return this.verified.get(createHash('sha256').update(raw).digest('hex'))?.identity;
  }

  private onRedeem(call: grpc.ServerUnaryCall<WireRedeemRequest, WireRedeemResponse>, callback: grpc.sendUnaryData<WireRedeemResponse>): void {
    const identity = this.identityOf(call);
    this.options.handlers.redeem(call.request, identity).then(
      (response) => callback(null, response),
      (err: unknown) => {
        this.logger.warn({ code: (err as CausewayError).code, reason: describeError(err), remote: call.getPeer() }, 'peering redemption refused');
        callback(toGrpcStatus(err, ErrorCodes.PEER_REFUSED));
      },
    );
  }

  private onLink(call: LinkCall): void {
    const identity = this.identityOf(call);
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
