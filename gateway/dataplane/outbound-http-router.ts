import type { Duplex } from 'node:stream';
import { CausewayError, ErrorCodes, describeError, type Logger } from '../../registry/index.js';
import { clientCertLine } from './client-cert-header.js';
import { CAUSEWAY_ENDPOINT, CAUSEWAY_ROUTE } from './headers.js';
import { fieldValue, headerSafe, requestHead } from './http1/head.js';
import type { MessageHead } from './http1/llhttp.js';
import { hasBody, isIdempotent } from './http1/head.js';
import type { ExchangeOutcome, Http1Router, Refusal, RouteAttempt, RoutedRequest } from './http1/proxy-connection.js';
import type { UpstreamPool } from './http1/upstream-pool.js';
import type { RoutedRecord } from './request-record.js';
import { formatIpAddress, formatMeshAuthority, isIpAddressText, parseMeshHost, type MeshAuthority } from './mesh-address.js';
import { CallerGone, clusterOf, describeTarget, isFailover, statusForCode, summarise, type RouteDialer } from './route-dialer.js';
import type { Candidate, RouteDecision } from '../policy/decide-route.js';
import type { RetryReason } from './http1/proxy-connection.js';
import type { RetryBudget } from './retry-budget.js';

export interface OutboundHttpRouterOptions {
  dialer: RouteDialer;
  pool: UpstreamPool;
  connectTimeoutMs: number;
  logger: Logger;
  onRecord: (record: RoutedRecord) => void;
  /** Why this connection's caller is anonymous and how to identify it, added to its access refusals. */
  anonymousHint?: () => string;
  /** This gateway's SPIFFE ID: `By` of the x-forwarded-client-cert its own endpoints get. */
  by?: string | undefined;
  retryBudget: RetryBudget;
}

/** What one request keeps across its tries. */
interface RequestState {
  target: Target;
  decision: RouteDecision;
  /** Candidates not tried yet, in order. */
  remaining: Candidate[];
  /** The candidate of the try before (a stale connection retries it on a fresh connection). */
  last: Candidate | undefined;
  retries: number;
  started: number;
}

/** The request target as a mesh authority and an origin-form path. */
interface Target {
  authority: MeshAuthority;
  path: string;
}

/**
 * Routes each HTTP/1.1 request of one caller connection at the outbound listener: the mesh
 * name from the absolute-form target (RFC 9112 §3.2.2), or from Host for an origin-form
 * request; then the candidates in the picker's order, each tried for a pooled keep-alive
 * connection — a TCP connection to a local endpoint, or a CONNECT stream to the remote
 * cluster's gateway that carries this caller's identity. Every request is routed on its own,
 * and its answer is counted for outlier detection.
 */
export class OutboundHttpRouter implements Http1Router {
  constructor(private readonly options: OutboundHttpRouterOptions, private readonly source: string | undefined) {}

  /** Per request head: its decision and the candidates left, across retries. */
  private readonly requests = new WeakMap<MessageHead, RequestState>();

  async route(head: MessageHead, attempt: RouteAttempt): Promise<RoutedRequest | Refusal> {
    let state = this.requests.get(head);
    if (state === undefined) {
      const started = performance.now();
      const target = parseTarget(head);
      if ('status' in target) return this.refused(head, started, target.status, target.code, target.message, '', 0);
      const { authority } = target;
      let decision: RouteDecision;
      try {
        decision = this.options.dialer.plan(authority, this.source, { method: head.method, path: target.path });
      } catch (err) {
        const e = err instanceof CausewayError ? err : new CausewayError(ErrorCodes.INTERNAL, describeError(err));
        return this.refused(head, started, statusForCode(e.code), e.code, e.message, authority.key, authority.port);
      }
      state = { target, decision, remaining: [...decision.candidates], last: undefined, retries: 0, started };
      this.requests.set(head, state);
      this.options.retryBudget.noteRequest(authority.key);
    }
    const { target, decision, started } = state;
    const { authority } = target;
    // A stale pooled connection is retried on the same candidate, on a fresh connection.
    if (attempt.retryOf === 'stale' && state.last !== undefined) state.remaining.unshift(state.last);
    const failures: CausewayError[] = [];
    while (state.remaining.length > 0) {
      const candidate = state.remaining.shift()!;
      state.last = candidate;
      // A request whose caller has gone is never dialed (it would only be reset at once).
      if (attempt.callerGone()) return this.refused(head, started, 503, ErrorCodes.CLOSED, new CallerGone().message, authority.key, authority.port);
      // The route's timeout bounds the connects too: a blackholed gateway holds a connect
      // for the whole connect timeout, far past a sub-second route timeout.
      const left = timeLeft(state);
      try {
        const routed = left === undefined ? await this.routeTo(candidate, head, state, attempt) : await beforeDeadline(this.routeTo(candidate, head, state, attempt), left);
        if (routed !== undefined) return routed;
        return this.refused(head, started, 504, ErrorCodes.UPSTREAM_TIMEOUT,
          `no answer within the route's timeout of ${decision.failover.timeoutMs ?? 0} ms (still connecting to ${describeTarget(candidate.target)})`, authority.key, authority.port);
      } catch (err) {
        const failure = err instanceof CausewayError ? err : new CausewayError(ErrorCodes.UPSTREAM_CONNECT, describeError(err), { cause: err });
        failures.push(failure);
        this.options.logger.debug({ service: formatMeshAuthority(authority), candidate: describeTarget(candidate.target), attempt: attempt.attempt, err: failure.message }, 'candidate failed; trying the next');
      }
    }
    if (failures.length === 0) {
      return this.refused(head, started, 502, ErrorCodes.UPSTREAM_BROKEN,
        `every candidate for ${formatMeshAuthority(authority)} failed (${decision.candidates.length} tried)`, authority.key, authority.port);
    }
    const e = summarise(authority, failures);
    return this.refused(head, started, statusForCode(e.code), e.code, e.message, authority.key, authority.port);
  }

  /** Whether a failed try may go on to the next candidate: retry policy, attempts and budget. */
  private mayRetry(head: MessageHead, state: RequestState, why: Exclude<RetryReason, 'stale'>): boolean {
    const { retries } = state.decision.failover;
    if (!isIdempotent(head.method) || hasBody(head)) return false;
    if (!retries.on.has(why === 'timeout' ? 'reset' : why === 'unreachable' ? 'connect-failure' : why)) return false;
    if (state.retries >= retries.attempts || state.remaining.length === 0) return false;
    // A gateway found dead is passed over like a failed connect (the route loop above), outside
    // the budget: a freeze releases every request in flight to it at once, and moving them
    // to the next cluster adds no load the failed tries did not already owe it. The budget is
    // for tries that failed with an answer or a reset — where a retry can multiply the load.
    if (why !== 'unreachable' && !this.options.retryBudget.tryRetry(state.target.authority.key, retries)) {
      this.options.logger.debug({ service: state.target.authority.key }, 'retry budget spent; not retrying');
      return false;
    }
    state.retries += 1;
    return true;
  }

  private async routeTo(planned: Candidate, head: MessageHead, state: RequestState, attempt: RouteAttempt): Promise<RoutedRequest> {
    const { pool, dialer, connectTimeoutMs } = this.options;
    const { target, started, decision } = state;
    const candidate = planned.target;
    // A TrafficSplit may send the request to another service: that is the authority it asks for.
    const authorityText = `${planned.service}:${planned.port}`;
    let key: string;
    let create: () => Promise<Duplex>;
    let route: string;
    let extra = '';
    let endpoint: string | undefined;
    if (candidate.kind === 'local') {
      const where = formatIpAddress(candidate.endpoint.address, candidate.port);
      endpoint = where;
      key = `local ${where}`;
      route = key;
      create = () => dialer.connectLocal(candidate.endpoint, candidate.port);
      // This gateway owns the endpoint: it is the one to tell the backend who is calling.
      extra = clientCertLine(this.options.by, this.source);
    } else {
      // One pool per gateway, authority and caller: the stream's CONNECT carries the caller's
      // identity, which the remote gateway authorizes once per stream.
      key = `remote ${candidate.gateway.identity} ${candidate.gateway.eastWestAddress} ${authorityText} ${this.source ?? ''} ${describeTarget(candidate)}`;
      route = `remote ${candidate.cluster} via ${candidate.gateway.identity}`;
      create = async () => {
        if (attempt.callerGone()) throw new CallerGone();
        return (await dialer.openTunnel(planned, this.source, { http1: true, signal: attempt.signal })).stream;
      };
    }
    // A retry (attempt 1) follows a stale pooled connection: it gets a fresh one (issue 7).
    const conn = await pool.acquire(key, create, { fresh: attempt.retryOf === 'stale' });
    const { failover } = decision;
    return {
      pool,
      conn,
      head: requestHead(head, target.path, authorityText, extra),
      responseFields: (response) => {
        // The remote gateway names the endpoint it chose for this request.
        const named = candidate.kind === 'remote' ? fieldValue(response, CAUSEWAY_ENDPOINT) : undefined;
        if (named !== undefined) {
          route = `${route} -> ${isIpAddressText(named) ? named : 'unknown endpoint'}`;
          if (isIpAddressText(named)) endpoint = named;
        }
        return `${CAUSEWAY_ROUTE}: ${headerSafe(route)}\r\n`;
      },
      retry: (why) => this.mayRetry(head, state, why),
      answerTimeoutMs: failover.retries.perTryTimeoutMs,
      // What is left of the route's timeout once this connection is open (timeLeft).
      requestTimeoutMs: failover.timeoutMs === undefined ? undefined : Math.max(1, Math.ceil(timeLeft(state) ?? 0)),
      done: (outcome: ExchangeOutcome) => {
        if (outcome.status !== undefined || outcome.upstreamFailed) {
          // Design brief: outlier detection counts connect errors and 5xx answers.
          dialer.settle(planned, !outcome.upstreamFailed && (outcome.status ?? 502) < 500);
        }
        if (outcome.retried === true) return;
        const cluster = clusterOf(candidate);
        this.options.onRecord({
          method: head.method, service: target.authority.key, port: target.authority.port, route,
          status: outcome.status ?? 0, ...(outcome.code === undefined ? {} : { code: outcome.code }),
          durationMs: performance.now() - started,
          ...(cluster === undefined ? {} : { cluster }), ...(endpoint === undefined ? {} : { endpoint }),
          failover: isFailover(planned, decision), retries: state.retries,
          ...(outcome.requestBytes === undefined ? {} : { requestBytes: outcome.requestBytes, responseBytes: outcome.responseBytes ?? 0 }),
        });
      },
    };
  }

  private refused(head: MessageHead, started: number, status: number, code: Refusal['code'], text: string, service: string, port: number): Refusal {
    // The refusing gateway only knows that no identity arrived; this one knows why none was sent.
    const hint = code === ErrorCodes.ACCESS_DENIED && this.source === undefined ? this.options.anonymousHint?.() : undefined;
    const message = hint === undefined ? text : `${text}; ${hint}`;
    this.options.logger.info({ source: this.source ?? 'anonymous', service: `${service}:${port}`, status, code, reason: message }, 'outbound request refused');
    this.options.onRecord({ method: head.method, service, port, route: undefined, status, code, durationMs: performance.now() - started });
    return { status, code, message };
  }
}

/** Milliseconds left of the request's route timeout (FailoverPolicy timeout), from its first try; undefined: none. */
function timeLeft(state: RequestState): number | undefined {
  const { timeoutMs } = state.decision.failover;
  return timeoutMs === undefined ? undefined : state.started + timeoutMs - performance.now();
}

/**
 * `routing`, or undefined when `ms` pass first. A connection that opens after that goes back
 * to its pool unused (it is fresh and idle); a failure after that was counted where it happened.
 */
async function beforeDeadline(routing: Promise<RoutedRequest>, ms: number): Promise<RoutedRequest | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  try {
    const first = await Promise.race([routing, expired]);
    if (first === undefined) routing.then((late) => late.pool.release(late.conn, true), () => undefined);
    return first;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The mesh authority and path of a request: absolute-form `http://<service>.<namespace>:<port>/p`
 * (what an HTTP proxy is sent), or origin-form with the mesh name in Host. Nothing else is
 * accepted, and nothing is ever looked up in DNS.
 */
function parseTarget(head: MessageHead): Target | Refusal {
  const invalid = (message: string): Refusal => ({ status: 400, code: ErrorCodes.REQUEST_INVALID, message });
  let host: string;
  let port: number;
  let path: string;
  const raw = head.target;
  if (raw.startsWith('/')) {
    const hostField = fieldValue(head, 'host');
    if (hostField === undefined) return invalid(`origin-form request ${raw.slice(0, 200)} has no Host; send GET http://<service>.<namespace>:<port>/path`);
    const shape = /^([^:]+)(?::(\d{1,5}))?$/.exec(hostField.trim());
    if (shape === null) return invalid(`Host "${hostField.slice(0, 200)}" is not <service>.<namespace>[:<port>]`);
    host = shape[1]!;
    port = shape[2] === undefined ? 80 : Number(shape[2]);
    path = raw;
  } else {
    let url: URL;
    try {
      if (!/^http:\/\//i.test(raw)) throw new Error('not http');
      url = new URL(raw);
    } catch {
      return invalid(`"${raw.slice(0, 200)}" is not an absolute-form http:// request; send GET http://<service>.<namespace>:<port>/path or CONNECT`);
    }
    host = url.hostname;
    port = url.port === '' ? 80 : Number(url.port);
    path = `${url.pathname}${url.search}`;
  }
  const authority = parseMeshHost(host.toLowerCase(), port);
  if (typeof authority === 'string') return { status: 502, code: ErrorCodes.SERVICE_UNKNOWN, message: `${authority}; nothing is looked up in DNS` };
  return { authority, path };
}
