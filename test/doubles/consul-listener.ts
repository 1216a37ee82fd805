// The Consul API double's listening socket: TCP accept with Consul's per-client-IP connection
// limit in front of the HTTP (or HTTPS) server that answers the API.
//
// Consul's `limits.http_max_conns_per_client` (default 200) caps the concurrent TCP connections one
// client IP may hold to the agent's HTTP(S) server
// (https://developer.hashicorp.com/consul/docs/reference/agent/configuration-file/general#http_max_conns_per_client).
// The agent enforces it with hashicorp/go-connlimit in the http.Server ConnState hook
// (agent/agent.go: `httpConnLimiter.HTTPConnStateFuncWithDefault429Handler(10 * time.Millisecond)`):
// a new connection is refused when the IP already holds the limit (`n >= MaxConnsPerClientIP`; 0
// means no limit); the refused connection is not counted, gets a raw
// "HTTP/1.1 429 Too Many Requests ... Connection: close" with the text "Your IP is issuing too many
// concurrent connections, please rate limit your calls" under a 10 ms write deadline, whatever it
// sent, and is closed (connlimit.go). Consul before 1.9.0 only closed it (HashiCorp support article
// "Consul Performance: Dealing with HTTP Connection Limits"). Over HTTPS, Go writes the 429 on the
// tls.Conn, which runs the handshake first; the double does the same, so a client that cannot
// complete the handshake (no client certificate under verify_incoming) just sees it fail.
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Consul's default `limits.http_max_conns_per_client`. */
export const DEFAULT_MAX_CONNS_PER_CLIENT = 200;

const TOO_MANY_CONNS_MSG = 'Your IP is issuing too many concurrent connections, please rate limit your calls\n';
export const TOO_MANY_CONNS_RESPONSE = 'HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\n'
  + `Content-Length: ${Buffer.byteLength(TOO_MANY_CONNS_MSG)}\r\nConnection: close\r\n\r\n${TOO_MANY_CONNS_MSG}`;

export interface ListenerTls {
  key: string | Buffer;
  cert: string | Buffer;
  /** CA(s) client certificates must chain to (with `verifyIncoming`). */
  ca?: string | Buffer;
  /** Consul's `tls.https.verify_incoming`: a client certificate signed by `ca` is required. */
  verifyIncoming?: boolean;
}

export class LimitedListener {
  private readonly net: NetServer;
  private readonly open = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private readonly refusalContext: SecureContext | undefined;
  private refusedCount = 0;

  constructor(
    private readonly server: HttpServer,
    private readonly maxConnsPerClient: number,
    private readonly tls: ListenerTls | undefined,
  ) {
    if (!Number.isSafeInteger(maxConnsPerClient) || maxConnsPerClient < 0) {
      throw new RangeError(`maxConnsPerClient must be a whole number >= 0 (0: no limit), got ${maxConnsPerClient}`);
    }
    this.refusalContext = tls === undefined ? undefined : createSecureContext({ key: tls.key, cert: tls.cert, ...(tls.ca === undefined ? {} : { ca: tls.ca }) });
    this.net = createNetServer((socket) => this.accept(socket));
  }

  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve) => this.net.listen(0, '127.0.0.1', resolve));
    return { host: '127.0.0.1', port: (this.net.address() as AddressInfo).port };
  }

  /** Connections refused for being over the per-client limit, since the start. */
  get refused(): number {
    return this.refusedCount;
  }

  /** Open (accepted) connections per client IP. */
  openConnections(): Record<string, number> {
    return Object.fromEntries(this.open);
  }

  /** Stops accepting and drops every connection. */
  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.net.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }

  private accept(socket: Socket): void {
    const ip = socket.remoteAddress ?? '';
    const held = this.open.get(ip) ?? 0;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (this.maxConnsPerClient > 0 && held >= this.maxConnsPerClient) {
      this.refusedCount += 1;
      this.refuse(socket);
      return;
    }
    this.open.set(ip, held + 1);
    socket.once('close', () => {
      const n = (this.open.get(ip) ?? 1) - 1;
      if (n === 0) this.open.delete(ip);
      else this.open.set(ip, n);
    });
    this.server.emit('connection', socket);
  }

  /** connlimit's 429 handler: the response, written at once under a 10 ms deadline, then close. */
  private refuse(socket: Socket): void {
    socket.on('error', () => {});
    const writeThenClose = (stream: Socket): void => {
      setTimeout(() => socket.destroy(), 10).unref();
      stream.end(TOO_MANY_CONNS_RESPONSE, () => stream.destroy());
    };
    if (this.refusalContext === undefined) {
      writeThenClose(socket);
      return;
    }
    // In Go the 10 ms also covers the handshake; here it starts after it (a handshake may take
    // longer than 10 ms on a loaded test machine), and a handshake gets a second.
    setTimeout(() => socket.destroy(), 1000).unref();
    const secure = new TLSSocket(socket, {
      isServer: true, secureContext: this.refusalContext,
      requestCert: this.tls?.verifyIncoming === true, rejectUnauthorized: this.tls?.verifyIncoming === true,
    });
    secure.on('error', () => socket.destroy());
    secure.once('secure', () => writeThenClose(secure));
  }
}
