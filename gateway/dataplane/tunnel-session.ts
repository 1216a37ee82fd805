import { constants as h2, type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { ErrorCodes, describeError, type GatewayRecord, type Logger } from '../../registry/index.js';
import { ResetBudget, RESET_LOW_WATER } from './reset-budget.js';
import { TunnelError } from './tunnel-error.js';
import type { WindowTuning } from './h2-windows.js';

export interface KeepAliveTuning {
  /** A session in use sends a PING this often (RFC 9113 §6.7). */
  pingIntervalMs: number;
  /** A PING not answered within this — and nothing else received meanwhile — kills the session. */
  pingTimeoutMs: number;
  /** TCP + TLS + HTTP/2 setup. */
  connectTimeoutMs: number;
  /** An abandoned, unanswered CONNECT stream is reset (within the budget) if still open after this. */
  abandonGraceMs: number;
  /**
   * A session without streams for this long is idle (judged here: PING traffic would keep
   * Node's own session timeout from ever firing).
   */
  idleTimeoutMs: number;
}

export type SessionTuning = KeepAliveTuning & { windows: WindowTuning };

export interface SessionHooks {
  /** The session answered its first PING: the gateway is reachable and speaks HTTP/2. */
  onUp(): void;
  /** The gateway could not be dialed, or stopped answering PINGs. */
  onDead(reason: string, why: 'dial' | 'ping'): void;
  /** The reset budget runs low: stop handing this session out. */
  onBudgetLow(): void;
  /** No stream for idleTimeoutMs. */
  onIdle(): void;
  /** A cancel was sent as RST_STREAM now, or deferred (our side ended instead). */
  onCancel(how: 'reset' | 'deferred'): void;
}

/** A session counts as in use while it has streams or had a new one this recently. */
const ACTIVE_WINDOW_MS = 5_000;
/** An idle session pings this many intervals apart: enough to notice a dead peer before it is needed. */
const IDLE_PING_FACTOR = 10;

const ignore = (): void => {};

/**
 * One HTTP/2 session to a remote gateway's east-west listener, kept honest:
 * - a PING every `pingIntervalMs` while in use (slower when idle); one not acknowledged within
 *   `pingTimeoutMs`, with no byte received from the peer meanwhile, destroys the session with
 *   `no PING answer from <gateway> within <n> ms`, which every stream on it reports. A peer
 *   that keeps sending is alive even if its PING ACK queues behind DATA (RFC 9113 §6.7 gives
 *   PING no priority inside TCP), so only silence kills.
 * - the handshake must complete within `connectTimeoutMs`; a session that fails before it
 *   does reports the gateway dead (connect refused, timeout, TLS failure).
 * - RST_STREAM frames are rationed (reset-budget.ts); a cancel beyond the budget ends our side
 *   instead, discards what arrives and resets later, so the peer's rapid-reset protection is
 *   never tripped by us.
 */
export class TunnelSession {
  /** Why the session failed, for the streams that die with it. */
  failure: Error | undefined;
  /** Resolves at the first PING answer; rejects if the session dies before it. */
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  private connected = false;
  private answered = false;
  private closedByUs = false;
  /** No new streams; closed once its open ones are done. */
  private retired = false;
  private streams = 0;
  private lastUsedMs: number;
  private pingTimer: NodeJS.Timeout | undefined;
  private pingIdle = false;
  private pingDeadline: NodeJS.Timeout | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private readonly connectTimer: NodeJS.Timeout;
  private readonly resets: ResetBudget;
  private readonly deferred = new Set<ClientHttp2Stream>();
  private readonly where: string;

  constructor(
    readonly key: string,
    readonly gateway: GatewayRecord,
    readonly session: ClientHttp2Session,
    private readonly socket: () => TLSSocket | undefined,
    private readonly tuning: SessionTuning,
    private readonly hooks: SessionHooks,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {
    this.where = `${gateway.identity} (${gateway.eastWestAddress})`;
    this.lastUsedMs = now();
    this.resets = new ResetBudget(now);
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(ignore);
    this.connectTimer = setTimeout(() => {
      this.failure = new TunnelError(ErrorCodes.UPSTREAM_CONNECT, `no TLS/HTTP2 session with ${this.where} within ${tuning.connectTimeoutMs} ms`);
      session.destroy();
    }, tuning.connectTimeoutMs);
    this.connectTimer.unref();
    session.once('connect', () => {
      clearTimeout(this.connectTimer);
      this.connected = true;
      // RFC 9113 §6.9.2: a larger connection window for answers (see h2-windows.ts).
      session.setLocalWindowSize(tuning.windows.sessionWindowBytes);
      this.logger.debug({ gateway: gateway.identity, address: gateway.eastWestAddress }, 'tunnel session up');
      this.ping();
    });
    session.on('error', (err) => {
      this.failure ??= err;
      this.logger.info({ gateway: gateway.identity, address: gateway.eastWestAddress, err: describeError(err) }, 'tunnel session failed');
    });
    session.once('close', () => this.onClose());
  }

  /** Open and usable for new streams. */
  get usable(): boolean {
    return !this.retired && !this.session.closed && !this.session.destroyed;
  }

  /** A new stream on this session, counted so that the keep-alive knows the session is in use. */
  request(headers: OutgoingHttpHeaders, options: { endStream: boolean }): ClientHttp2Stream {
    const stream = this.session.request(headers, options);
    this.streams += 1;
    this.lastUsedMs = this.now();
    stream.once('close', () => {
      this.streams -= 1;
      this.lastUsedMs = this.now();
      if (this.retired && this.streams === 0) this.session.close();
    });
    // An idle session waits long between PINGs; one that is used again is watched closely.
    if (this.pingIdle && this.connected && this.pingDeadline === undefined) this.schedulePing(this.tuning.pingIntervalMs);
    return stream;
  }

  /**
   * Cancels a stream: RST_STREAM CANCEL (RFC 9113 §6.4) when the budget allows; otherwise our
   * side is ended (END_STREAM), whatever arrives is discarded, and the reset follows once a
   * token is free — if the stream has not ended by itself by then.
   */
  cancel(stream: ClientHttp2Stream): void {
    if (stream.closed || stream.destroyed) return;
    if (this.resets.take()) {
      this.hooks.onCancel('reset');
      stream.close(h2.NGHTTP2_CANCEL);
    } else {
      this.hooks.onCancel('deferred');
      discard(stream);
      if (!this.deferred.has(stream)) {
        this.deferred.add(stream);
        stream.once('close', () => this.deferred.delete(stream));
      }
      this.scheduleDrain();
    }
    if (this.resets.left() < RESET_LOW_WATER) this.hooks.onBudgetLow();
  }

  /**
   * A CONNECT stream whose answer nobody waits for any more (timeout, caller gone). Resetting
   * unanswered streams by the hundred is exactly the rapid-reset pattern, so our side is ended
   * instead (RFC 9113 §8.1: half-closed (local)) and the answer is let in and thrown away; a
   * 2xx answer (a tunnel no one will use) or no answer within the grace is then cancelled.
   */
  abandon(stream: ClientHttp2Stream): void {
    if (stream.closed || stream.destroyed) return;
    discard(stream);
    const later = setTimeout(() => this.cancel(stream), this.tuning.abandonGraceMs);
    later.unref();
    stream.once('close', () => clearTimeout(later));
    stream.once('response', (headers) => {
      const status = Number(headers[':status']);
      if (status >= 200 && status < 300) {
        clearTimeout(later);
        this.cancel(stream);
      }
    });
  }

  /**
   * Stop new streams; the open ones finish, then the session closes (GOAWAY, RFC 9113 §6.8).
   * Node cannot PING a session once close() was called, so the session stays open — and
   * watched by PING — until its last stream is done.
   */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.closedByUs = true;
    if (this.streams === 0 && !this.session.closed && !this.session.destroyed) this.session.close();
  }

  destroy(): void {
    this.closedByUs = true;
    this.session.destroy();
  }

  private ping(): void {
    this.pingTimer = undefined;
    // A retired session still carries its open streams: it is watched until it closes. Once
    // closed (our last stream done, or the peer's GOAWAY), Node sends no PING any more.
    if (this.session.destroyed || this.session.closed) return;
    const socket = this.socket();
    let seen = socket?.bytesRead ?? 0;
    let acked = false;
    const check = (): void => {
      this.pingDeadline = undefined;
      if (acked || this.session.destroyed) return;
      const read = socket?.bytesRead ?? 0;
      if (read > seen) {
        // The peer is sending: it is alive, and its ACK is queued behind that data.
        seen = read;
        this.armDeadline(check);
        return;
      }
      this.kill(`no PING answer from ${this.where} within ${this.tuning.pingTimeoutMs} ms`);
    };
    this.armDeadline(check);
    const sent = this.session.ping((err) => {
      acked = true;
      clearTimeout(this.pingDeadline);
      this.pingDeadline = undefined;
      // ERR_HTTP2_PING_CANCEL: the session is closing; its 'close' handler cleans up.
      if (err) return;
      if (!this.answered) {
        this.answered = true;
        this.resolveReady();
        this.hooks.onUp();
      }
      const idleFor = this.now() - this.lastUsedMs;
      if (this.streams === 0 && idleFor >= this.tuning.idleTimeoutMs) {
        this.hooks.onIdle();
        return;
      }
      const inUse = this.streams > 0 || idleFor < ACTIVE_WINDOW_MS;
      this.schedulePing(inUse ? this.tuning.pingIntervalMs : this.tuning.pingIntervalMs * IDLE_PING_FACTOR, !inUse);
    });
    if (sent !== true) {
      // Not sent (Node refuses PINGs on a session that is closing): nothing to wait for.
      clearTimeout(this.pingDeadline);
      this.pingDeadline = undefined;
      this.schedulePing(this.tuning.pingIntervalMs);
    }
  }

  /**
   * The PING deadline. Its check runs in the check phase, after the poll phase has read what
   * arrived: when the event loop itself was stalled past the deadline, timers fire before I/O
   * is processed, and an ACK waiting in the socket must not be mistaken for silence.
   */
  private armDeadline(check: () => void): void {
    this.pingDeadline = setTimeout(() => setImmediate(check), this.tuning.pingTimeoutMs);
    this.pingDeadline.unref();
  }

  private schedulePing(delayMs: number, idle = false): void {
    clearTimeout(this.pingTimer);
    this.pingIdle = idle;
    this.pingTimer = setTimeout(() => this.ping(), delayMs);
    this.pingTimer.unref();
  }

  private kill(reason: string): void {
    if (this.session.destroyed) return;
    const err = new TunnelError(ErrorCodes.UPSTREAM_CONNECT, reason);
    this.failure = err;
    this.logger.warn({ gateway: this.gateway.identity, address: this.gateway.eastWestAddress, reason }, 'tunnel session dead');
    this.hooks.onDead(reason, 'ping');
    // Every open stream is destroyed with this error, so each reports why.
    this.session.destroy(err);
  }

  private scheduleDrain(): void {
    if (this.drainTimer !== undefined || this.deferred.size === 0) return;
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined;
      for (const stream of this.deferred) {
        if (!this.resets.take()) break;
        this.deferred.delete(stream);
        if (stream.closed || stream.destroyed) continue;
        this.hooks.onCancel('reset');
        stream.close(h2.NGHTTP2_CANCEL);
      }
      this.scheduleDrain();
    }, Math.max(this.resets.msUntilToken(), 10));
    this.drainTimer.unref();
  }

  private onClose(): void {
    clearTimeout(this.connectTimer);
    clearTimeout(this.pingTimer);
    clearTimeout(this.pingDeadline);
    clearTimeout(this.drainTimer);
    this.deferred.clear();
    const why = this.failure ?? new TunnelError(ErrorCodes.UPSTREAM_CONNECT, `session with ${this.where} closed`);
    this.rejectReady(why);
    // Closed before the handshake completed, and not by us: the gateway could not be dialed.
    if (!this.connected && !this.closedByUs) {
      this.hooks.onDead(`cannot dial ${this.where}: ${this.failure === undefined ? 'closed during the handshake' : describeError(this.failure)}`, 'dial');
    }
  }
}

/** Ends our side of a stream and throws away whatever still arrives on it. */
function discard(stream: ClientHttp2Stream): void {
  stream.on('error', ignore);
  if (!stream.writableEnded) stream.end();
  stream.resume();
}
