import { isIPv6, type Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';

/**
 * Connection caps of one TLS listener. A TCP connection costs a file descriptor and some
 * memory before the peer has proven anything, so the listener bounds what it holds for
 * strangers: connections still in the TLS handshake, per source and in total, and every
 * connection it holds at all (file-descriptor headroom, so that the admin listener and the
 * other listeners keep answering under a connection flood).
 */
export interface ConnectionLimits {
  /** Connections not yet past the TLS handshake, all sources together. */
  maxPendingHandshakes: number;
  /** Connections not yet past the TLS handshake from one source (an IPv4 address or an IPv6 /64). */
  maxPendingHandshakesPerSource: number;
  /** Every connection the listener holds, handshaking or established. */
  maxConnections: number;
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = Object.freeze({
  maxPendingHandshakes: 512,
  maxPendingHandshakesPerSource: 64,
  maxConnections: 4096,
});

/** Why the guard refused a connection (the listener counts and logs it). */
export type ConnectionRefusal = 'too many connections' | 'too many pending handshakes' | 'too many pending handshakes from this source';

/**
 * The key a per-source cap counts by: an IPv4 address (IPv4-mapped IPv6 included), or the
 * /64 prefix of an IPv6 address — the smallest block a site is normally assigned
 * (RFC 6177), so an attacker holding one cannot multiply its share by rotating addresses.
 */
export function sourceKey(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1] ?? address;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export interface HandshakeGuard {
  /** Connections still in the TLS handshake. */
  pending(): number;
  refusals(): Readonly<Record<ConnectionRefusal, number>>;
}

export interface GuardHooks {
  /** A connection the caps refused (already closed), by its remote address. */
  onRefuse(remoteAddress: string | undefined, reason: ConnectionRefusal): void;
  /** A handshake that failed or timed out (the socket is destroyed right after). */
  onClientError(err: Error, socket: TLSSocket): void;
}

/**
 * Installs the caps and the handshake-failure cleanup on a node:tls server. The total cap is
 * net.Server#maxConnections, which closes the socket before TLS even starts; the pending
 * caps are checked as each TCP connection arrives and released when its handshake
 * completes or it closes. The handshake timeout itself belongs to the server
 * (`handshakeTimeout`), but node only reports it through 'tlsClientError' and leaves the
 * socket open — a slowloris client holds its descriptor forever — so the guard destroys
 * every socket whose handshake failed.
 */
export function guardHandshakes(server: TlsServer, limits: ConnectionLimits, hooks: GuardHooks): HandshakeGuard {
  server.maxConnections = limits.maxConnections;
  const bySource = new Map<string, number>();
  /** Sockets still handshaking, by remote address and port (unique on one listener), to their source key. */
  const handshaking = new Map<string, string>();
  /** Raw sockets the caps refused, whose 'tlsClientError' (socket hang up) is not news. */
  const refusedSockets = new WeakSet<Socket>();
  let pending = 0;
  const refused: Record<ConnectionRefusal, number> = {
    'too many connections': 0, 'too many pending handshakes': 0, 'too many pending handshakes from this source': 0,
  };
  const release = (id: string): void => {
    const key = handshaking.get(id);
    if (key === undefined) return;
    handshaking.delete(id);
    pending -= 1;
    const left = (bySource.get(key) ?? 1) - 1;
    if (left <= 0) bySource.delete(key);
    else bySource.set(key, left);
  };
  const refuse = (socket: Socket, reason: ConnectionRefusal): void => {
    refused[reason] += 1;
    refusedSockets.add(socket);
    socket.destroy();
    hooks.onRefuse(socket.remoteAddress, reason);
  };
  server.on('drop', (data?: { remoteAddress?: string }) => {
    refused['too many connections'] += 1;
    hooks.onRefuse(data?.remoteAddress, 'too many connections');
  });
  // Before node wraps the socket in TLS: a refused connection costs no TLS state at all.
  server.prependListener('connection', (socket: Socket) => {
    const id = idOf(socket);
    const key = sourceKey(socket.remoteAddress);
    if (pending >= limits.maxPendingHandshakes) return refuse(socket, 'too many pending handshakes');
    if ((bySource.get(key) ?? 0) >= limits.maxPendingHandshakesPerSource) return refuse(socket, 'too many pending handshakes from this source');
    handshaking.set(id, key);
    bySource.set(key, (bySource.get(key) ?? 0) + 1);
    pending += 1;
    socket.once('close', () => release(id));
  });
  server.on('secureConnection', (socket: TLSSocket) => release(idOf(socket)));
  server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
    socket.destroy();
    // node keeps the wrapped TCP socket as `_parent` (not public API: without it, a refused
    // socket's hang-up is merely reported once more).
    const parent = (socket as TLSSocket & { _parent?: Socket })._parent;
    if (parent !== undefined && refusedSockets.has(parent)) return;
    hooks.onClientError(err, socket);
  });
  return { pending: () => pending, refusals: () => ({ ...refused }) };
}

function idOf(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? 0}`;
}
