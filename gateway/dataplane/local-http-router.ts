import { CausewayError, ErrorCodes, describeError, type CatalogReader, type Logger } from '../../registry/index.js';
import { localCandidates, type Labels, type RandomSource } from '../policy/decide-route.js';
import { clientCertLine } from './client-cert-header.js';
import { CAUSEWAY_ENDPOINT } from './headers.js';
import { requestHead } from './http1/head.js';
import type { MessageHead } from './http1/llhttp.js';
import type { ExchangeOutcome, Http1Router, Refusal, RouteAttempt, RoutedRequest } from './http1/proxy-connection.js';
import type { UpstreamPool } from './http1/upstream-pool.js';
import { formatIpAddress, formatMeshAuthority, type MeshAuthority } from './mesh-address.js';
import { connectEndpoint, type SidecarCredentials } from './endpoint-connector.js';
import { deniedBy, type InboundOutcome } from './inbound-events.js';
import type { AccessVerdict } from '../policy/decide-access.js';

export interface LocalHttpRouterOptions {
  catalog: CatalogReader;
  pool: UpstreamPool;
  connectTimeoutMs: number;
  random: RandomSource;
  logger: Logger;
  /**
   * The access decision for this stream's caller under the rules in force now: checked on
   * every request, so a withdrawn rule stops the next request on a long-lived stream.
   */
  authorize: (request: { method: string; path: string }) => Pick<AccessVerdict, 'allowed' | 'reason' | 'rule'>;
  /** Every request's outcome, answered or refused, for the listener's counters and telemetry. */
  onRequest: (outcome: InboundOutcome) => void;
  /** This gateway's SPIFFE ID: `By` of the x-forwarded-client-cert the backend gets. */
  identity: string;
  /** For endpoints behind an agent's sidecar. */
  sidecar?: SidecarCredentials;
}

/**
 * Routes the requests of one east-west stream (one authorized caller, one service port of
 * this cluster) to local endpoints, each request on its own: the live catalog record, a healthy
 * endpoint in weighted random order, a pooled keep-alive connection to it. The backend is told
 * the verified caller in x-forwarded-client-cert, which callers cannot forge: every such field
 * (and every `causeway-*` one) a request brings is dropped (head.ts) before ours is added.
 */
export class LocalHttpRouter implements Http1Router {
  constructor(
    private readonly options: LocalHttpRouterOptions,
    private readonly target: MeshAuthority,
    private readonly source: string | undefined,
    /** The endpoint subset the calling gateway's decision asked for (causeway-subset). */
    private readonly subset: Labels | undefined = undefined,
  ) {}

  async route(head: MessageHead, attempt: RouteAttempt): Promise<RoutedRequest | Refusal> {
    const started = performance.now();
    const routed = await this.routeOnce(head, attempt, started);
    if (!('conn' in routed)) {
      const { rule, ...refusal } = routed;
      this.options.onRequest({ status: refusal.status, code: refusal.code, ...(rule === undefined ? {} : { rule }), durationMs: performance.now() - started });
      return refusal;
    }
    return routed;
  }

  /** The request routed, or refused (a denial names the rule that decided, for telemetry). */
  private async routeOnce(head: MessageHead, attempt: RouteAttempt, started: number): Promise<RoutedRequest | (Refusal & { rule?: string })> {
    // RFC 9112 §3.2: the calling gateway sends origin-form (or `*` for OPTIONS).
    if (!head.target.startsWith('/') && !(head.method === 'OPTIONS' && head.target === '*')) {
      return { status: 400, code: ErrorCodes.REQUEST_INVALID, message: `request target "${head.target.slice(0, 200)}" is not origin-form` };
    }
    const decision = this.options.authorize({ method: head.method, path: head.target });
    if (!decision.allowed) return { status: 403, code: ErrorCodes.ACCESS_DENIED, message: decision.reason, rule: deniedBy(decision) };
    const { catalog } = this.options;
    const record = catalog.get(catalog.localCluster, this.target.key);
    const servicePort = record?.deleted === false ? record.ports.find((p) => p.port === this.target.port) : undefined;
    if (record === undefined || servicePort === undefined) {
      return { status: 404, code: ErrorCodes.SERVICE_UNKNOWN, message: `${formatMeshAuthority(this.target)} is no longer a service of cluster ${catalog.localCluster}` };
    }
    const candidates = localCandidates(record.endpoints, servicePort, this.subset, this.options.random);
    if (candidates.length === 0) {
      return { status: 503, code: ErrorCodes.NO_HEALTHY_ENDPOINT, message: `${this.target.key} has no healthy local endpoint for port ${this.target.port}` };
    }
    const failures: string[] = [];
    for (const candidate of candidates) {
      const where = formatIpAddress(candidate.endpoint.address, candidate.port);
      try {
        const conn = await this.options.pool.acquire(`local ${where}`,
          () => connectEndpoint(candidate.endpoint, candidate.port, this.options.connectTimeoutMs, this.options.sidecar), { fresh: attempt.retryOf === 'stale' });
        const extra = clientCertLine(this.options.identity, this.source);
        return {
          pool: this.options.pool,
          conn,
          head: requestHead(head, head.target, formatMeshAuthority(this.target), extra),
          responseFields: () => `${CAUSEWAY_ENDPOINT}: ${where}\r\n`,
          done: (outcome: ExchangeOutcome) => {
            if (outcome.retried === true) return;
            this.options.onRequest({
              status: outcome.status ?? 0, ...(outcome.code === undefined ? {} : { code: outcome.code }), endpoint: where,
              durationMs: performance.now() - started,
              ...(outcome.requestBytes === undefined ? {} : { requestBytes: outcome.requestBytes, responseBytes: outcome.responseBytes ?? 0 }),
            });
          },
        };
      } catch (err) {
        failures.push(err instanceof CausewayError ? err.message : describeError(err));
        this.options.logger.debug({ service: formatMeshAuthority(this.target), endpoint: where, err: describeError(err) }, 'local endpoint failed; trying the next');
      }
    }
    return { status: 502, code: ErrorCodes.UPSTREAM_CONNECT, message: `every endpoint of ${this.target.key} failed: ${failures.join('; ')}` };
  }
}
