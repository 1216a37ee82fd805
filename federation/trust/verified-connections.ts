import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type * as grpc from '@grpc/grpc-js';
import type { PeerIdentity } from './types.js';

/** What grpc-js tells a handler about its call's connection (ServerSurfaceCall.getAuthContext). */
export interface CallWithAuthContext {
  getAuthContext(): { sslPeerCertificate?: { raw?: Buffer } } | undefined;
}

/**
 * The identities MtlsServer verified for the TLS sockets handed to a grpc-js server through a
 * connection injector. grpc-js shows a handler only the peer certificate of its call's
 * connection; this maps it back, by fingerprint, to the identity verified when the socket was
 * accepted — so a handler trusts no certificate that did not pass verifyPeerChain on this
 * listener. An entry lives as long as a socket with that certificate is open.
 */
export class VerifiedConnections {
  private readonly byFingerprint = new Map<string, { identity: PeerIdentity; sockets: number }>();

  /** Holds `peer` as the identity of every call on `socket`, until the socket closes. */
  hold(socket: TLSSocket, peer: PeerIdentity): void {
    const entry = this.byFingerprint.get(peer.fingerprint) ?? { identity: peer, sockets: 0 };
    entry.sockets += 1;
    this.byFingerprint.set(peer.fingerprint, entry);
    socket.once('close', () => {
      entry.sockets -= 1;
      if (entry.sockets <= 0) this.byFingerprint.delete(peer.fingerprint);
    });
  }

  /** The verified identity of the connection carrying `call`; undefined when it presented no certificate. */
  identityOf(call: CallWithAuthContext): PeerIdentity | undefined {
    const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
    if (raw === undefined) return undefined;
    return this.byFingerprint.get(createHash('sha256').update(raw).digest('hex'))?.identity;
  }
}

/** Shuts a grpc-js server down: in-flight calls get `graceMs`, then it is forced. */
export function shutdownGrpcServer(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
