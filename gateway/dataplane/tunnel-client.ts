import {
  connect as h2connect,
  type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders,
} from 'node:http2';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import {
  ErrorCodes, describeError, silentLogger, type ErrorCode, type GatewayRecord, type Logger,
} from '../../registry/index.js';
import { mtlsClientOptions, type SvidSource, type TrustReader } from '../../federation/index.js';
import { CAUSEWAY_ENDPOINT, CAUSEWAY_ERROR, CAUSEWAY_SOURCE, CAUSEWAY_STREAM, CAUSEWAY_SUBSET, STREAM_HTTP1 } from './headers.js';
import { formatIpAddress, parseIpAddress } from './mesh-address.js';
import { gatewayKey } from './outlier-tracker.js';
import { CAUSEWAY_PROBE, PROBE_VALUE, type GatewayProbes, type ProbeOutcome } from './probe.js';
import { refuseLookup } from './tcp-connect.js';
import { H2_WINDOWS, type WindowTuning } from './h2-windows.js';
import { TunnelError } from './tunnel-error.js';
import { TunnelSession, type SessionTuning } from './tunnel-session.js';

export { TunnelError } from './tunnel-error.js';

/**
 * Keep-alive defaults (dataPlane.tunnel): a blackholed gateway is found within a second
 * (interval + timeout), so idempotent requests stuck on it are retried elsewhere well inside
 * a 2 s client timeout — with 500 ms + 1 s, bench:failover saw ~40 of them time out first.
 * Only silence kills (any frame from the peer counts), which keeps a busy peer alive.
 */
export const DEFAULT_TUNNEL = Object.freeze({ pingIntervalMs: 250, pingTimeoutMs: 750 });
/**
 * The CONNECT answer follows the remote gateway's connect to its endpoint, which it bounds by
 * its own connect timeout; this much more covers the hop back. A dead peer is PING's business,
 * so this only has to cover a live gateway whose endpoint hangs.
 */
export const ANSWER_MARGIN_MS = 1000;

export interface TunnelClientOptions {
  svid: SvidSource;
  trust: TrustReader;
  logger?: Logger;
  /** TCP + TLS + HTTP/2 preface to a remote gateway. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Wait for the CONNECT answer. Default connectTimeoutMs + ANSWER_MARGIN_MS. */
  responseTimeoutMs?: number;
  /** PING interval of a session in use (RFC 9113 §6.7). Default 500 ms. */
  pingIntervalMs?: number;
  /** A PING unanswered this long (and the peer silent) kills the session. Default 1000 ms. */
  pingTimeoutMs?: number;
  /** A session with no stream for this long is closed. Default 300000 ms. */
  sessionIdleTimeoutMs?: number;
  windows?: Partial<WindowTuning>;
  now?: () => number;
}

/** What the transport learned about a remote gateway (GatewayLiveness listens). */
export type TunnelEvent =
  | { type: 'up'; gateway: GatewayRecord }
  | { type: 'dead'; gateway: GatewayRecord; reason: string };

/** A CONNECT stream the remote gateway answered 2xx, ready to carry bytes. */
export interface OpenedTunnel {
  stream: ClientHttp2Stream;
  headers: IncomingHttpHeaders;
}

export interface OpenOptions {
  /** The stream will carry pooled HTTP/1.1 requests (CAUSEWAY_STREAM), not a caller's byte stream. */
  http1?: boolean;
  /** Endpoint labels the answering gateway must pick from (CAUSEWAY_SUBSET, `name=value,...`). */
  subset?: string;
  /**
   * The caller went away: an unanswered CONNECT is abandoned without a reset (its answer is
   * discarded) and open() rejects with CW_CLOSED.
   */
  signal?: AbortSignal;
}

/** What the outbound proxy needs from a tunnel client (a seam for tests and future transports). */
export interface TunnelOpener {
  /** An HTTP/2 request stream to the remote gateway (gRPC and HTTP/2 calls). */
  request?(gateway: GatewayRecord, headers: OutgoingHttpHeaders): ClientHttp2Stream;
  open(gateway: GatewayRecord, authority: string, source: string | undefined, options?: OpenOptions): Promise<OpenedTunnel>;
  /** Cancels a stream this opener made, within the session's reset budget (see TunnelSession.cancel). */
  cancel?(stream: ClientHttp2Stream): void;
}

/** Counters since the client started (status, tests). */
export interface TunnelStats {
  /** Sessions open now, retired ones still draining included. */
  sessions: number;
  /** RST_STREAM frames sent by cancel(), within the reset budget. */
  resetsSent: number;
  /** Cancels beyond the budget: our side ended, the reset left for later (or never needed). */
  resetsDeferred: number;
  /** Sessions retired early because their reset budget ran low. */
  sessionsRotated: number;
  /** Sessions destroyed for an unanswered PING. */
  sessionsDead: number;
}

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/**
 * Dials remote gateways' east-west listeners: one HTTP/2 session per gateway (identity +
 * address) over TLS 1.3 with this gateway's X.509-SVID, pinned to the remote trust domain's
 * bundle and the gateway's exact SPIFFE ID; one CONNECT stream (RFC 9113 §8.5) per proxied
 * connection. Sessions are kept honest by PING (tunnel-session.ts) and report `up` / `dead`
 * through onEvent. An SVID rotation or bundle change retires the pooled sessions — they drain
 * their open streams while new streams go to a fresh session with the current material.
 */
export class TunnelClient implements TunnelOpener, GatewayProbes {
  private readonly options: TunnelClientOptions;
  private readonly logger: Logger;
  private readonly pool = new Map<string, TunnelSession>();
  private readonly live = new Map<ClientHttp2Session, TunnelSession>();
  private readonly listeners = new Set<(event: TunnelEvent) => void>();
  private readonly counters = { resetsSent: 0, resetsDeferred: 0, sessionsRotated: 0, sessionsDead: 0 };
  private readonly unsubscribe: Array<() => void>;
  private closing: Promise<void> | undefined;
  private readonly tuning: SessionTuning;
  private readonly responseTimeoutMs: number;
  private readonly now: () => number;

  constructor(options: TunnelClientOptions) {
    this.options = options;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'tunnel' });
    this.now = options.now ?? Date.now;
    const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.responseTimeoutMs = options.responseTimeoutMs ?? connectTimeoutMs + ANSWER_MARGIN_MS;
    this.tuning = {
      connectTimeoutMs,
      pingIntervalMs: options.pingIntervalMs ?? DEFAULT_TUNNEL.pingIntervalMs,
      pingTimeoutMs: options.pingTimeoutMs ?? DEFAULT_TUNNEL.pingTimeoutMs,
      idleTimeoutMs: options.sessionIdleTimeoutMs ?? 300_000,
      abandonGraceMs: this.responseTimeoutMs,
      windows: { ...H2_WINDOWS, ...options.windows },
    };
    this.unsubscribe = [
      options.svid.onRotate(() => this.retireAll('svid rotated')),
      options.trust.onChange(() => this.retireAll('trust bundles changed')),
    ];
  }

  /** Sessions currently open, including retired ones still draining. */
  sessionCount(): number {
    return this.live.size;
  }

  stats(): TunnelStats {
    return { sessions: this.live.size, ...this.counters };
  }

  /** Subscribes to `up` / `dead` reports; returns the unsubscribe function. */
  onEvent(listener: (event: TunnelEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async open(gateway: GatewayRecord, authority: string, source: string | undefined, options: OpenOptions = {}): Promise<OpenedTunnel> {
    if (this.closing !== undefined) throw new TunnelError(ErrorCodes.CLOSED, 'tunnel client is closed');
    if (options.signal?.aborted === true) throw new TunnelError(ErrorCodes.CLOSED, 'the caller went away before the tunnel was opened');
    const headers: OutgoingHttpHeaders = { ':method': 'CONNECT', ':authority': authority };
    if (source !== undefined) headers[CAUSEWAY_SOURCE] = source;
    if (options.http1 === true) headers[CAUSEWAY_STREAM] = STREAM_HTTP1;
    if (options.subset !== undefined) headers[CAUSEWAY_SUBSET] = options.subset;
    const { held, stream } = this.newStream(gateway, headers, false);
    return this.awaitAnswer(stream, held, gateway, authority, options.signal);
  }

  /**
   * An HTTP/2 request stream (not CONNECT) on the pooled session to `gateway`: a gRPC or HTTP/2
   * call carried as its own stream (design brief). The caller reads the answer itself.
   */
  request(gateway: GatewayRecord, headers: OutgoingHttpHeaders): ClientHttp2Stream {
    if (this.closing !== undefined) throw new TunnelError(ErrorCodes.CLOSED, 'tunnel client is closed');
    return this.newStream(gateway, headers, false).stream;
  }

  /**
   * Cancels a stream of this client: RST_STREAM CANCEL within the session's reset budget,
   * otherwise END_STREAM now and the reset later (tunnel-session.ts). Use it rather than
   * `stream.destroy()` whenever many streams may be given up at once.
   */
  cancel(stream: ClientHttp2Stream): void {
    const held = stream.session === undefined ? undefined : this.live.get(stream.session as ClientHttp2Session);
    if (held !== undefined) held.cancel(stream);
    else if (!stream.closed && !stream.destroyed) stream.destroy();
  }

  /** A session to `gateway` that answers a PING: the pooled one when it is up, else a fresh one. */
  async probeGateway(gateway: GatewayRecord): Promise<ProbeOutcome> {
    if (this.closing !== undefined) return { ok: false, reachable: false, reason: 'tunnel client is closed' };
    let held: TunnelSession;
    try {
      held = this.sessionFor(gateway);
    } catch (err) {
      return { ok: false, reachable: false, reason: describeError(err) };
    }
    // The session's own timers bound this: connect timeout, then PING timeout.
    return held.ready.then(
      () => ({ ok: true as const, detail: 'session answered PING' }),
      (err: unknown) => ({ ok: false as const, reachable: false, reason: describeError(err) }),
    );
  }

  /**
   * The probe request (probe.ts) for `authority` through `gateway`. Sent and answered with
   * END_STREAM, so it never costs a reset.
   */
  probeService(gateway: GatewayRecord, authority: string): Promise<ProbeOutcome> {
    if (this.closing !== undefined) return Promise.resolve({ ok: false, reachable: false, reason: 'tunnel client is closed' });
    let held: TunnelSession;
    let stream: ClientHttp2Stream;
    try {
      ({ held, stream } = this.newStream(gateway, { ':method': 'CONNECT', ':authority': authority, [CAUSEWAY_PROBE]: PROBE_VALUE }, true));
    } catch (err) {
      return Promise.resolve({ ok: false, reachable: false, reason: describeError(err) });
    }
    const who = `gateway ${gateway.identity}`;
    return new Promise((resolve) => {
      let settled = false;
      const done = (outcome: ProbeOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        held.abandon(stream);
        done({ ok: false, reachable: true, reason: `${who} did not answer the probe of ${authority} within ${this.responseTimeoutMs} ms` });
      }, this.responseTimeoutMs);
      timer.unref();
      const lost = (why: string): void => {
        const failure = held.failure;
        done({ ok: false, reachable: failure === undefined, reason: `${who}: ${failure === undefined ? why : describeError(failure)}` });
      };
      stream.on('error', (err) => lost(describeError(err)));
      stream.once('close', () => lost(`probe stream closed (code ${stream.rstCode})`));
      stream.once('response', (headers) => {
        const status = Number(headers[':status']);
        if (status === 200) {
          const endpoint = headers[CAUSEWAY_ENDPOINT];
          stream.resume();
          done({ ok: true, detail: `${authority} reached${typeof endpoint === 'string' ? ` at ${endpoint.slice(0, 64)}` : ''}` });
          return;
        }
        const code = headers[CAUSEWAY_ERROR];
        readSmallBody(stream, (body) => {
          const detail = messageOf(body);
          done({
            ok: false, reachable: true, status,
            reason: `${who} answered the probe of ${authority} ${status}${typeof code === 'string' ? ` ${code.slice(0, 40)}` : ''}${detail === undefined ? '' : ` (${detail})`}`,
          });
        });
      });
    });
  }

  /** Closes every session: GOAWAY first, destroy what is left after `graceMs`. Idempotent. */
  close(graceMs = 2000): Promise<void> {
    this.closing ??= (async () => {
      for (const off of this.unsubscribe) off();
      this.pool.clear();
      const sessions = [...this.live.values()];
      // Every session in `live` has yet to emit 'close' (its 'close' handler removes it).
      const closed = sessions.map((s) => new Promise<void>((resolve) => s.session.once('close', () => resolve())));
      for (const held of sessions) held.retire();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(closed), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      for (const held of this.live.values()) held.destroy();
      // destroy() emits 'close' on a later tick; resolve only once every session is gone.
      await Promise.all(closed);
      this.listeners.clear();
    })();
    return this.closing;
  }

  /** A stream on the pooled session; a session that refuses new streams is retired and one fresh session tried. */
  private newStream(gateway: GatewayRecord, headers: OutgoingHttpHeaders, endStream: boolean): { held: TunnelSession; stream: ClientHttp2Stream } {
    let held = this.sessionFor(gateway);
    try {
      return { held, stream: held.request(headers, { endStream }) };
    } catch (err) {
      // A session out of stream IDs (2^31, RFC 9113 §5.1.1) or already going away.
      this.retire(held, `request failed: ${describeError(err)}`);
      held = this.sessionFor(gateway);
      return { held, stream: held.request(headers, { endStream }) };
    }
  }

  private sessionFor(gateway: GatewayRecord): TunnelSession {
    const key = gatewayKey(gateway);
    const pooled = this.pool.get(key);
    if (pooled !== undefined && pooled.usable) return pooled;
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
    let socket: TLSSocket | undefined;
    // The URL only names the session; createConnection dials the IP literal itself, so nothing
    // here is ever looked up in DNS.
    const session = h2connect(`https://${where}`, {
      createConnection: () => (socket = tlsConnect({ ...tlsOptions, host: address.host, port: address.port, lookup: refuseLookup })),
      settings: { enablePush: false, initialWindowSize: this.tuning.windows.streamWindowBytes },
    });
    const held: TunnelSession = new TunnelSession(key, gateway, session, () => socket, this.tuning, {
      onUp: () => this.emit({ type: 'up', gateway }),
      onDead: (reason, why) => {
        if (why === 'ping') this.counters.sessionsDead += 1;
        this.emit({ type: 'dead', gateway, reason });
      },
      onIdle: () => this.retire(held, 'idle'),
      onBudgetLow: () => {
        if (held.usable) this.counters.sessionsRotated += 1;
        this.retire(held, 'reset budget low; new streams go to a fresh session');
      },
      onCancel: (how) => {
        if (how === 'reset') this.counters.resetsSent += 1;
        else this.counters.resetsDeferred += 1;
      },
    }, this.logger, this.now);
    this.pool.set(key, held);
    this.live.set(session, held);
    // The peer's GOAWAY (RFC 9113 §6.8): no new streams here; the open ones finish.
    session.on('goaway', () => this.dropFromPool(held));
    session.once('close', () => {
      this.dropFromPool(held);
      this.live.delete(session);
    });
    return held;
  }

  private awaitAnswer(stream: ClientHttp2Stream, held: TunnelSession, gateway: GatewayRecord, authority: string, signal: AbortSignal | undefined): Promise<OpenedTunnel> {
    const who = `gateway ${gateway.identity} (${gateway.eastWestAddress})`;
    return new Promise((resolve, reject) => {
      let settled = false;
      /** Set once any answer arrived: a refusal is reported from its headers, not from the close that follows. */
      let answered = false;
      const fail = (err: TunnelError, then: 'abandon' | 'cancel' | 'none'): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (then === 'abandon') held.abandon(stream);
        else if (then === 'cancel') held.cancel(stream);
        reject(err);
      };
      const timer = setTimeout(() => {
        fail(new TunnelError(ErrorCodes.UPSTREAM_CONNECT, `${who} did not answer CONNECT ${authority} within ${this.responseTimeoutMs} ms`), 'abandon');
      }, this.responseTimeoutMs);
      timer.unref();
      const onAbort = (): void => {
        if (answered) return;
        fail(new TunnelError(ErrorCodes.CLOSED, `the caller went away while ${who} was opening ${authority}`), 'abandon');
      };
      signal?.addEventListener('abort', onAbort, { once: true });

      stream.on('error', (err) => {
        if (answered) return;
        const reason = held.failure ?? err;
        fail(new TunnelError(ErrorCodes.UPSTREAM_CONNECT, `${who}: ${describeError(reason)}`, { cause: reason }), 'none');
      });
      stream.once('close', () => {
        if (answered) return;
        const reason = held.failure === undefined ? `stream closed (code ${stream.rstCode})` : describeError(held.failure);
        fail(new TunnelError(ErrorCodes.UPSTREAM_CONNECT, `${who} closed CONNECT ${authority} before answering: ${reason}`), 'none');
      });
      stream.once('response', (headers) => {
        answered = true;
        const status = Number(headers[':status']);
        if (status >= 200 && status < 300) {
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve({ stream, headers });
          return;
        }
        const announced = headers[CAUSEWAY_ERROR];
        const code = (typeof announced === 'string' && KNOWN_CODES.has(announced) ? announced : ErrorCodes.UPSTREAM_CONNECT) as ErrorCode;
        readSmallBody(stream, (body) => {
          const detail = messageOf(body);
          // Our east-west server ends a refusal itself; a longer body is cut within the budget.
          fail(new TunnelError(code, `${who} refused ${authority}: ${status} ${code}${detail === undefined ? '' : ` (${detail})`}`, { status }), 'cancel');
        });
      });
    });
  }

  private emit(event: TunnelEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err: describeError(err) }, 'tunnel event listener failed');
      }
    }
  }

  private dropFromPool(held: TunnelSession): void {
    if (this.pool.get(held.key) === held) this.pool.delete(held.key);
  }

  /** Stop handing out this session; it closes once its open streams finish (GOAWAY). */
  private retire(held: TunnelSession, why: string): void {
    this.dropFromPool(held);
    if (held.usable) {
      this.logger.debug({ gateway: held.key, why }, 'tunnel session retired');
      held.retire();
    }
  }

  private retireAll(why: string): void {
    for (const held of [...this.pool.values()]) this.retire(held, why);
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
