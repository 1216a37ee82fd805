import {
  connect as h2connect, constants as h2,
  type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders,
} from 'node:http2';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import {
  CausewayError, ErrorCodes, describeError, silentLogger, type ErrorCode, type GatewayRecord, type Logger,
} from '../../registry/index.js';
import { mtlsClientOptions, type SvidSource, type TrustReader } from '../../federation/index.js';
import { CAUSEWAY_ERROR, CAUSEWAY_SOURCE, CAUSEWAY_STREAM, STREAM_HTTP1 } from './headers.js';
import { formatIpAddress, parseIpAddress } from './mesh-address.js';
import { gatewayKey } from './outlier-tracker.js';
import { refuseLookup } from './tcp-connect.js';
import { H2_WINDOWS, type WindowTuning } from './h2-windows.js';

export interface TunnelClientOptions {
  svid: SvidSource;
  trust: TrustReader;
  logger?: Logger;
  /** TCP + TLS + HTTP/2 preface to a remote gateway. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Wait for the CONNECT answer (the remote gateway connects to its endpoint first). Default 15000 ms. */
  responseTimeoutMs?: number;
  /** A session with no activity for this long is closed. Default 300000 ms. */
  sessionIdleTimeoutMs?: number;
  windows?: Partial<WindowTuning>;
}

/** A CONNECT stream the remote gateway answered 2xx, ready to carry bytes. */
export interface OpenedTunnel {
  stream: ClientHttp2Stream;
  headers: IncomingHttpHeaders;
}

/** What the outbound proxy needs from a tunnel client (a seam for tests and future transports). */
export interface TunnelOpener {
  /** An HTTP/2 request stream to the remote gateway (gRPC and HTTP/2 calls). */
  request?(gateway: GatewayRecord, headers: OutgoingHttpHeaders): ClientHttp2Stream;
  /** `http1`: the stream will carry pooled HTTP/1.1 requests (CAUSEWAY_STREAM), not a caller's byte stream. */
  open(gateway: GatewayRecord, authority: string, source: string | undefined, options?: { http1?: boolean }): Promise<OpenedTunnel>;
}

/**
 * Why a tunnel did not open. `status` is the remote gateway's HTTP status when it answered;
 * undefined when it never did (connect, TLS or identity failure, timeout) — the caller's
 * outlier detection counts those and 5xx answers, not refusals.
 */
export class TunnelError extends CausewayError {
  readonly status: number | undefined;
  constructor(code: ErrorCode, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.status = options.status;
  }
}

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

interface Pooled {
  key: string;
  session: ClientHttp2Session;
  /** Why the session failed, for the streams that die with it. */
  failure: Error | undefined;
}

/**
 * Dials remote gateways' east-west listeners: one HTTP/2 session per gateway (identity +
 * address) over TLS 1.3 with this gateway's X.509-SVID, pinned to the remote trust domain's
 * bundle and the gateway's exact SPIFFE ID; one CONNECT stream (RFC 7540 §8.3) per proxied
 * connection. An SVID rotation or bundle change retires the pooled sessions — they drain
 * their open streams while new streams go to a fresh session with the current material.
 */
export class TunnelClient implements TunnelOpener {
  private readonly options: TunnelClientOptions;
  private readonly logger: Logger;
  private readonly pool = new Map<string, Pooled>();
  private readonly live = new Set<ClientHttp2Session>();
  private readonly unsubscribe: Array<() => void>;
  private closing: Promise<void> | undefined;
  private readonly windows: WindowTuning;

  constructor(options: TunnelClientOptions) {
    this.options = options;
    this.windows = { ...H2_WINDOWS, ...options.windows };
    this.logger = (options.logger ?? silentLogger()).child({ component: 'tunnel' });
    this.unsubscribe = [
      options.svid.onRotate(() => this.retireAll('svid rotated')),
      options.trust.onChange(() => this.retireAll('trust bundles changed')),
    ];
  }

  /** Sessions currently open, including retired ones still draining. */
  sessionCount(): number {
    return this.live.size;
  }

  async open(gateway: GatewayRecord, authority: string, source: string | undefined, options: { http1?: boolean } = {}): Promise<OpenedTunnel> {
    if (this.closing !== undefined) throw new TunnelError(ErrorCodes.CLOSED, 'tunnel client is closed');
    const headers: OutgoingHttpHeaders = { ':method': 'CONNECT', ':authority': authority };
    if (source !== undefined) headers[CAUSEWAY_SOURCE] = source;
    if (options.http1 === true) headers[CAUSEWAY_STREAM] = STREAM_HTTP1;
    let pooled = this.sessionFor(gateway);
    let stream: ClientHttp2Stream;
    try {
      stream = pooled.session.request(headers, { endStream: false });
    } catch (err) {
      // A session out of stream IDs (2^31, RFC 7540 §5.1.1) or already going away: retire it
      // and try once on a fresh one.
      this.retire(pooled, `request failed: ${describeError(err)}`);
      pooled = this.sessionFor(gateway);
      stream = pooled.session.request(headers, { endStream: false });
    }
    return this.awaitAnswer(stream, pooled, gateway, authority);
  }

  /**
   * An HTTP/2 request stream (not CONNECT) on the pooled session to `gateway`: a gRPC or HTTP/2
   * call carried as its own stream (design brief). The caller reads the answer itself.
   */
  request(gateway: GatewayRecord, headers: OutgoingHttpHeaders): ClientHttp2Stream {
    if (this.closing !== undefined) throw new TunnelError(ErrorCodes.CLOSED, 'tunnel client is closed');
    const pooled = this.sessionFor(gateway);
    try {
      return pooled.session.request(headers, { endStream: false });
    } catch (err) {
      this.retire(pooled, `request failed: ${describeError(err)}`);
      return this.sessionFor(gateway).session.request(headers, { endStream: false });
    }
  }

  /** Closes every session: GOAWAY first, destroy what is left after `graceMs`. Idempotent. */
  close(graceMs = 2000): Promise<void> {
    this.closing ??= (async () => {
      for (const off of this.unsubscribe) off();
      this.pool.clear();
      const sessions = [...this.live];
      const closed = sessions.map((s) => new Promise<void>((resolve) => (s.closed || s.destroyed ? resolve() : s.once('close', () => resolve()))));
      for (const session of sessions) session.close();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(closed), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      for (const session of this.live) session.destroy();
      // destroy() emits 'close' on a later tick; resolve only once every session is gone.
      await Promise.all(closed);
    })();
    return this.closing;
  }

  private sessionFor(gateway: GatewayRecord): Pooled {
    const key = gatewayKey(gateway);
    const held = this.pool.get(key);
    if (held !== undefined && !held.session.closed && !held.session.destroyed) return held;
    const address = parseIpAddress(gateway.eastWestAddress);
    if (typeof address === 'string') {
      throw new TunnelError(ErrorCodes.UPSTREAM_CONNECT, `gateway ${gateway.identity} has a bad east-west address: ${address}`);
    }
    let tlsOptions: ConnectionOptions;
    try {
      tlsOptions = mtlsClientOptions({
        svid: this.options.svid.current(), trust: this.options.trust,
        expectTrustDomain: gateway.trustDomain, expectSpiffeId: gateway.identity, alpn: ['h2'],
      });
    } catch (err) {
      throw new TunnelError(ErrorCodes.UPSTREAM_CONNECT, `cannot dial ${gateway.identity}: ${describeError(err)}`, { cause: err });
    }
    const where = formatIpAddress(address.host, address.port);
    // The URL only names the session; createConnection dials the IP literal itself, so nothing
    // here is ever looked up in DNS.
    const session = h2connect(`https://${where}`, {
      createConnection: () => tlsConnect({ ...tlsOptions, host: address.host, port: address.port, lookup: refuseLookup }),
      settings: { enablePush: false, initialWindowSize: this.windows.streamWindowBytes },
    });
    const pooled: Pooled = { key, session, failure: undefined };
    this.pool.set(key, pooled);
    this.live.add(session);

    const connectTimer = setTimeout(() => {
      pooled.failure = new Error(`no TLS/HTTP2 session with ${where} within ${this.options.connectTimeoutMs ?? 5000} ms`);
      session.destroy();
    }, this.options.connectTimeoutMs ?? 5000);
    connectTimer.unref();
    session.once('connect', () => {
      clearTimeout(connectTimer);
      // RFC 9113 §6.9.2: a larger connection window for answers (see h2-windows.ts).
      session.setLocalWindowSize(this.windows.sessionWindowBytes);
      this.logger.debug({ gateway: gateway.identity, address: where }, 'tunnel session up');
    });
    session.setTimeout(this.options.sessionIdleTimeoutMs ?? 300_000, () => this.retire(pooled, 'idle'));
    session.on('error', (err) => {
      pooled.failure ??= err;
      this.logger.info({ gateway: gateway.identity, address: where, err: describeError(err) }, 'tunnel session failed');
    });
    session.on('goaway', () => this.dropFromPool(pooled));
    session.on('close', () => {
      clearTimeout(connectTimer);
      this.dropFromPool(pooled);
      this.live.delete(session);
    });
    return pooled;
  }

  private awaitAnswer(stream: ClientHttp2Stream, pooled: Pooled, gateway: GatewayRecord, authority: string): Promise<OpenedTunnel> {
    const who = `gateway ${gateway.identity} (${gateway.eastWestAddress})`;
    return new Promise((resolve, reject) => {
      let settled = false;
      /** Set once any answer arrived: a refusal is reported from its headers, not from the close that follows. */
      let answered = false;
      const fail = (err: TunnelError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!stream.destroyed) stream.close(h2.NGHTTP2_CANCEL);
        reject(err);
      };
      const timer = setTimeout(() => {
        fail(new TunnelError(ErrorCodes.UPSTREAM_CONNECT, `${who} did not answer CONNECT ${authority} within ${this.options.responseTimeoutMs ?? 15_000} ms`));
      }, this.options.responseTimeoutMs ?? 15_000);
      timer.unref();

      stream.on('error', (err) => {
        if (answered) return;
        const reason = pooled.failure ?? err;
        fail(new TunnelError(ErrorCodes.UPSTREAM_CONNECT, `${who}: ${describeError(reason)}`, { cause: reason }));
      });
      stream.once('close', () => {
        if (answered) return;
        const reason = pooled.failure === undefined ? `stream closed (code ${stream.rstCode})` : describeError(pooled.failure);
        fail(new TunnelError(ErrorCodes.UPSTREAM_CONNECT, `${who} closed CONNECT ${authority} before answering: ${reason}`));
      });
      stream.once('response', (headers) => {
        answered = true;
        const status = Number(headers[':status']);
        if (status >= 200 && status < 300) {
          settled = true;
          clearTimeout(timer);
          resolve({ stream, headers });
          return;
        }
        const announced = headers[CAUSEWAY_ERROR];
        const code = (typeof announced === 'string' && KNOWN_CODES.has(announced) ? announced : ErrorCodes.UPSTREAM_CONNECT) as ErrorCode;
        readSmallBody(stream, (body) => {
          const detail = messageOf(body);
          fail(new TunnelError(code, `${who} refused ${authority}: ${status} ${code}${detail === undefined ? '' : ` (${detail})`}`, { status }));
        });
      });
    });
  }

  private dropFromPool(pooled: Pooled): void {
    if (this.pool.get(pooled.key) === pooled) this.pool.delete(pooled.key);
  }

  /** Stop handing out this session; it closes once its open streams finish (GOAWAY). */
  private retire(pooled: Pooled, why: string): void {
    this.dropFromPool(pooled);
    if (!pooled.session.closed && !pooled.session.destroyed) {
      this.logger.debug({ gateway: pooled.key, why }, 'tunnel session retired');
      pooled.session.close();
    }
  }

  private retireAll(why: string): void {
    for (const pooled of [...this.pool.values()]) this.retire(pooled, why);
  }
}

/** Reads at most 4 KiB of a refusal body (a JSON `{code, message}` from our own east-west server). */
function readSmallBody(stream: ClientHttp2Stream, done: (body: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    done(Buffer.concat(chunks).toString('utf8'));
  };
  stream.on('data', (chunk: Buffer) => {
    if (size < 4096) chunks.push(chunk.subarray(0, 4096 - size));
    size += chunk.length;
    if (size >= 4096) finish();
  });
  stream.once('end', finish);
  stream.once('close', finish);
}

function messageOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message.slice(0, 500) : undefined;
  } catch {
    return undefined;
  }
}
