import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { CausewayError, ErrorCodes, describeError, silentLogger, type Logger } from '../../registry/index.js';
import type { SvidSource, TrustReader } from '../../federation/index.js';
import { bridge } from '../dataplane/bridge.js';
import { IdleSweeper } from '../dataplane/idle-sweeper.js';
import { refuseLookup } from '../dataplane/tcp-connect.js';
import { formatHostPort, type HostPort } from '../config/address.js';
import { checkGatewayCertificate } from './check-gateway.js';

/** RFC 9113 §3.4: the client connection preface of HTTP/2 with prior knowledge. */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export interface ForwardPort {
  listen: HostPort;
  /** `<service>.<namespace>:<port>` every connection to `listen` is tunnelled to. */
  service: string;
}

export interface AgentOutboundOptions {
  svid: SvidSource;
  trust: TrustReader;
  trustDomain: string;
  /** The gateway's outbound listener (it accepts TLS callers with their SVID); may wait until it is known. */
  gateway: () => HostPort | Promise<HostPort>;
  connectTimeoutMs?: number;
  /** A caller that sends nothing for this long after connecting is closed. Default 30 s. */
  firstBytesTimeoutMs?: number;
  idleTimeoutMs?: number;
  logger?: Logger;
}

/**
 * The agent's outbound side — how the host's apps reach the mesh. A local HTTP proxy (and
 * fixed local ports for TCP clients) whose every connection is carried to the gateway's
 * outbound listener over mTLS with the agent's SVID: the gateway then knows the caller by
 * certificate (design brief, caller identity rule 1 — the agent vouches for the services it
 * registered, whose identity is its SVID's) and routes, authorizes, retries and fails over
 * exactly as for any caller. The first bytes pick ALPN: the HTTP/2 preface (gRPC) goes as
 * `h2`, anything else as HTTP/1.1 (proxy requests and CONNECT). A fixed port sends
 * `CONNECT <service>` first and then carries the bytes.
 */
export class AgentOutbound {
  private readonly logger: Logger;
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly sweeper = new IdleSweeper();
  private closed = false;

  constructor(private readonly options: AgentOutboundOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'agent-outbound' });
  }

  /** The local proxy listener (127.0.0.1:15001 by default). */
  listenProxy(listen: HostPort): Promise<AddressInfo> {
    return this.serve(listen, 'outbound.listen', (socket) => this.onProxyConnection(socket));
  }

  /** A fixed local port for one mesh authority. */
  listenForward(forward: ForwardPort, field = 'outbound.forward'): Promise<AddressInfo> {
    return this.serve(forward.listen, field, (socket) => this.onForwardConnection(socket, forward.service));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const server of this.servers) server.close();
    for (const socket of this.sockets) socket.destroy();
    this.sweeper.close();
  }

  private serve(listen: HostPort, field: string, handle: (socket: Socket) => void): Promise<AddressInfo> {
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      if (this.closed) {
        socket.destroy();
        return;
      }
      this.track(socket);
      handle(socket);
    });
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(new CausewayError(ErrorCodes.LISTEN_FAILED, `${field} ${formatHostPort(listen)}: ${describeError(err)}`, { cause: err })));
      server.listen(listen.port, listen.host, () => {
        server.removeAllListeners('error');
        server.on('error', (err) => this.logger.warn({ field, err: describeError(err) }, 'listener error'));
        resolve(server.address() as AddressInfo);
      });
    });
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', (err) => this.logger.debug({ err: describeError(err) }, 'local caller connection error'));
  }

  private onProxyConnection(socket: Socket): void {
    const quiet = this.sweeper.watch(this.options.firstBytesTimeoutMs ?? 30_000, () => socket.destroy());
    socket.once('close', () => quiet.stop());
    let seen: Buffer = Buffer.alloc(0);
    const sniff = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const compared = Math.min(seen.length, H2_PREFACE.length);
      const h2 = seen.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared));
      if (h2 && seen.length < H2_PREFACE.length) return;
      quiet.stop();
      socket.off('data', sniff);
      socket.pause();
      this.carry(socket, h2 ? 'h2' : 'http/1.1', seen);
    };
    socket.on('data', sniff);
  }

  private onForwardConnection(socket: Socket, service: string): void {
    socket.pause();
    void this.dial('http/1.1').then((upstream) => this.connectThrough(socket, upstream, service), () => socket.destroy());
  }

  private connectThrough(socket: Socket, upstream: TLSSocket, service: string): void {
    upstream.once('secureConnect', () => {
      upstream.write(`CONNECT ${service} HTTP/1.1\r\nHost: ${service}\r\n\r\n`);
      let head: Buffer = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > 16_384) fail('the gateway answered CONNECT with a head over 16 KiB');
          return;
        }
        upstream.off('data', onData);
        upstream.pause();
        const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
        if (!/^HTTP\/1\.1 200 /.test(statusLine)) {
          const body = head.subarray(end + 4).toString('utf8').slice(0, 300);
          return fail(`the gateway refused CONNECT ${service}: ${statusLine} ${body}`);
        }
        const rest = head.subarray(end + 4);
        if (rest.length > 0) upstream.unshift(rest);
        this.join(socket, upstream, service);
      };
      upstream.on('data', onData);
    });
    const fail = (reason: string): void => {
      this.logger.warn({ service, reason }, 'forwarded connection refused');
      upstream.destroy();
      socket.destroy();
    };
    upstream.once('error', (err) => fail(describeError(err)));
  }

  /** Carries a proxy connection to the gateway's outbound listener, the bytes read so far first. */
  private carry(socket: Socket, alpn: 'h2' | 'http/1.1', seen: Buffer): void {
    void this.dial(alpn).then((upstream) => this.carryOn(socket, upstream, alpn, seen), () => socket.destroy());
  }

  private carryOn(socket: Socket, upstream: TLSSocket, alpn: 'h2' | 'http/1.1', seen: Buffer): void {
    upstream.once('secureConnect', () => {
      upstream.write(seen);
      this.join(socket, upstream, alpn);
    });
    upstream.once('error', (err) => {
      this.logger.warn({ err: describeError(err) }, 'cannot reach the gateway\'s outbound listener');
      socket.destroy();
    });
  }

  private join(socket: Socket, upstream: TLSSocket, what: string): void {
    upstream.removeAllListeners('error');
    bridge(socket, upstream, {
      idleTimeoutMs: this.options.idleTimeoutMs ?? 300_000, sweeper: this.sweeper,
      onEnd: ({ error }) => this.logger.debug({ what, err: error?.message }, 'outbound connection closed'),
    });
    socket.resume();
    upstream.resume();
  }

  private async dial(alpn: 'h2' | 'http/1.1'): Promise<TLSSocket> {
    const gateway = await this.options.gateway();
    const svid = this.options.svid.current();
    const socket = tlsConnect({
      host: gateway.host, port: gateway.port, lookup: refuseLookup, minVersion: 'TLSv1.3',
      cert: svid.certChainPem, key: svid.keyPem, ca: [...(this.options.trust.get(this.options.trustDomain)?.rootsPem ?? [])],
      ALPNProtocols: [alpn],
      checkServerIdentity: (_host: string, cert: PeerCertificate) => checkGatewayCertificate(cert, this.options.trustDomain),
    });
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS session with the gateway within ${this.options.connectTimeoutMs ?? 5000} ms`)), this.options.connectTimeoutMs ?? 5000);
    timer.unref();
    socket.once('secureConnect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
    return socket;
  }
}
