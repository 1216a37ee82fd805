import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { connect as tcpConnect } from 'node:net';
import { describeError, type Endpoint, type Logger } from '../../../registry/index.js';
import { sidecarConnection, type SidecarCredentials } from '../endpoint-connector.js';
import type { WindowTuning } from '../h2-windows.js';
import { formatIpAddress } from '../mesh-address.js';
import { refuseLookup } from '../tcp-connect.js';

export interface H2cPoolOptions {
  connectTimeoutMs: number;
  /** A session with no open stream for this long is closed. */
  idleTimeoutMs: number;
  windows: WindowTuning;
  logger: Logger;
  /** For endpoints behind an agent's sidecar: HTTP/2 cleartext rides the sidecar's mTLS hop. */
  sidecar?: SidecarCredentials;
}

/**
 * One cleartext HTTP/2 session (h2c with prior knowledge, RFC 9113 §3.3) per backend endpoint
 * that declares `protocol: grpc` or `http2`; every call to that endpoint is a stream on it.
 * A session that fails, goes away or idles out is dropped, and the next call opens a new one.
 */
export class H2cPool {
  private readonly sessions = new Map<string, ClientHttp2Session>();
  private closed = false;

  constructor(private readonly options: H2cPoolOptions) {}

  session(endpoint: Pick<Endpoint, 'address' | 'identity' | 'sidecarPort'>, port: number): ClientHttp2Session {
    const host = endpoint.address;
    const key = formatIpAddress(host, port);
    const held = this.sessions.get(key);
    if (held !== undefined && !held.closed && !held.destroyed) return held;
    if (this.closed) throw new Error('h2c pool is closed');
    // The authority only names the session; the socket dials the IP literal, never DNS.
    const session = h2connect(`http://${key}`, {
      createConnection: () => endpoint.sidecarPort === undefined
        ? tcpConnect({ host, port, lookup: refuseLookup, noDelay: true })
        : sidecarConnection(endpoint, port, this.options.sidecar),
      settings: { enablePush: false, initialWindowSize: this.options.windows.streamWindowBytes },
    });
    this.sessions.set(key, session);
    const timer = setTimeout(() => session.destroy(new Error(`no HTTP/2 session with ${key} within ${this.options.connectTimeoutMs} ms`)), this.options.connectTimeoutMs);
    timer.unref();
    session.once('connect', () => {
      clearTimeout(timer);
      session.setLocalWindowSize(this.options.windows.sessionWindowBytes);
    });
    session.setTimeout(this.options.idleTimeoutMs, () => session.close());
    const drop = (): void => {
      clearTimeout(timer);
      if (this.sessions.get(key) === session) this.sessions.delete(key);
    };
    session.on('error', (err) => this.options.logger.debug({ endpoint: key, err: describeError(err) }, 'h2c session failed'));
    session.on('goaway', drop);
    session.on('close', drop);
    return session;
  }

  size(): number {
    return this.sessions.size;
  }

  close(): void {
    this.closed = true;
    for (const session of this.sessions.values()) session.destroy();
    this.sessions.clear();
  }
}
