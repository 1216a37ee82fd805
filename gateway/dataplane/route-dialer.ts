import type { Duplex } from 'node:stream';
import {
  CausewayError, ErrorCodes, describeError, silentLogger,
  type CatalogReader, type ErrorCode, type Locality, type Logger,
} from '../../registry/index.js';
import type { EndpointPicker, PickContext, RouteTarget } from './endpoint-picker.js';
import { CAUSEWAY_ENDPOINT } from './headers.js';
import { formatIpAddress, formatMeshAuthority, isIpAddressText, type MeshAuthority } from './mesh-address.js';
import { gatewayKey, type OutlierTracker } from './outlier-tracker.js';
import { connectTcp } from './tcp-connect.js';
import { TunnelError, type OpenedTunnel, type TunnelOpener } from './tunnel-client.js';

export interface RouteDialerOptions {
  catalog: CatalogReader;
  picker: EndpointPicker;
  outliers: OutlierTracker;
  tunnels: TunnelOpener;
  /** Locality of this gateway (remote clusters are ranked against it). */
  locality: Locality;
  connectTimeoutMs: number;
  logger?: Logger;
}

/** A byte stream to the service, and how it got there. */
export interface DialedRoute {
  stream: Duplex;
  target: RouteTarget;
  /** `local <ip:port>` or `remote <cluster> via <gateway SPIFFE ID> -> <endpoint>`. */
  route: string;
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

/**
 * Resolves a mesh name in the federated catalog and walks the picker's candidates until one
 * connects: a TCP connection to a local endpoint, or a CONNECT tunnel through a remote
 * cluster's gateway. Connect failures and 5xx answers of remote gateways feed the outlier
 * tracker (refusals do not: the gateway is working). Nothing is ever resolved through DNS.
 */
export class RouteDialer {
  private readonly logger: Logger;

  constructor(private readonly options: RouteDialerOptions) {
    this.logger = options.logger ?? silentLogger();
  }

  /**
   * Resolves `target` and orders its candidates (the picker's order, ejected gateways skipped).
   * Throws CW_SERVICE_UNKNOWN or CW_NO_HEALTHY_ENDPOINT.
   */
  plan(target: MeshAuthority): RouteTarget[] {
    const { catalog } = this.options;
    const service = catalog.resolve(target.key);
    if (service === undefined) {
      throw new CausewayError(ErrorCodes.SERVICE_UNKNOWN, `${target.key} is not in the federated catalog (mesh names are never looked up in DNS)`);
    }
    const servicePort = service.ports.find((p) => p.port === target.port);
    if (servicePort === undefined) {
      const ports = service.ports.map((p) => p.port).join(', ');
      throw new CausewayError(ErrorCodes.SERVICE_UNKNOWN, `${target.key} has no port ${target.port} (ports: ${ports})`);
    }
    const context: PickContext = {
      localCluster: catalog.localCluster,
      locality: this.options.locality,
      gatewaysOf: (cluster) => catalog.gatewaysOf(cluster),
      isEjected: (gateway) => this.options.outliers.isEjected(gatewayKey(gateway)),
    };
    const candidates = this.options.picker.pick(service, servicePort, context);
    if (candidates.length === 0) {
      throw new CausewayError(ErrorCodes.NO_HEALTHY_ENDPOINT,
        `${formatMeshAuthority(target)} has no healthy local endpoint and no remote cluster with a healthy endpoint behind a reachable gateway`);
    }
    return candidates;
  }

  /** Opens a byte stream (a TCP connection or a CONNECT tunnel) to the first candidate that answers. */
  async dial(target: MeshAuthority, source: string | undefined): Promise<DialedRoute> {
    const candidates = this.plan(target);
    const failures: CausewayError[] = [];
    for (const candidate of candidates) {
      try {
        return await this.dialOne(candidate, target, source);
      } catch (err) {
        const failure = err instanceof CausewayError ? err : new CausewayError(ErrorCodes.UPSTREAM_CONNECT, describeError(err), { cause: err });
        failures.push(failure);
        this.logger.debug({ service: formatMeshAuthority(target), candidate: describeTarget(candidate), err: failure.message }, 'candidate failed; trying the next');
      }
    }
    throw summarise(target, failures);
  }

  private async dialOne(candidate: RouteTarget, target: MeshAuthority, source: string | undefined): Promise<DialedRoute> {
    if (candidate.kind === 'local') {
      const socket = await connectTcp(candidate.endpoint.address, candidate.port, this.options.connectTimeoutMs);
      return { stream: socket, target: candidate, route: `local ${formatIpAddress(candidate.endpoint.address, candidate.port)}`, settle: () => {} };
    }
    const tunnel = await this.openTunnel(candidate, formatMeshAuthority(target), source);
    const announced = tunnel.headers[CAUSEWAY_ENDPOINT];
    // Echoed into a response header: only an ip:port is passed on, never arbitrary peer text.
    const endpoint = typeof announced === 'string' && isIpAddressText(announced) ? announced : 'unknown endpoint';
    let settled = false;
    return {
      stream: tunnel.stream,
      target: candidate,
      route: `remote ${candidate.cluster} via ${candidate.gateway.identity} -> ${endpoint}`,
      settle: (ok) => {
        if (settled) return;
        settled = true;
        this.settle(candidate, ok);
      },
    };
  }

  /**
   * A CONNECT tunnel through a remote cluster's gateway. No answer at all, or a 5xx, counts
   * against the gateway for outlier detection; a 4xx refusal means it works.
   */
  async openTunnel(candidate: Extract<RouteTarget, { kind: 'remote' }>, authority: string, source: string | undefined, options: { http1?: boolean } = {}): Promise<OpenedTunnel> {
    const key = gatewayKey(candidate.gateway);
    try {
      return await this.options.tunnels.open(candidate.gateway, authority, source, options);
    } catch (err) {
      const status = err instanceof TunnelError ? err.status : undefined;
      if (status === undefined || status >= 500) this.options.outliers.recordFailure(key);
      else this.options.outliers.recordSuccess(key);
      throw err;
    }
  }

  /** Counts how an exchange through a remote gateway went (connect errors and 5xx are failures). */
  settle(candidate: RouteTarget, ok: boolean): void {
    if (candidate.kind !== 'remote') return;
    if (ok) this.options.outliers.recordSuccess(gatewayKey(candidate.gateway));
    else this.options.outliers.recordFailure(gatewayKey(candidate.gateway));
  }
}

export function describeTarget(target: RouteTarget): string {
  return target.kind === 'local'
    ? `local ${formatIpAddress(target.endpoint.address, target.port)}`
    : `remote ${target.cluster} via ${target.gateway.identity}`;
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
