import { createHash } from 'node:crypto';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { CausewayError, ErrorCodes, describeError, silentLogger, type Logger } from '../../registry/index.js';
import type { CertificateAuthority } from '../../federation/index.js';
import { SECRET_KEYS, intermediateOfSecret, secretName, type SecretRef } from './secret-intermediate.js';
import { SecretWatch, type SecretWatchOptions, type SecretWatchStatus } from './secret-watch.js';

export interface CaSecretRenewalsOptions {
  ca: CertificateAuthority;
  ref: SecretRef;
  kubeConfig: KubeConfig;
  logger?: Logger;
  /** Backoff and watch timeout of the Secret watch (tests shorten them). */
  watch?: Pick<SecretWatchOptions, 'minBackoffMs' | 'maxBackoffMs' | 'watchTimeoutSeconds' | 'requestTimeoutMs'>;
}

/** How the CA stands with the Secret it signs from (GET /v1/status → trust.intermediate). */
export interface IntermediateSourceStatus {
  source: string;
  /**
   * unknown: not read yet (the API server did not answer); current: the CA signs with what the
   * Secret holds, or is about to (publish window); refused: the Secret's content was refused
   * (lastRefusal says why) and the CA signs with what it held; deleted: the Secret is gone.
   */
  state: 'unknown' | 'current' | 'refused' | 'deleted';
  watch: SecretWatchStatus;
  lastRenewal?: { at: string; authority: number; state: string; signsFrom?: string };
  lastRefusal?: { at: string; code: string; reason: string };
}

/**
 * The CA follows the Secret its operator intermediate comes from (trust.intermediate.secret):
 * when cert-manager (or anyone) renews the certificate and key in it, the renewed intermediate
 * is adopted as `causeway trust rotate` would adopt it — under a root already published it
 * signs at once, under a new root only after the publish window — with no operator command.
 * Content that fails any check (a key missing, not PEM, a key that does not match, no chain to
 * ca.crt, not exactly the URI SAN spiffe://<trustDomain>) is refused whole with
 * CW_CA_RENEWAL_REFUSED, logged and shown in status; nothing changes. A deleted Secret changes
 * nothing either: the CA signs with what it holds until that expires.
 */
export class CaSecretRenewals {
  private readonly logger: Logger;
  private readonly watch: SecretWatch;
  private readonly where: string;
  /** Digest of the Secret content last handled: a change to labels or annotations only is none. */
  private handled: string | undefined;
  private state: IntermediateSourceStatus['state'] = 'unknown';
  private lastRenewal: IntermediateSourceStatus['lastRenewal'];
  private lastRefusal: IntermediateSourceStatus['lastRefusal'];

  constructor(private readonly options: CaSecretRenewalsOptions) {
    this.where = secretName(options.ref);
    this.logger = (options.logger ?? silentLogger()).child({ component: 'ca-secret-renewals', secret: `${options.ref.namespace}/${options.ref.name}` });
    this.watch = new SecretWatch({
      kubeConfig: options.kubeConfig, namespace: options.ref.namespace, name: options.ref.name, logger: options.logger,
      onSecret: (secret) => this.onSecret(secret),
      onAbsent: (how) => this.onAbsent(how),
      ...options.watch,
    });
  }

  start(): void {
    this.watch.start();
  }

  close(): Promise<void> {
    return this.watch.close();
  }

  status(): IntermediateSourceStatus {
    return {
      source: this.where, state: this.state, watch: this.watch.status(),
      ...(this.lastRenewal === undefined ? {} : { lastRenewal: this.lastRenewal }),
      ...(this.lastRefusal === undefined ? {} : { lastRefusal: this.lastRefusal }),
    };
  }

  private async onSecret(secret: V1Secret): Promise<void> {
    const digest = contentDigest(secret);
    if (digest === this.handled) return;
    this.handled = digest;
    let adopted;
    try {
      adopted = await this.options.ca.adoptSupplied(intermediateOfSecret(this.options.ref, secret));
    } catch (err) {
      // A CA closing under us is the gateway stopping, not a refusal.
      if (err instanceof CausewayError && err.code === ErrorCodes.CLOSED) return;
      const refusal = new CausewayError(ErrorCodes.CA_RENEWAL_REFUSED,
        `the renewed intermediate in ${this.where} was refused: ${describeError(err)}; the CA keeps signing with the authority it holds`, { cause: err });
      this.state = 'refused';
      this.lastRefusal = { at: new Date().toISOString(), code: refusal.code, reason: refusal.message };
      this.logger.error({ code: refusal.code, reason: describeError(err), resourceVersion: secret.metadata?.resourceVersion }, refusal.message);
      return;
    }
    this.state = 'current';
    if (adopted === undefined) return;
    const newest = adopted.authorities.reduce((a, b) => (b.id > a.id ? b : a));
    this.lastRenewal = {
      at: new Date().toISOString(), authority: newest.id, state: newest.state,
      ...(newest.activateAt === undefined ? {} : { signsFrom: newest.activateAt }),
    };
    this.logger.info({ authority: newest.id, state: newest.state, signsFrom: newest.activateAt, sequence: adopted.sequence, resourceVersion: secret.metadata?.resourceVersion },
      newest.state === 'active' ? 'renewed intermediate adopted from the Secret; it signs now' : 'renewed intermediate adopted from the Secret; it signs after the publish window');
  }

  private onAbsent(how: 'deleted' | 'not found'): void {
    // A re-created Secret is handled afresh, even with the same content.
    this.handled = undefined;
    this.state = 'deleted';
    const active = this.options.ca.status().authorities.find((a) => a.state === 'active');
    this.logger.warn({ how, authority: active?.id, expires: active?.notAfter },
      `${this.where} ${how === 'deleted' ? 'was deleted' : 'is not found'}; the CA keeps signing with the intermediate it holds until it expires`);
  }
}

/** What decides a renewal: the three keys' values (metadata, labels and annotations do not). */
function contentDigest(secret: V1Secret): string {
  const hash = createHash('sha256');
  for (const key of Object.values(SECRET_KEYS)) hash.update(`${key}\0${secret.data?.[key] ?? ''}\0`);
  return hash.digest('hex');
}
