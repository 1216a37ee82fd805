import type { Duplex } from 'node:stream';
import {
  CausewayError, ErrorCodes, describeError, silentLogger,
  type Endpoint, type ErrorCode, type Logger,
} from '../../registry/index.js';
import type { AccessScope } from '../policy/decide-access.js';
import { formatLabels, type Candidate, type RouteDecision, type RouteTarget } from '../policy/decide-route.js';
import type { PolicyEngine } from '../policy/policy-engine.js';
import { CAUSEWAY_ENDPOINT } from './headers.js';
import { formatIpAddress, formatMeshAuthority, isIpAddressText, type MeshAuthority } from './mesh-address.js';
import { outlierKey, type OutlierTracker } from './outlier-tracker.js';
import { failoverOf } from '../policy/policy-set.js';
import { connectEndpoint, type SidecarCredentials } from './endpoint-connector.js';
import { TunnelError, type OpenOptions, type OpenedTunnel, type TunnelOpener } from './tunnel-client.js';

export interface RouteDialerOptions {
  engine: PolicyEngine;
  outliers: OutlierTracker;
  tunnels: TunnelOpener;
  connectTimeoutMs: number;
  logger?: Logger;
  /** This listener's SVID and bundle, for local endpoints behind an agent's sidecar. */
  sidecar?: SidecarCredentials;
}

/** A byte stream to the service, and how it got there. */
export interface DialedRoute {
  stream: Duplex;
  target: RouteTarget;
  /** `local <ip:port>` or `remote <cluster> via <gateway SPIFFE ID> -> <endpoint>`. */
  route: string;
  /** The remote cluster that serves it; undefined for a local endpoint. */
  cluster: string | undefined;
  /** `ip:port` of the endpoint, when known (a remote gateway names the one it chose). */
  endpoint: string | undefined;
  /** Not the first candidate's cluster: the decision failed over. */
  failover: boolean;
  /**
   * Report how the exchange went (false for a 5xx answer or a broken tunnel) to outlier
   * detection; a no-op for local endpoints. Call at most once; later calls are ignored.
   */
  settle(ok: boolean): void;
}

/** What the caller is answered when no candidate worked, by error code. */
export function statusForCode(code: string): number {
  switch (code) {
    case ErrorCodes.SERVICE_UNKNOWN: return 502;
    case ErrorCodes.NO_HEALTHY_ENDPOINT: return 503;
    case ErrorCodes.ACCESS_DENIED:
    case ErrorCodes.IDENTITY_REFUSED: return 403;
    case ErrorCodes.REQUEST_INVALID: return 400;
    case ErrorCodes.CLOSED: return 503;
    default: return 502;
  }
}

/** Refusals that answer the question "may this caller go there" — worth more than a connect error. */
const POLICY_CODES: ReadonlySet<string> = new Set([ErrorCodes.ACCESS_DENIED, ErrorCodes.IDENTITY_REFUSED]);

/** The caller left: nothing more is dialed for it. */
export class CallerGone extends CausewayError {
  constructor() {
    super(ErrorCodes.CLOSED, 'the caller went away before its request was sent');
  }
}

/**
 * Asks the policy engine where a request goes and walks its candidates until one connects: a
 * TCP connection to a local endpoint, or a CONNECT tunnel through a remote cluster's gateway.
 * Connect failures and 5xx answers of remote gateways feed the outlier tracker (refusals do
 * not: the gateway is working). Nothing is ever resolved through DNS.
 */
export class RouteDialer {
  private readonly logger: Logger;

  constructor(private readonly options: RouteDialerOptions) {
    this.logger = options.logger ?? silentLogger();
  }

  get engine(): PolicyEngine {
    return this.options.engine;
  }

  /**
   * The route decision for `source` (a verified SPIFFE ID, or undefined: anonymous) to `target`.
   * Throws CW_SERVICE_UNKNOWN, or the decision's refusal (CW_NO_HEALTHY_ENDPOINT, CW_ACCESS_DENIED).
   */
  plan(target: MeshAuthority, source: string | undefined, scope: AccessScope): RouteDecision {
    const { engine } = this.options;
    const decision = engine.route(engine.caller(source), target.key, target.port, scope);
    if (decision.refusal !== undefined) {
      const message = decision.refusal.code === ErrorCodes.NO_HEALTHY_ENDPOINT ? noHealthyMessage(target, decision) : decision.refusal.message;
      throw new CausewayError(decision.refusal.code, message);
    }
    return decision;
  }

  /** Opens a byte stream (a TCP connection or a CONNECT tunnel) to the first candidate that answers. */
  async dial(target: MeshAuthority, source: string | undefined, callerGone: () => boolean = () => false): Promise<DialedRoute> {
    const decision = this.plan(target, source, 'tcp');
    const failures: CausewayError[] = [];
    for (const candidate of decision.candidates) {
      // A request whose caller has gone is never dialed (it would only be reset at once).
      if (callerGone()) throw new CallerGone();
      try {
        return { ...await this.dialOne(candidate, source), failover: isFailover(candidate, decision) };
      } catch (err) {
        const failure = err instanceof CausewayError ? err : new CausewayError(ErrorCodes.UPSTREAM_CONNECT, describeError(err), { cause: err });
        failures.push(failure);
        this.logger.debug({ service: formatMeshAuthority(target), candidate: describeTarget(candidate.target), err: failure.message }, 'candidate failed; trying the next');
      }
    }
    throw summarise(target, failures);
  }

  private async dialOne(planned: Candidate, source: string | undefined): Promise<Omit<DialedRoute, 'failover'>> {
    const candidate = planned.target;
    if (candidate.kind === 'local') {
      const socket = await this.connectLocal(candidate.endpoint, candidate.port);
      const where = formatIpAddress(candidate.endpoint.address, candidate.port);
      return { stream: socket, target: candidate, route: `local ${where}`, cluster: undefined, endpoint: where, settle: () => {} };
    }
    const tunnel = await this.openTunnel(planned, source);
    const announced = tunnel.headers[CAUSEWAY_ENDPOINT];
    // Echoed into a response header: only an ip:port is passed on, never arbitrary peer text.
    const endpoint = typeof announced === 'string' && isIpAddressText(announced) ? announced : 'unknown endpoint';
    let settled = false;
    return {
      stream: tunnel.stream,
      target: candidate,
      route: `remote ${candidate.cluster} via ${candidate.gateway.identity} -> ${endpoint}`,
      cluster: candidate.cluster,
      endpoint: endpoint === 'unknown endpoint' ? undefined : endpoint,
      settle: (ok) => {
        if (settled) return;
        settled = true;
        this.settle(planned, ok);
      },
    };
  }

  /** A connection to a local endpoint: TCP, or mTLS through its agent's sidecar. */
  connectLocal(endpoint: Endpoint, port: number): Promise<Duplex> {
    return connectEndpoint(endpoint, port, this.options.connectTimeoutMs, this.options.sidecar);
  }

  /**
   * A CONNECT tunnel through a remote cluster's gateway. No answer at all, or a 5xx, counts
   * against the gateway for outlier detection; a 4xx refusal means it works.
   */
  async openTunnel(planned: Candidate, source: string | undefined, options: Omit<OpenOptions, 'subset'> = {}): Promise<OpenedTunnel> {
    const candidate = planned.target;
    if (candidate.kind !== 'remote') throw new CausewayError(ErrorCodes.INTERNAL, 'a tunnel goes to a remote gateway');
    const subset = candidate.subset === undefined ? {} : { subset: formatLabels(candidate.subset) };
    // Died since the request was planned (or while it queued for a pooled stream): dialing a
    // blackholed gateway would only wait out the connect timeout. Not an outlier failure.
    const state = this.options.engine.gatewayState(candidate.gateway);
    if (state.condition === 'dead') {
      throw new TunnelError(ErrorCodes.UPSTREAM_CONNECT, `gateway ${candidate.gateway.identity} is dead: ${state.reason}`);
    }
    try {
      return await this.options.tunnels.open(candidate.gateway, `${planned.service}:${planned.port}`, source, { ...options, ...subset });
    } catch (err) {
      // A caller that left says nothing about the gateway.
      if (options.signal?.aborted === true) throw new CallerGone();
      const status = err instanceof TunnelError ? err.status : undefined;
      this.settle(planned, status !== undefined && status < 500, describeError(err));
      throw err;
    }
  }

  /** Counts how an exchange through a remote gateway went (connect errors and 5xx are failures). */
  settle(planned: Candidate, ok: boolean, reason?: string): void {
    const candidate = planned.target;
    if (candidate.kind !== 'remote') return;
    const key = outlierKey(candidate.gateway, planned.service, planned.port);
    if (ok) this.options.outliers.recordSuccess(key);
    // A gateway found dead (PING, dial) is liveness's to bring back; the requests that died
    // with its session say nothing about the service behind it and must not eject it too.
    else if (this.options.engine.gatewayState(candidate.gateway).condition !== 'dead') {
      this.options.outliers.recordFailure(key, failoverOf(this.options.engine.policies(), planned.service).outlier, reason);
    }
  }
}

/** The cluster a candidate sends to; undefined for a local endpoint. */
export function clusterOf(target: RouteTarget): string | undefined {
  return target.kind === 'remote' ? target.cluster : undefined;
}

/**
 * Whether serving by `candidate` is a failover: it is in another cluster than the decision's
 * first candidate (a retry on another endpoint of the same cluster is not).
 */
export function isFailover(candidate: Candidate, decision: RouteDecision): boolean {
  const first = decision.candidates[0];
  return first !== undefined && clusterOf(first.target) !== clusterOf(candidate.target);
}

export function describeTarget(target: RouteTarget): string {
  return target.kind === 'local'
    ? `local ${formatIpAddress(target.endpoint.address, target.port)}`
    : `remote ${target.cluster} via ${target.gateway.identity}${target.subset === undefined ? '' : ` [${formatLabels(target.subset)}]`}`;
}

/** CW_NO_HEALTHY_ENDPOINT, with what the decision saw when it explains itself in one line. */
function noHealthyMessage(target: MeshAuthority, decision: RouteDecision): string {
  return `${formatMeshAuthority(target)} has no healthy local endpoint and no remote cluster with a healthy endpoint behind a usable gateway`
    + (decision.classRoute === undefined ? '' : ` (traffic class ${decision.classRoute.class} is routed by ${decision.classRoute.policy})`);
}

/**
 * One error for the caller when every candidate failed: the shared code when they all agree;
 * otherwise a policy refusal if any candidate gave one (it tells the caller what to fix);
 * otherwise CW_UPSTREAM_CONNECT. The message lists each candidate's failure.
 */
export function summarise(target: MeshAuthority, failures: readonly CausewayError[]): CausewayError {
  const codes = new Set(failures.map((f) => f.code));
  const policy = failures.find((f) => POLICY_CODES.has(f.code));
  const code: ErrorCode = codes.size === 1 ? failures[0]!.code : policy?.code ?? ErrorCodes.UPSTREAM_CONNECT;
  const message = failures.length === 1
    ? failures[0]!.message
    : `every candidate for ${formatMeshAuthority(target)} failed: ${failures.map((f) => f.message).join('; ')}`;
  return new CausewayError(code, message, { details: failures.map((f) => `${f.code}: ${f.message}`) });
}
