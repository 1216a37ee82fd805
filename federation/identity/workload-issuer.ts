import { CausewayError, ErrorCodes, describeError, silentLogger, type Logger, type Store } from '../../registry/index.js';
import { TokenIssuer } from '../tokens/index.js';
import {
  encodeBundle, matchSpiffePattern, parseCsr, parseSpiffeId, type CertificateAuthority, type PeerIdentity, type TrustReader,
} from '../trust/index.js';
import { createJoinToken, grantProblem, parseJoinToken } from './join-token.js';
import { RateLimiter, type RateLimit } from './rate-limiter.js';
import type { ServiceAccountVerifier } from './service-account-token.js';

/** How the caller proves what it may be issued. */

/** A host name as `token create --agent` takes it (RFC 1123 labels, lower case). */
const AGENT_HOST = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

export type IssuanceCredential =
  | { kind: 'join-token'; token: string }
  | { kind: 'service-account'; jwt: string }
  /** Renewal: the caller's current SVID, verified by the TLS layer against our own bundle. */
  | { kind: 'svid'; peer: PeerIdentity };

export interface IssueRequest {
  csrPem: string;
  /** The identity asked for; defaults to the CSR's URI SAN, then to an exact grant. */
  spiffeId?: string;
  ttlSeconds?: number;
  credential: IssuanceCredential;
  /** The caller's address: the rate limiter's key, and for logs. */
  client: string;
}

export interface IssuedSvid {
  spiffeId: string;
  /** Leaf first, then any intermediates. */
  certChainPem: string;
  /** Our trust domain's SPIFFE bundle. */
  bundle: string;
  /** Bundles of federated trust domains, by trust domain (never merged with ours). */
  federatedBundles: Record<string, string>;
  /** The host a join token was minted for (`token create --agent HOST`), when it was. */
  agent?: string;
  expiresAt: string;
}

export interface WorkloadIssuerOptions {
  ca: CertificateAuthority;
  trust: TrustReader;
  store: Store;
  /** The identity listener's advertised host:port, put into join tokens. */
  address: () => string;
  logger?: Logger;
  now?: () => number;
  /** Default workload SVID TTL (default 1 h) and the most a caller may ask for. */
  defaultTtlSeconds?: number;
  maxTtlSeconds?: number;
  rateLimit?: RateLimit;
  /** Checks Kubernetes service account tokens (a fixed key set, or one kept current from the API server). */
  serviceAccounts?: ServiceAccountVerifier;
}

const MAX_JOIN_TOKEN_TTL_SECONDS = 7 * 86400;

/**
 * CSR-based SVID issuance for agents and in-cluster workloads: the private key never
 * leaves the requester. A request is authorised by a one-time join token, a Kubernetes
 * service account token, or (renewal) the caller's current SVID, and is limited to the
 * identity that credential grants. Everything is checked BEFORE a join token is spent, so a
 * refused request leaves the token usable and issues nothing.
 */
export class WorkloadIssuer {
  private readonly tokens: TokenIssuer;
  private readonly limiter: RateLimiter;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly defaultTtl: number;
  private readonly maxTtl: number;

  constructor(private readonly options: WorkloadIssuerOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'issuance' });
    this.now = options.now ?? Date.now;
    this.tokens = new TokenIssuer({ store: options.store, name: 'join-tokens', kind: 'join', logger: this.logger });
    this.limiter = new RateLimiter(options.rateLimit ?? { perSecond: 5, burst: 20 }, { now: this.now });
    this.maxTtl = options.maxTtlSeconds ?? 86400;
    this.defaultTtl = Math.min(options.defaultTtlSeconds ?? 3600, this.maxTtl);
  }

  /** Mints a one-time join token for `identity` (exact SPIFFE ID or `.../*` pattern). */
  async createJoinToken(options: { identity: string; ttlSeconds: number; agent?: string }): Promise<{ token: string; expiresAt: string; agent?: string }> {
    const problem = grantProblem(options.identity, this.options.ca.trustDomain);
    if (problem !== undefined) throw new CausewayError(ErrorCodes.USAGE, `identity: ${problem}`);
    if (options.agent !== undefined && !AGENT_HOST.test(options.agent)) {
      throw new CausewayError(ErrorCodes.USAGE, `agent: "${options.agent.slice(0, 100)}" is not a host name (lower-case letters, digits, "-" and ".", up to 253)`);
    }
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 1 || options.ttlSeconds > MAX_JOIN_TOKEN_TTL_SECONDS) {
      throw new CausewayError(ErrorCodes.USAGE, `ttl: must be from 1 s to ${MAX_JOIN_TOKEN_TTL_SECONDS / 86400} days`);
    }
    const now = this.now();
    const created = await this.tokens.issue(() => createJoinToken({
      trustDomain: this.options.ca.trustDomain, address: this.options.address(), bundle: this.ownBundle(), identity: options.identity,
      ttlSeconds: options.ttlSeconds, now,
    }), { grant: options.identity, ...(options.agent === undefined ? {} : { agent: options.agent }) }, now);
    this.logger.info({ tokenId: created.payload.id, identity: options.identity, agent: options.agent, exp: created.payload.exp }, 'join token created');
    return { token: created.text, expiresAt: new Date(created.payload.exp * 1000).toISOString(), ...(options.agent === undefined ? {} : { agent: options.agent }) };
  }

  /** Takes one request's share of `client`'s rate limit; call as soon as a request arrives (CW_RATE_LIMITED). */
  admit(client: string): void {
    this.limiter.take(client);
  }

  /** Issues an SVID; the caller has admitted the request (admit) first. */
  async issue(request: IssueRequest): Promise<IssuedSvid> {
    const now = this.now();
    const { credential } = request;
    let grant: string;
    let agentHost: string | undefined;
    let spend: ((spiffeId: string) => Promise<() => Promise<void>>) | undefined;
    if (credential.kind === 'join-token') {
      const token = parseJoinToken(credential.token, now);
      if (token.trustDomain !== this.options.ca.trustDomain) {
        throw new CausewayError(ErrorCodes.TOKEN_UNKNOWN, `the join token is for trust domain ${token.trustDomain}, not ${this.options.ca.trustDomain}`);
      }
      const record = await this.tokens.check(token.id, token.secret, token.payloadDigest, now);
      grant = record.grant ?? token.identity;
      agentHost = record.agent;
      spend = async (spiffeId) => {
        await this.tokens.redeem(token.id, token.secret, token.payloadDigest, now, spiffeId);
        return () => this.tokens.release(token.id);
      };
    } else if (credential.kind === 'service-account') {
      if (this.options.serviceAccounts === undefined) {
        throw new CausewayError(ErrorCodes.SA_TOKEN_INVALID, 'this gateway does not accept Kubernetes service account tokens (issuance.kubernetes is not configured)');
      }
      const account = await this.options.serviceAccounts.verify(credential.jwt);
      grant = `spiffe://${this.options.ca.trustDomain}/ns/${account.namespace}/sa/${account.serviceAccount}`;
    } else {
      if (credential.peer.trustDomain !== this.options.ca.trustDomain) {
        throw new CausewayError(ErrorCodes.IDENTITY_NOT_GRANTED, `${credential.peer.spiffeId} is not of trust domain ${this.options.ca.trustDomain}; renew it where it was issued`);
      }
      grant = credential.peer.spiffeId;
    }

    const csr = parseCsr(request.csrPem);
    const spiffeId = this.identityAsked(request, csr.requestedUris, grant);
    if (!matchSpiffePattern(grant, spiffeId) || parseSpiffeId(spiffeId).path.startsWith('/gateway/')) {
      throw new CausewayError(ErrorCodes.IDENTITY_NOT_GRANTED, `${spiffeId} is outside what this credential grants (${grant})`);
    }
    const ttlSeconds = request.ttlSeconds ?? this.defaultTtl;
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > this.maxTtl) {
      throw new CausewayError(ErrorCodes.USAGE, `ttlSeconds: must be a whole number from 60 to ${this.maxTtl}`);
    }
    const release = spend === undefined ? undefined : await spend(spiffeId);
    let issued;
    try {
      // DNS SANs a CSR asks for are ignored: a credential grants a SPIFFE ID, not host names,
      // and a name-checking client (curl, Envoy SAN match) must not be fooled by a workload.
      issued = this.options.ca.issueSvid({ spiffeId, publicKey: csr.publicKey, ttlSeconds });
    } catch (err) {
      await release?.().catch((releaseErr: unknown) => this.logger.error({ reason: describeError(releaseErr) }, 'cannot release the join token'));
      throw err;
    }
    this.logger.info({ spiffeId, via: credential.kind, agent: agentHost, client: request.client, notAfter: issued.notAfter.toISOString() }, 'workload SVID issued');
    const federatedBundles: Record<string, string> = {};
    for (const td of this.options.trust.trustDomains()) {
      const bundle = this.options.trust.get(td);
      if (td !== this.options.ca.trustDomain && bundle !== undefined) federatedBundles[td] = encodeBundle(bundle);
    }
    return {
      spiffeId, certChainPem: issued.certChainPem, bundle: this.ownBundle(), federatedBundles, expiresAt: issued.notAfter.toISOString(),
      ...(agentHost === undefined ? {} : { agent: agentHost }),
    };
  }

  private identityAsked(request: IssueRequest, csrUris: readonly string[], grant: string): string {
    if (csrUris.length > 1) throw new CausewayError(ErrorCodes.CSR_INVALID, `the CSR asks for ${csrUris.length} URI SANs; an X509-SVID has exactly one`);
    const asked = request.spiffeId ?? csrUris[0] ?? (grant.endsWith('/*') ? undefined : grant);
    if (asked === undefined) {
      throw new CausewayError(ErrorCodes.IDENTITY_NOT_GRANTED, `the credential grants ${grant}; name the identity you want (spiffeId, or a URI SAN in the CSR)`);
    }
    const id = parseSpiffeId(asked).uri;
    if (csrUris[0] !== undefined && csrUris[0] !== id) {
      throw new CausewayError(ErrorCodes.CSR_INVALID, `the CSR asks for ${csrUris[0]} but the request names ${id}`);
    }
    return id;
  }

  private ownBundle(): string {
    return encodeBundle(this.options.trust.get(this.options.ca.trustDomain) ?? this.options.ca.bundle());
  }
}
