import { ApiException, OpenidApi, WellKnownApi, type KubeConfig } from '@kubernetes/client-node';
import { CausewayError, ErrorCodes, describeError, silentLogger, type Logger } from '../../registry/index.js';
import { ServiceAccountTokenVerifier, peekToken, type ServiceAccount, type ServiceAccountVerifier } from '../../federation/index.js';
import { apiRefusal, withDeadline } from './kube-client-config.js';

export interface ApiServerJwksOptions {
  kubeConfig: KubeConfig;
  /** What the verifier checks (issuance.kubernetes). */
  issuer: string;
  audience: string;
  maxTokenTtlSeconds: number;
  logger?: Logger;
  now?: () => number;
  /** How often the key set is read again. Default 5 min. */
  refreshMs?: number;
  /** The least time between two reads that tokens naming an unknown key ask for (periodic reads do not count). Default 30 s. */
  minKeyRefreshMs?: number;
  /** First retry after a failed read; doubles up to maxBackoffMs (never past refreshMs). Default 1 s → 30 s. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Deadline of one read. Default 10 s. */
  requestTimeoutMs?: number;
}

/** The service-account key set as the gateway holds it (GET /v1/status → trust.serviceAccountJwks). */
export interface JwksStatus {
  source: 'apiServer';
  server: string;
  /** Key IDs of the key set in use; empty until the first good read. */
  keys: string[];
  fetchedAt?: string;
  /** Reads made, and why the last one failed (the key set in use is the last good one). */
  reads: number;
  lastError?: string;
  lastErrorAt?: string;
  /** The issuer the API server's discovery document names, when it is not issuance.kubernetes.issuer. */
  issuerMismatch?: string;
}

const JWKS_PATH = '/openid/v1/jwks';

/**
 * The cluster's service-account issuer keys read from its API server (GET /openid/v1/jwks, a
 * non-resource URL; the gateway's ClusterRole grants get on it) instead of a file, so that a
 * rotated signing key is accepted without anyone copying a file: the set is read every
 * refreshMs, and at once — at most every minKeyRefreshMs, however many tokens ask — when a
 * token of this issuer names a key the set does not have. A read that fails, or whose body is
 * not a usable JWKS (not JSON, no "keys", no usable key), is logged and changes nothing: the
 * last good set stays in use. Until a first read succeeds, tokens are refused with
 * CW_SA_JWKS_UNAVAILABLE (503), naming the last error.
 * https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#service-account-issuer-discovery
 */
export class ApiServerJwks implements ServiceAccountVerifier {
  private readonly logger: Logger;
  private readonly tuning: Required<Omit<ApiServerJwksOptions, 'logger' | 'kubeConfig'>>;
  private readonly openid: OpenidApi;
  private verifier: ServiceAccountTokenVerifier | undefined;
  private readonly statusValue: JwksStatus;
  private inFlight: Promise<boolean> | undefined;
  /** When a token naming an unknown key last caused a read. */
  private lastKeyReadAt = Number.NEGATIVE_INFINITY;
  private failures = 0;
  private issuerChecked = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: ApiServerJwksOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'service-account-jwks' });
    this.tuning = {
      issuer: options.issuer, audience: options.audience, maxTokenTtlSeconds: options.maxTokenTtlSeconds, now: options.now ?? Date.now,
      refreshMs: options.refreshMs ?? 300_000, minKeyRefreshMs: options.minKeyRefreshMs ?? 30_000,
      minBackoffMs: options.minBackoffMs ?? 1000, maxBackoffMs: options.maxBackoffMs ?? 30_000, requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    };
    this.openid = options.kubeConfig.makeApiClient(OpenidApi);
    this.statusValue = { source: 'apiServer', server: options.kubeConfig.getCurrentCluster()?.server ?? '', keys: [], reads: 0 };
  }

  /** Reads the key set now and then every refreshMs; never throws (problems show in status() and the log). */
  start(): void {
    if (this.inFlight === undefined && this.statusValue.reads === 0) void this.refresh();
  }

  status(): JwksStatus {
    return { ...this.statusValue, keys: [...this.statusValue.keys] };
  }

  async verify(jwt: string): Promise<ServiceAccount> {
    const peek = peekToken(jwt);
    // Only a token of our issuer is worth a read; anything else is refused by the verifier.
    if (peek !== undefined && peek.issuer === this.tuning.issuer && this.verifier?.hasKey(peek.kid) !== true) await this.refreshForKey(peek.kid);
    const verifier = this.verifier;
    if (verifier === undefined) {
      throw new CausewayError(ErrorCodes.SA_JWKS_UNAVAILABLE,
        `cannot check service account tokens: the issuer's keys have not been read from the API server yet (${this.statusValue.lastError ?? 'the first read is under way'})`);
    }
    return verifier.verify(jwt);
  }

  /** Reads the key set now (shared with a read under way). Resolves whether the set in use is now the one just read. */
  refresh(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    this.inFlight ??= this.read().finally(() => {
      this.inFlight = undefined;
      this.schedule();
    });
    return this.inFlight;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  /** A token names a key we do not have: a rotated key is read at once, but not more often than minKeyRefreshMs. */
  private async refreshForKey(kid: string): Promise<void> {
    if (this.inFlight === undefined) {
      if (this.tuning.now() - this.lastKeyReadAt < this.tuning.minKeyRefreshMs) return;
      this.lastKeyReadAt = this.tuning.now();
    }
    this.logger.debug({ kid }, 'a token names a key the JWKS does not have; reading it again');
    await this.refresh();
  }

  private async read(): Promise<boolean> {
    this.statusValue.reads += 1;
    let next: ServiceAccountTokenVerifier;
    try {
      const body: unknown = await withDeadline(this.openid.getServiceAccountIssuerOpenIDKeyset(), this.tuning.requestTimeoutMs, `GET ${JWKS_PATH}`);
      next = new ServiceAccountTokenVerifier({
        issuer: this.tuning.issuer, audience: this.tuning.audience, maxTokenTtlSeconds: this.tuning.maxTokenTtlSeconds, now: this.tuning.now,
        // The generated client parses a JSON media type (application/jwk-set+json) itself.
        jwks: typeof body === 'string' ? body : JSON.stringify(body),
      });
    } catch (err) {
      this.failed(err);
      return false;
    }
    const before = this.verifier?.keyIds() ?? [];
    const keys = next.keyIds();
    this.verifier = next;
    this.failures = 0;
    this.statusValue.keys = keys;
    this.statusValue.fetchedAt = new Date(this.tuning.now()).toISOString();
    delete this.statusValue.lastError;
    delete this.statusValue.lastErrorAt;
    if (before.join() !== keys.join()) {
      this.logger.info({ keys, added: keys.filter((k) => !before.includes(k)), removed: before.filter((k) => !keys.includes(k)) }, 'service account JWKS read from the API server');
    }
    if (!this.issuerChecked) await this.checkIssuer();
    return true;
  }

  private failed(err: unknown): void {
    this.failures += 1;
    const reason = err instanceof ApiException ? `GET ${JWKS_PATH}: ${apiRefusal(err.code, 'get', `the non-resource URL ${JWKS_PATH}`)}`
      : err instanceof SyntaxError ? `GET ${JWKS_PATH}: the body is not JSON (${err.message})`
        : err instanceof CausewayError ? `GET ${JWKS_PATH}: ${err.message}` : `GET ${JWKS_PATH}: ${describeError(err)}`;
    this.statusValue.lastError = reason;
    this.statusValue.lastErrorAt = new Date(this.tuning.now()).toISOString();
    this.logger.error({ reason, keys: this.statusValue.keys },
      this.verifier === undefined ? 'cannot read the service account JWKS; tokens are refused until it is read' : 'cannot read the service account JWKS; keeping the keys held');
  }

  /** Once: the discovery document's issuer should be ours, or every token would be refused (a warning, never a failure). */
  private async checkIssuer(): Promise<void> {
    this.issuerChecked = true;
    try {
      const raw: unknown = await withDeadline(this.options.kubeConfig.makeApiClient(WellKnownApi).getServiceAccountIssuerOpenIDConfiguration(),
        this.tuning.requestTimeoutMs, 'GET /.well-known/openid-configuration');
      const document = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { issuer?: unknown } | null;
      if (typeof document?.issuer === 'string' && document.issuer !== this.tuning.issuer) {
        this.statusValue.issuerMismatch = document.issuer;
        this.logger.warn({ apiServerIssuer: document.issuer, issuer: this.tuning.issuer },
          'the API server\'s service account issuer is not issuance.kubernetes.issuer; its tokens will be refused');
      }
    } catch (err) {
      this.logger.debug({ reason: describeError(err) }, 'cannot read /.well-known/openid-configuration; the issuer is not checked');
    }
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.closed) return;
    const wait = this.failures === 0 ? this.tuning.refreshMs
      : Math.min(this.tuning.refreshMs, this.tuning.maxBackoffMs, this.tuning.minBackoffMs * 2 ** (this.failures - 1));
    this.timer = setTimeout(() => void this.refresh(), wait);
    this.timer.unref();
  }
}
