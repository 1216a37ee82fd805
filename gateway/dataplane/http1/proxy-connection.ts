import type { Duplex } from 'node:stream';
import { CausewayError, ErrorCodes, describeError, type ErrorCode, type Logger } from '../../../registry/index.js';
import type { IdleSweeper, IdleWatch } from '../idle-sweeper.js';
import { errorResponse, fieldValue, hasBody, isIdempotent, requestFramingError, requestVersionError, responseFramed, responseHead } from './head.js';
import { Http1Parser, HttpParseError, type MessageHead } from './llhttp.js';
import type { ConnectionOwner, PooledConnection, UpstreamPool } from './upstream-pool.js';

/** A request answered by the gateway itself. */
export interface Refusal {
  status: number;
  code: ErrorCode;
  message: string;
}

/** How one exchange ended, for outlier detection and telemetry. */
export interface ExchangeOutcome {
  /** The status answered to the caller; undefined when the caller got no answer. */
  status: number | undefined;
  /** The CW_* code when the gateway answered or gave up itself. */
  code?: ErrorCode;
  /** The upstream failed (connect error, broken or malformed answer, timeout, 5xx counted by the router). */
  upstreamFailed: boolean;
  /** This try failed and the request goes on to another one: the caller got nothing from it. */
  retried?: boolean;
  /** Bytes of this try's request sent upstream (head and body, framing included). */
  requestBytes?: number;
  /** Bytes of the answer passed to the caller (head and body). */
  responseBytes?: number;
}

/**
 * Why a request is being routed again. `unreachable`: while the request waited, this gateway
 * declared its upstream unreachable (a tunnel session killed for an unanswered PING) — for
 * an idempotent request, passed over like a failed connect.
 */
export type RetryReason = 'stale' | 'reset' | '5xx' | 'timeout' | 'unreachable';

/** One try at routing a request. */
export interface RouteAttempt {
  /** 0 for the first try, then 1, 2, ... */
  attempt: number;
  /** Why the previous try is being retried; undefined on the first. */
  retryOf: RetryReason | undefined;
  /** True once the caller's connection is gone: nothing more is dialed for it. */
  callerGone(): boolean;
  /** Aborted when the caller's connection is gone (an unanswered tunnel open is abandoned). */
  signal: AbortSignal;
}

/** Where the router sent a request: a pooled connection and what to write on it. */
export interface RoutedRequest {
  pool: UpstreamPool;
  conn: PooledConnection;
  /** The request head to send (origin-form, rewritten fields). */
  head: Buffer;
  /** Fields (`Name: value\r\n`) added to the caller's response head, given the upstream's head. */
  responseFields: (response: MessageHead) => string;
  /** Called exactly once when the exchange is over. */
  done(outcome: ExchangeOutcome): void;
  /**
   * Whether to route the request again after this try failed for `why`. Asked only when a
   * retry is safe: the request is idempotent, has no body, and no byte of an answer was passed
   * on (RFC 9110 §9.2.2). Absent: never.
   */
  retry?: (why: Exclude<RetryReason, 'stale'>) => boolean;
  /** Bound on the wait for this try's answer head; undefined: dataPlane.idleTimeout alone. */
  answerTimeoutMs?: number;
  /** Bound on the wait for the answer head across every try of the request; set on the first try. */
  requestTimeoutMs?: number;
}

export interface Http1Router {
  /** Picks an upstream for `head` (again, on a retry). */
  route(head: MessageHead, attempt: RouteAttempt): Promise<RoutedRequest | Refusal>;
}

export interface Http1ProxyOptions {
  router: Http1Router;
  sweeper: IdleSweeper;
  logger: Logger;
  /** Request head size limit (431 past it). */
  maxHeadBytes: number;
  /** A client connection with no request in progress is closed after this long. */
  keepAliveTimeoutMs: number;
  /** A request head must arrive whole within this. */
  headersTimeoutMs: number;
  /** The upstream must show progress (any byte of its answer) within this. */
  idleTimeoutMs: number;
  /** CONNECT requests (RFC 9110 §9.3.6), handed over with the bytes read past the head. Absent: refused 405. */
  onConnect?: (head: MessageHead, downstream: Duplex, rest: Buffer) => void;
  /** Called once when the client connection is finished with. */
  onClose?: () => void;
}

const EMPTY = Buffer.alloc(0);

/** One request/response on one pooled upstream connection. */
class Exchange implements ConnectionOwner {
  readonly response: Http1Parser;
  requestEnded = false;
  responseEnded = false;
  /** The final (non-1xx) response head has been written to the caller. */
  answered = false;
  /** Any byte of an answer has arrived (a retry is no longer safe). */
  heard = false;
  /** The upstream connection cannot carry another exchange. */
  tainted = false;
  closeAfter = false;
  status: number | undefined;
  finished = false;
  /** A 5xx answer being read to its end and dropped, so the request can go elsewhere. */
  discarding = false;
  /** Some byte (a 1xx, the final head) went to the caller: the request can no longer be retried. */
  passedOn = false;
  watch: IdleWatch;
  answerTimer: NodeJS.Timeout | undefined;
  /** For telemetry: what went upstream and what came back to the caller (ExchangeOutcome). */
  requestBytes = 0;
  responseBytes = 0;

  constructor(readonly owner: Http1ProxyConnection, readonly head: MessageHead, readonly routed: RoutedRequest, readonly attempt: number) {
    this.response = new Http1Parser('response', owner.options.maxHeadBytes);
    this.response.expectNoBody(head.method === 'HEAD');
    this.watch = owner.options.sweeper.watch(owner.options.idleTimeoutMs, () => owner.upstreamIdle(this));
    if (routed.answerTimeoutMs !== undefined) {
      // Sub-second bounds: the sweeper's coarse clock would round them up to a second.
      this.answerTimer = setTimeout(() => owner.answerTimedOut(this), routed.answerTimeoutMs);
      this.answerTimer.unref();
    }
  }

  onData(chunk: Buffer): void {
    this.watch.active = true;
    this.heard = true;
    this.owner.responseBytes(this, chunk);
  }

  onEnd(): void {
    this.owner.upstreamEnded(this);
  }

  onBroken(err: Error): void {
    this.owner.upstreamBroken(this, err);
  }
}

/**
 * One HTTP/1.1 client connection of a gateway (a caller's socket at the outbound listener, or
 * a CONNECT stream from a remote gateway at the east-west listener). Each request head is
 * parsed and routed on its own; the head is rewritten, and the body bytes are forwarded with
 * their framing exactly as received, onto a pooled keep-alive upstream connection. The response
 * is parsed only as far as its head and its end. Requests on one connection are served in
 * order (RFC 9112 §9.3.2): a pipelined request waits, unread, until the answer before it ends.
 */
export class Http1ProxyConnection {
  private readonly request: Http1Parser;
  private pending: Buffer | undefined;
  private phase: 'head' | 'routing' | 'exchange' | 'closed' = 'head';
  private exchange: Exchange | undefined;
  private watch: IdleWatch;
  private clientEnded = false;
  private readonly onData = (chunk: Buffer): void => this.downstreamBytes(chunk);
  private readonly onEnd = (): void => this.downstreamEnded();
  private headDeadline: IdleWatch | undefined;
  /** The request's bound across tries (RoutedRequest.requestTimeoutMs), until its answer head. */
  private requestTimer: NodeJS.Timeout | undefined;
  /** The caller ended its side while its request waited for an answer (see downstreamEnded). */
  private leftWaiting = false;
  private readonly callerGone = (): boolean => this.phase === 'closed' || this.leftWaiting;
  private readonly gone = new AbortController();

  constructor(readonly downstream: Duplex, readonly options: Http1ProxyOptions) {
    this.request = new Http1Parser('request', options.maxHeadBytes);
    this.watch = options.sweeper.watch(options.keepAliveTimeoutMs, () => this.clientIdle());
    downstream.on('data', this.onData);
    downstream.on('end', this.onEnd);
    downstream.on('error', (err: Error) => this.shutdown(`client connection failed: ${describeError(err)}`));
    downstream.on('close', () => this.shutdown('client connection closed'));
  }

  /** Starts reading; `initial` is what was read before the connection was handed over. */
  start(initial?: Buffer): void {
    if (initial !== undefined && initial.length > 0) this.downstreamBytes(initial);
  }

  /** Ends the client connection and any exchange on it. Idempotent. */
  destroy(): void {
    this.downstream.destroy();
    this.shutdown('closed by the gateway');
  }

  // --- the client side -----------------------------------------------------------------------

  private downstreamBytes(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    this.watch.active = true;
    const exchange = this.exchange;
    if (this.phase === 'exchange' && exchange !== undefined && !exchange.requestEnded) {
      this.forwardRequest(exchange, chunk);
      return;
    }
    this.pending = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.phase === 'head') this.readHead();
    else this.downstream.pause();
  }

  private downstreamEnded(): void {
    // A half-close while idle ends the connection; during an exchange the answer still goes
    // out, but nothing more is dialed for the request: a caller that stops sending while it
    // waits has usually left (timed out, closed), and a retry for it would only be reset — the
    // retry storm of issue 9. (nginx treats a client's EOF the same way, as an abort: 499.)
    this.clientEnded = true;
    if (this.phase === 'routing' || this.phase === 'exchange') this.leftWaiting = true;
    if (this.phase === 'head' && (this.pending === undefined || this.pending.length === 0)) this.finishClient();
  }

  /** Parses the next request head out of `pending`. */
  private readHead(): void {
    const input = this.pending ?? EMPTY;
    if (input.length === 0) return;
    let step;
    try {
      step = this.request.execute(input);
    } catch (err) {
      this.refuseAndClose(400, ErrorCodes.REQUEST_INVALID, `malformed HTTP request: ${parseReason(err)}`);
      return;
    }
    this.pending = step.consumed < input.length ? input.subarray(step.consumed) : undefined;
    if (step.head === undefined) {
      if (this.request.tooLarge) this.refuseAndClose(431, ErrorCodes.REQUEST_INVALID, `request head over ${this.options.maxHeadBytes} bytes`);
      else this.headDeadline ??= this.options.sweeper.watch(this.options.headersTimeoutMs, () => this.headTimedOut());
      return;
    }
    this.headDeadline?.stop();
    this.headDeadline = undefined;
    this.startRequest(step.head);
  }

  private startRequest(head: MessageHead): void {
    this.phase = 'routing';
    this.downstream.pause();
    if (this.request.tooLarge) return this.refuseAndClose(431, ErrorCodes.REQUEST_INVALID, `request head over ${this.options.maxHeadBytes} bytes`);
    const version = requestVersionError(head);
    if (version !== undefined) return this.refuseAndClose(505, ErrorCodes.REQUEST_INVALID, version);
    const framing = requestFramingError(head);
    if (framing !== undefined) return this.refuseAndClose(400, ErrorCodes.REQUEST_INVALID, `malformed HTTP request: ${framing}`);
    if (head.method === 'CONNECT') {
      const onConnect = this.options.onConnect;
      if (onConnect === undefined) return this.refuseAndClose(405, ErrorCodes.REQUEST_INVALID, 'CONNECT is not served here');
      this.handOver();
      onConnect(head, this.downstream, this.pending ?? EMPTY);
      return;
    }
    if (head.upgrade) {
      return this.refuseAndClose(501, ErrorCodes.REQUEST_INVALID, `Upgrade to ${(fieldValue(head, 'upgrade') ?? '').slice(0, 100)} is not proxied; use CONNECT for a byte stream`);
    }
    this.routeRequest(head, 0, undefined);
  }

  private routeRequest(head: MessageHead, attempt: number, retryOf: RetryReason | undefined): void {
    this.options.router.route(head, { attempt, retryOf, callerGone: this.callerGone, signal: this.gone.signal }).then(
      (routed) => this.onRouted(head, routed, attempt),
      (err: unknown) => this.onRouted(head, { status: 500, code: ErrorCodes.INTERNAL, message: describeError(err) }, attempt),
    );
  }

  private onRouted(head: MessageHead, routed: RoutedRequest | Refusal, attempt: number): void {
    if (this.phase === 'closed') {
      if ('conn' in routed) {
        routed.pool.release(routed.conn, false);
        routed.done({ status: undefined, upstreamFailed: false });
      }
      return;
    }
    if (!('conn' in routed)) return this.refuse(head, routed, attempt);
    if (attempt === 0 && routed.requestTimeoutMs !== undefined) {
      this.requestTimer = setTimeout(() => this.requestTimedOut(routed.requestTimeoutMs ?? 0), routed.requestTimeoutMs);
      this.requestTimer.unref();
    }
    const exchange = new Exchange(this, head, routed, attempt);
    this.exchange = exchange;
    this.phase = 'exchange';
    routed.conn.owner = exchange;
    routed.conn.stream.resume();
    const upstream = routed.conn.stream;
    upstream.cork();
    upstream.write(routed.head);
    exchange.requestBytes += routed.head.length;
    process.nextTick(() => upstream.uncork());
    if (attempt > 0) {
      // A retry: the (bodiless) request was read to its end the first time.
      exchange.requestEnded = true;
      return;
    }
    this.forwardRequest(exchange, this.pending ?? EMPTY);
    if (!exchange.requestEnded && this.phase === 'exchange') this.downstream.resume();
  }

  /** Request body bytes (with their framing) to the upstream, up to the end of the message. */
  private forwardRequest(exchange: Exchange, chunk: Buffer): void {
    let step;
    try {
      step = this.request.execute(chunk);
    } catch (err) {
      exchange.tainted = true;
      this.failExchange(exchange, 400, ErrorCodes.REQUEST_INVALID, `malformed HTTP request body: ${parseReason(err)}`, false);
      return;
    }
    if (step.consumed > 0) {
      const body = step.consumed === chunk.length ? chunk : chunk.subarray(0, step.consumed);
      const upstream = exchange.routed.conn.stream;
      exchange.requestBytes += body.length;
      if (!upstream.write(body) && !step.end) {
        this.downstream.pause();
        upstream.once('drain', () => {
          if (this.exchange === exchange && !exchange.requestEnded) this.downstream.resume();
        });
      }
    }
    if (!step.end) {
      this.pending = undefined;
      return;
    }
    exchange.requestEnded = true;
    this.pending = step.consumed < chunk.length ? chunk.subarray(step.consumed) : undefined;
    // With nothing pipelined behind the request, reading goes on while the answer is awaited,
    // so a caller's FIN is seen (a paused socket reports no end); the first byte of a next
    // request pauses it again (downstreamBytes) until this answer is over.
    if (this.pending === undefined) this.downstream.resume();
    else this.downstream.pause();
    this.maybeFinish(exchange);
  }

  private refuse(head: MessageHead, refusal: Refusal, attempt: number): void {
    this.clearRequestTimer();
    // A refused request with a body would leave the body to be read as the next request.
    const close = !head.keepAlive || hasBody(head);
    this.downstream.write(errorResponse(refusal.status, refusal.code, refusal.message, { close }));
    if (close) return this.finishClient();
    // A retry's request was read to its end the first time: the next request starts at `pending`.
    // (Reading on would find no end, and cut a connection just answered as kept alive.)
    if (attempt > 0) return this.nextRequest();
    try {
      // Reaches the end of the bodiless message, which is where the next request starts.
      if (!this.request.execute(this.pending ?? EMPTY).end) return this.finishClient();
    } catch {
      return this.finishClient();
    }
    this.nextRequest();
  }

  private refuseAndClose(status: number, code: ErrorCode, message: string): void {
    this.options.logger.debug({ status, code, reason: message }, 'request refused');
    if (this.downstream.writable) this.downstream.write(errorResponse(status, code, message, { close: true }));
    this.finishClient();
  }

  private clearRequestTimer(): void {
    clearTimeout(this.requestTimer);
    this.requestTimer = undefined;
  }

  private nextRequest(): void {
    this.clearRequestTimer();
    this.leftWaiting = false;
    if (this.clientEnded && (this.pending === undefined || this.pending.length === 0)) return this.finishClient();
    this.phase = 'head';
    this.exchange = undefined;
    // A caller that pipelines requests but does not read the answers would have them pile up
    // in our send buffer: the next request is read only once the last answer has drained.
    if (this.downstream.writableNeedDrain) {
      this.downstream.pause();
      this.downstream.once('drain', () => {
        if (this.phase === 'head') this.nextRequest();
      });
      return;
    }
    this.readHead();
    if (this.phase === 'head') this.downstream.resume();
  }

  private finishClient(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.downstream.end();
    // A caller that never reads our answer (or never closes) is cut off after a grace period.
    const linger = setTimeout(() => this.downstream.destroy(), 5000);
    linger.unref();
    this.downstream.once('close', () => clearTimeout(linger));
    this.release();
  }

  private handOver(): void {
    this.phase = 'closed';
    this.downstream.off('data', this.onData);
    this.downstream.off('end', this.onEnd);
    this.release();
  }

  private release(): void {
    this.clearRequestTimer();
    this.gone.abort();
    this.watch.stop();
    this.headDeadline?.stop();
    this.request.close();
    this.options.onClose?.();
  }

  private clientIdle(): void {
    if (this.phase === 'closed') return;
    if (this.phase !== 'head' || this.headDeadline !== undefined) {
      // Busy, or a head on its way (it has a deadline of its own): keep watching.
      this.watch = this.options.sweeper.watch(this.options.keepAliveTimeoutMs, () => this.clientIdle());
      return;
    }
    this.finishClient();
  }

  private headTimedOut(): void {
    if (this.phase !== 'head') return;
    this.refuseAndClose(408, ErrorCodes.REQUEST_INVALID, `request head not received within ${this.options.headersTimeoutMs} ms`);
  }

  private shutdown(why: string): void {
    const exchange = this.exchange;
    if (exchange !== undefined && !exchange.finished) {
      exchange.tainted = true;
      this.endExchange(exchange, { status: undefined, upstreamFailed: false });
      this.options.logger.debug({ why }, 'client left mid-exchange');
    }
    if (this.phase !== 'closed') {
      this.phase = 'closed';
      this.release();
    }
  }

  // --- the upstream side ---------------------------------------------------------------------

  /** @internal from Exchange */
  responseBytes(exchange: Exchange, chunk: Buffer): void {
    let input = chunk;
    while (!exchange.finished) {
      let step;
      try {
        step = exchange.response.execute(input);
      } catch (err) {
        exchange.tainted = true;
        this.failExchange(exchange, 502, ErrorCodes.UPSTREAM_BROKEN, `malformed response from upstream: ${parseReason(err)}`, true);
        return;
      }
      const head = step.head;
      if (head !== undefined) {
        if (head.status === 101) {
          exchange.tainted = true;
          this.failExchange(exchange, 502, ErrorCodes.UPSTREAM_BROKEN, 'upstream switched protocols without being asked', true);
          return;
        }
        // 1xx informational answers (100 Continue, 103 Early Hints) are passed on as they
        // come; the final answer follows on the same connection (RFC 9110 §15.2).
        // Not to an HTTP/1.0 caller, which cannot know them (RFC 9110 §15.2).
        if (head.status < 200) {
          if (exchange.head.versionMinor > 0) this.writeDownstream(exchange, Buffer.from(responseHead(head, '', false), 'latin1'));
        } else if (head.status >= 500 && this.retryable(exchange) && exchange.routed.retry?.('5xx') === true) {
          // Read the answer to its end (the connection stays usable) and pass nothing on.
          exchange.answered = true;
          exchange.discarding = true;
          exchange.status = head.status;
          clearTimeout(exchange.answerTimer);
          if (!head.keepAlive) exchange.tainted = true;
        } else this.writeResponseHead(exchange, head);
      } else if (step.consumed > 0 && exchange.answered && !exchange.discarding) {
        // Body bytes of the final answer. Bytes consumed before a head is complete are the
        // head itself, split across reads: it is rewritten, never forwarded as it came.
        this.writeDownstream(exchange, step.consumed === input.length ? input : input.subarray(0, step.consumed));
      }
      input = step.consumed === 0 ? input : input.subarray(step.consumed);
      if (step.end) {
        if (!exchange.answered) continue; // the end of a 1xx; the final answer comes next
        exchange.responseEnded = true;
        // Bytes after a complete answer, unasked for: the connection is out of step.
        if (input.length > 0) exchange.tainted = true;
        this.maybeFinish(exchange);
        return;
      }
      // After a head the parser runs once more, even on no input: a bodiless answer ends there.
      if (input.length === 0 && head === undefined) return;
    }
  }

  private writeResponseHead(exchange: Exchange, head: MessageHead): void {
    exchange.answered = true;
    clearTimeout(exchange.answerTimer);
    this.clearRequestTimer();
    exchange.status = head.status;
    const untilClose = !head.keepAlive && !responseFramed(head, exchange.head.method);
    // A caller's connection outlives the upstream's Connection: close only when the body is
    // framed; a body delimited by close ends the caller's connection too (RFC 9112 §6.3 (8)).
    exchange.closeAfter = !exchange.head.keepAlive || untilClose;
    if (!head.keepAlive) exchange.tainted = true;
    // Head and the first body bytes usually arrive together: one write for both.
    const downstream = this.downstream;
    downstream.cork();
    this.writeDownstream(exchange, Buffer.from(responseHead(head, exchange.routed.responseFields(head), exchange.closeAfter), 'latin1'));
    process.nextTick(() => downstream.uncork());
  }

  private writeDownstream(exchange: Exchange, bytes: Buffer): void {
    exchange.passedOn = true;
    exchange.responseBytes += bytes.length;
    if (!this.downstream.write(bytes)) {
      const upstream = exchange.routed.conn.stream;
      upstream.pause();
      this.downstream.once('drain', () => {
        if (!exchange.finished) upstream.resume();
      });
    }
  }

  /** @internal from Exchange */
  upstreamEnded(exchange: Exchange): void {
    if (exchange.finished) return;
    exchange.tainted = true;
    let ended = false;
    try {
      ended = exchange.response.finish().end;
    } catch {
      ended = false;
    }
    if (ended && exchange.answered) {
      exchange.responseEnded = true;
      this.maybeFinish(exchange);
      return;
    }
    this.upstreamBroken(exchange, new Error('upstream closed the connection before the answer was complete'));
  }

  /** @internal from Exchange */
  upstreamBroken(exchange: Exchange, err: Error): void {
    if (exchange.finished) return;
    exchange.tainted = true;
    const { head, routed, attempt } = exchange;
    // RFC 9110 §9.2.2: an idempotent request that got no byte of an answer on a reused
    // connection (the peer closed it as we wrote) is sent again, once, on a fresh one. Not
    // when this gateway declared the upstream dead itself (a CausewayError: a tunnel session
    // killed for an unanswered PING): that is no race with an idle close, and a fresh dial to
    // the same frozen gateway would wait out its connect timeout. It is retried elsewhere, as
    // a reset.
    if (!exchange.heard && routed.conn.uses > 1 && attempt === 0 && !(err instanceof CausewayError) && this.retryable(exchange)) {
      this.endExchange(exchange, { status: undefined, upstreamFailed: false, retried: true });
      this.phase = 'routing';
      this.options.logger.debug({ err: describeError(err) }, 'stale pooled connection; retrying once');
      this.routeRequest(head, 1, 'stale');
      return;
    }
    if (exchange.discarding) return this.retryElsewhere(exchange, '5xx');
    const why = err instanceof CausewayError && err.code === ErrorCodes.UPSTREAM_CONNECT ? 'unreachable' : 'reset';
    if (this.retryable(exchange) && routed.retry?.(why) === true) return this.retryElsewhere(exchange, why);
    this.failExchange(exchange, 502, ErrorCodes.UPSTREAM_BROKEN, describeError(err), true);
  }

  /** @internal from Exchange */
  upstreamIdle(exchange: Exchange): void {
    if (exchange.finished) return;
    exchange.tainted = true;
    if (exchange.discarding) return this.retryElsewhere(exchange, '5xx');
    if (this.retryable(exchange) && exchange.routed.retry?.('timeout') === true) return this.retryElsewhere(exchange, 'timeout');
    this.failExchange(exchange, 504, ErrorCodes.UPSTREAM_TIMEOUT, `no answer from upstream within ${this.options.idleTimeoutMs} ms`, true);
  }

  /** @internal from Exchange: no answer head within the try's bound (RoutedRequest.answerTimeoutMs). */
  answerTimedOut(exchange: Exchange): void {
    if (exchange.finished || exchange.answered) return;
    exchange.tainted = true;
    if (this.retryable(exchange) && exchange.routed.retry?.('timeout') === true) return this.retryElsewhere(exchange, 'timeout');
    this.failExchange(exchange, 504, ErrorCodes.UPSTREAM_TIMEOUT, `no answer from upstream within ${exchange.routed.answerTimeoutMs ?? 0} ms`, true);
  }

  /** The request's bound across tries is up before any answer head was passed on. */
  private requestTimedOut(timeoutMs: number): void {
    this.requestTimer = undefined;
    const message = `no answer within the route's timeout of ${timeoutMs} ms`;
    const exchange = this.exchange;
    if (exchange !== undefined && !exchange.finished) {
      if (exchange.passedOn) return;
      exchange.tainted = true;
      // A 5xx being dropped for a retry was never passed on: the caller gets the 504.
      exchange.answered = false;
      this.failExchange(exchange, 504, ErrorCodes.UPSTREAM_TIMEOUT, message, true);
      return;
    }
    // Between tries (routing again): nothing is on the wire for this request.
    if (this.phase === 'routing') this.refuseAndClose(504, ErrorCodes.UPSTREAM_TIMEOUT, message);
  }

  /**
   * A retry is safe only for an idempotent request without a body, read to its end, whose
   * caller is still there and has been passed nothing of an answer (RFC 9110 §9.2.2).
   */
  private retryable(exchange: Exchange): boolean {
    return !exchange.passedOn && exchange.requestEnded && isIdempotent(exchange.head.method) && !hasBody(exchange.head) && !this.callerGone();
  }

  /** This try failed: end it (counted against its upstream) and route the request again. */
  private retryElsewhere(exchange: Exchange, why: Exclude<RetryReason, 'stale'>): void {
    this.endExchange(exchange, { status: exchange.discarding ? exchange.status : undefined, upstreamFailed: true, retried: true });
    this.phase = 'routing';
    this.options.logger.debug({ why, attempt: exchange.attempt + 1 }, 'retrying the request on another candidate');
    this.routeRequest(exchange.head, exchange.attempt + 1, why);
  }

  /** Gives up on an exchange: an error answer when none has started, else a cut connection. */
  private failExchange(exchange: Exchange, status: number, code: ErrorCode, message: string, upstreamFailed: boolean): void {
    if (exchange.finished) return;
    this.options.logger.debug({ status, code, reason: message }, 'exchange failed');
    if (!exchange.answered && this.downstream.writable) {
      this.downstream.write(errorResponse(status, code, message, { close: true }));
      this.endExchange(exchange, { status, code, upstreamFailed });
      this.finishClient();
    } else {
      this.endExchange(exchange, { status: undefined, code, upstreamFailed });
      this.downstream.destroy();
      this.shutdown(message);
    }
  }

  private maybeFinish(exchange: Exchange): void {
    if (!exchange.responseEnded || exchange.finished) return;
    if (exchange.discarding) return this.retryElsewhere(exchange, '5xx');
    if (!exchange.requestEnded) {
      // Answered before the request was all sent (a refusal of an upload, say): what is left
      // of the request cannot be told from a next request, so this connection ends here.
      exchange.tainted = true;
      exchange.closeAfter = true;
    }
    this.endExchange(exchange, { status: exchange.status, upstreamFailed: false });
    if (exchange.closeAfter) this.finishClient();
    else this.nextRequest();
  }

  private endExchange(exchange: Exchange, outcome: ExchangeOutcome): void {
    exchange.finished = true;
    exchange.watch.stop();
    clearTimeout(exchange.answerTimer);
    exchange.response.close();
    const { pool, conn } = exchange.routed;
    const upstream = conn.stream;
    if (upstream.isPaused()) upstream.resume();
    pool.release(conn, !exchange.tainted && exchange.requestEnded && exchange.responseEnded);
    if (this.exchange === exchange) this.exchange = undefined;
    try {
      exchange.routed.done({ ...outcome, requestBytes: exchange.requestBytes, responseBytes: exchange.responseBytes });
    } catch (err) {
      this.options.logger.warn({ err: describeError(err) }, 'exchange listener threw');
    }
  }
}

function parseReason(err: unknown): string {
  return err instanceof HttpParseError ? `${err.message} (${err.errno})` : describeError(err);
}
