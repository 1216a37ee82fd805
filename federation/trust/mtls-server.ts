import type { X509Certificate } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { createServer, type SecureContextOptions, type Server, type TLSSocket } from 'node:tls';
import { describeError, listenOn, silentLogger, type Logger } from '../../registry/index.js';
import { DEFAULT_CONNECTION_LIMITS, guardHandshakes, type ConnectionLimits, type HandshakeGuard } from './handshake-guard.js';
import { LogThrottle } from './log-throttle.js';
import { peerChainOf, verifyPeerChain } from './verify-chain.js';
import type { PeerIdentity, SecureConnectionHandler, SvidSource, TrustReader } from './types.js';

export interface MtlsServerOptions {
  svid: SvidSource;
  trust: TrustReader;
  alpn: string[];
  /**
   * Also accept a client that offers no ALPN at all (a client MAY send the extension, RFC
   * 7301 §3.1); its socket's `alpnProtocol` is false and the connection handler picks the
   * protocol. Off: such a client is refused. For listeners that also speak HTTP/1.1 (curl's
   * HTTPS-proxy client offers no ALPN); HTTP/2 over TLS is only chosen by ALPN (RFC 9113 §3.2).
   */
  allowNoAlpn?: boolean;
  /** Accept clients that present no certificate (peer = undefined); a presented certificate is still verified. */
  allowAnonymous?: boolean;
  /**
   * A listener's own rule on a verified peer (which trust domains, which kinds of identity it
   * serves): the reason to refuse it, or undefined to accept. Counted and logged like every
   * other refusal.
   */
  admit?: ((peer: PeerIdentity) => string | undefined) | undefined;
  onConnection: SecureConnectionHandler;
  logger?: Logger | undefined;
  /** A connection that has not completed its TLS handshake this long is closed (default 10 s). */
  handshakeTimeoutMs?: number | undefined;
  /**
   * Destroy a connection whose socket saw no bytes this long (default 10 minutes; 0 = never).
   * Only for protocols read through the socket itself: HTTP/2 consumes the socket natively,
   * so its traffic never refreshes this timer — HTTP/2 listeners pass 0 and judge idleness
   * per session or call instead.
   */
  idleTimeoutMs?: number | undefined;
  /** Caps on pending handshakes and held connections (defaults: DEFAULT_CONNECTION_LIMITS). */
  limits?: Partial<ConnectionLimits> | undefined;
}

export interface ConnectionRecord {
  at: string;
  remoteAddress: string;
  peer: PeerIdentity | undefined;
  protocol: string | null;
  alpn: string | false | null;
  cipher: string;
}

const RECENT = 50;

/**
 * The one mTLS listener of Causeway: the east-west data port, the federation port, the TLS
 * callers of the outbound listener (handed over by `accept`), and later the VM agent's edge
 * use it. TLS 1.3 only (RFC 8446), client certificates requested.
 * The TLS layer checks a presented chain against every held root; then verifyPeerChain
 * binds it to the bundle of its own trust domain. Trust changes and SVID rotations swap
 * the secure context for new connections while live ones stay up.
 */
export class MtlsServer {
  private readonly server: Server;
  private readonly logger: Logger;
  private readonly guard: HandshakeGuard;
  private readonly idleTimeoutMs: number;
  private readonly sockets = new Set<TLSSocket>();
  /** The verified chain of each live connection and when it was verified, to re-check on trust changes. */
  private readonly verified = new Map<TLSSocket, { chain: X509Certificate[]; at: Date }>();
  private readonly recent: ConnectionRecord[] = [];
  private readonly unsubscribe: Array<() => void> = [];
  private refused = 0;
  private completed = 0;
  private readonly refusalLog = new LogThrottle();
  private closing: Promise<void> | undefined;

  constructor(private readonly options: MtlsServerOptions) {
    this.logger = options.logger ?? silentLogger();
    this.idleTimeoutMs = options.idleTimeoutMs ?? 600_000;
    this.server = createServer({
      ...this.contextOptions(),
      requestCert: true,
      rejectUnauthorized: options.allowAnonymous !== true,
      ALPNProtocols: options.alpn,
      handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
    });
    this.guard = guardHandshakes(this.server, { ...DEFAULT_CONNECTION_LIMITS, ...options.limits }, {
      onRefuse: (remote, reason) => {
        this.refused++;
        if (this.refusalLog.allow((n) => this.logSuppressed(n))) this.logger.warn({ remote, reason }, 'connection refused');
      },
      onClientError: (err, socket) => {
        this.refused++;
        if (this.refusalLog.allow((n) => this.logSuppressed(n))) this.logger.info({ remote: socket.remoteAddress, reason: handshakeFailure(err, socket) }, 'TLS handshake refused');
      },
    });
    this.server.on('secureConnection', (socket: TLSSocket) => this.onSecureConnection(socket));
    const refresh = (): void => {
      try {
        this.server.setSecureContext(this.contextOptions());
      } catch (err) {
        this.logger.error({ err: describeError(err) }, 'cannot update TLS context; keeping the previous one');
      }
    };
    this.unsubscribe.push(options.trust.onChange(() => {
      refresh();
      this.dropUntrusted();
    }), options.svid.onRotate(refresh));
  }

  private contextOptions(): SecureContextOptions {
    const svid = this.options.svid.current();
    return { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', cert: svid.certChainPem, key: svid.keyPem, ca: this.options.trust.allRootsPem() };
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return listenOn(this.server, host, port);
  }

  /**
   * Takes over a TCP connection another listener accepted (one that tells TLS from other
   * protocols on a shared port by its first byte): the handshake, its timeout, the connection
   * caps and every certificate check then run as for a connection of our own. Bytes already
   * read from the socket must have been put back (`unshift`); node's TLS socket feeds what
   * the raw socket buffered to the handshake first.
   */
  accept(socket: Socket): void {
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    this.server.emit('connection', socket);
  }

  address(): AddressInfo | null {
    const address = this.server.address();
    return typeof address === 'object' ? address : null;
  }

  connections(): number {
    return this.sockets.size;
  }

  refusals(): number {
    return this.refused;
  }

  /** Connections accepted at TCP level whose TLS handshake is still running. */
  pendingHandshakes(): number {
    return this.guard.pending();
  }

  /** TLS handshakes completed (before the ALPN and SPIFFE checks that may still refuse them). */
  handshakes(): number {
    return this.completed;
  }

  recentConnections(): readonly ConnectionRecord[] {
    return this.recent;
  }

  private refuse(socket: TLSSocket, reason: string): void {
    this.refused++;
    if (this.refusalLog.allow((n) => this.logSuppressed(n))) this.logger.warn({ remote: socket.remoteAddress, reason }, 'connection refused');
    socket.destroy();
  }

  private logSuppressed(count: number): void {
    this.logger.warn({ suppressed: count }, `${count} more refused connections were not logged (at most 20 lines per 10 s); see the refusal counters`);
  }

  private onSecureConnection(socket: TLSSocket): void {
    this.completed++;
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    const noAlpn = socket.alpnProtocol === false && this.options.allowNoAlpn === true;
    if (!noAlpn && (socket.alpnProtocol === false || !this.options.alpn.includes(String(socket.alpnProtocol)))) {
      this.refuse(socket, `client did not negotiate ALPN ${this.options.alpn.join(',')}`);
      return;
    }
    let peer: PeerIdentity | undefined;
    const chain = peerChainOf(socket);
    if (chain.length > 0) {
      try {
        peer = verifyPeerChain(chain, this.options.trust);
      } catch (err) {
        this.refuse(socket, describeError(err));
        return;
      }
    } else if (this.options.allowAnonymous !== true) {
      this.refuse(socket, 'no client certificate');
      return;
    }
    const refusal = peer === undefined ? undefined : this.admitted(peer);
    if (refusal !== undefined) {
      this.refuse(socket, refusal);
      return;
    }
    this.sockets.add(socket);
    if (peer !== undefined) this.verified.set(socket, { chain, at: new Date() });
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.verified.delete(socket);
    });
    if (this.idleTimeoutMs > 0) socket.setTimeout(this.idleTimeoutMs, () => socket.destroy());
    this.recent.push({
      at: new Date().toISOString(), remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`, peer,
      protocol: socket.getProtocol(), alpn: socket.alpnProtocol, cipher: socket.getCipher().name,
    });
    if (this.recent.length > RECENT) this.recent.shift();
    try {
      this.options.onConnection(socket, peer);
    } catch (err) {
      this.logger.error({ err: describeError(err) }, 'connection handler failed');
      socket.destroy();
    }
  }

  private admitted(peer: PeerIdentity): string | undefined {
    try {
      return this.options.admit?.(peer);
    } catch (err) {
      return `admission check failed: ${describeError(err)}`;
    }
  }

  /**
   * Closes live connections whose certificate no longer chains to a held bundle — a removed
   * peer's domain, say — so withdrawing trust takes effect at once, not at the next dial.
   * Checked as of the time each connection was made: a rotation that keeps the old root
   * published (as it does until its SVIDs expire) closes nothing.
   */
  private dropUntrusted(): void {
    for (const [socket, { chain, at }] of this.verified) {
      try {
        verifyPeerChain(chain, this.options.trust, at);
      } catch (err) {
        this.logger.warn({ remote: socket.remoteAddress, reason: describeError(err) }, 'closing a connection: its trust was withdrawn');
        this.verified.delete(socket);
        socket.destroy();
      }
    }
  }

  /** Stops accepting, ends live connections, and destroys what is left after graceMs. Idempotent. */
  close(graceMs = 1000): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const off of this.unsubscribe) off();
      const timer = setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
      }, graceMs);
      timer.unref();
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      for (const socket of this.sockets) socket.end();
    });
    return this.closing;
  }

  destroy(): void {
    void this.close(0);
    for (const socket of this.sockets) socket.destroy();
  }
}

/**
 * Why a handshake failed, for the log. When the client's chain fails verification, node ends
 * the handshake itself and reports only "socket hang up"; the reason it found is left on the
 * socket as `authorizationError` (an OpenSSL X509_V_ERR name such as CERT_HAS_EXPIRED).
 */
function handshakeFailure(err: Error & { code?: string; reason?: string }, socket: TLSSocket): string {
  if (err.code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') {
    return 'no client certificate: the handshake ended with certificate_required (RFC 8446 §4.4.2.4); present an SVID';
  }
  const verify = socket.authorizationError as unknown;
  // OpenSSL's own message carries its source file and line; its reason says the same plainly.
  if (verify === undefined || verify === null) return err.reason === undefined ? err.message : `${err.reason} (${err.code ?? 'TLS'})`;
  const code = typeof verify === 'string' ? verify : String((verify as { code?: unknown }).code ?? verify);
  return `client certificate not trusted: ${code}${CHAIN_ERRORS[code] === undefined ? '' : ` (${CHAIN_ERRORS[code]})`}`;
}

/** Plain words for the chain verification failures a client certificate meets most. */
const CHAIN_ERRORS: Readonly<Record<string, string>> = {
  CERT_HAS_EXPIRED: 'the certificate has expired',
  CERT_NOT_YET_VALID: 'the certificate is not valid yet',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'it does not chain to a root of any trust bundle this gateway holds',
  UNABLE_TO_GET_ISSUER_CERT: 'it does not chain to a root of any trust bundle this gateway holds',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'it does not chain to a root of any trust bundle this gateway holds',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed and not a root of any trust bundle this gateway holds',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends at a self-signed root this gateway does not hold',
  CERT_SIGNATURE_FAILURE: 'a signature in the chain does not verify',
  INVALID_PURPOSE: 'its extended key usage does not allow TLS client authentication',
};
