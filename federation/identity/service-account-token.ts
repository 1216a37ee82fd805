import { createPublicKey, verify, type JsonWebKeyInput, type KeyObject } from 'node:crypto';
import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';

/** The claims of a Kubernetes projected service account token that matter here. */
export interface ServiceAccount {
  namespace: string;
  serviceAccount: string;
  podName?: string;
  expiresAt: Date;
}

export interface JwksDocument {
  keys: Array<Record<string, unknown>>;
}

/**
 * What the workload issuer asks of a service account token checker: this verifier with a
 * fixed key set, or one that keeps its key set current (the gateway's API server JWKS).
 */
export interface ServiceAccountVerifier {
  verify(jwt: string): ServiceAccount | Promise<ServiceAccount>;
}

export interface ServiceAccountTokenVerifierOptions {
  /** `iss` the cluster puts in its tokens (`--service-account-issuer`). */
  issuer: string;
  /** The audience workloads request for Causeway (projected volume `audience`). */
  audience: string;
  /** The issuer's JWKS: `kubectl get --raw /openid/v1/jwks`. */
  jwks: JwksDocument | string;
  now?: () => number;
  /**
   * Longest lifetime (`exp` − `iat`) accepted, default 24 h. Projected tokens live 1 h by
   * default; a long-lived token is a standing credential if it leaks.
   */
  maxTokenTtlSeconds?: number;
}

const MAX_TOKEN_BYTES = 16 * 1024;
const LEEWAY_SECONDS = 60;
const DEFAULT_MAX_TTL_SECONDS = 24 * 3600;
/** RFC 7518 §3.1: the algorithms a service account issuer uses; never `none` or HMAC. */
const ALGORITHMS = new Map<string, { digest: string; dsaEncoding?: 'ieee-p1363'; kty: string }>([
  ['RS256', { digest: 'sha256', kty: 'RSA' }],
  // RFC 7518 §3.4: ES256 is ECDSA on P-256 with SHA-256, the signature r||s (not DER).
  ['ES256', { digest: 'sha256', dsaEncoding: 'ieee-p1363', kty: 'EC' }],
]);
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function refused(reason: string): CausewayError {
  return new CausewayError(ErrorCodes.SA_TOKEN_INVALID, `service account token refused: ${reason}`);
}

/** A NumericDate (RFC 7519 §2) for a message; out-of-range values are shown as they are. */
function timeOf(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? `${seconds} s after the epoch` : date.toISOString();
}

function decodePart(part: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) throw refused(`${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw refused(`${what} is not JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw refused(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * The key ID and issuer a token names, read without checking anything (undefined when it is
 * not a JWS compact token with a JSON header and payload): whether asking the issuer for its
 * current keys could help, before the token is verified.
 */
export function peekToken(jwt: string): { kid: string; issuer: unknown } | undefined {
  if (typeof jwt !== 'string' || jwt.length > MAX_TOKEN_BYTES) return undefined;
  const [headerPart = '', payloadPart = '', ...rest] = jwt.split('.');
  if (rest.length !== 1) return undefined;
  try {
    const header = decodePart(headerPart, 'header');
    const claims = decodePart(payloadPart, 'payload');
    return typeof header.kid === 'string' ? { kid: header.kid, issuer: claims.iss } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies Kubernetes projected service account tokens (JWT, RFC 7519) offline against
 * the cluster's service-account issuer keys (Kubernetes "Service Account Issuer
 * Discovery"): signature, issuer, audience, validity window, and the subject
 * `system:serviceaccount:<namespace>:<name>`. The token only ever maps to that account.
 */
export class ServiceAccountTokenVerifier implements ServiceAccountVerifier {
  private readonly keys = new Map<string, { key: KeyObject; kty: string; unusable?: string }>();
  private readonly now: () => number;
  private readonly maxTtlSeconds: number;

  constructor(private readonly options: ServiceAccountTokenVerifierOptions) {
    this.now = options.now ?? Date.now;
    this.maxTtlSeconds = options.maxTokenTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS;
    if (!Number.isInteger(this.maxTtlSeconds) || this.maxTtlSeconds <= 0) {
      throw new CausewayError(ErrorCodes.CONFIG_INVALID, 'service account maxTokenTtlSeconds must be a positive whole number');
    }
    let jwks: unknown = options.jwks;
    if (typeof jwks === 'string') {
      try {
        jwks = JSON.parse(jwks);
      } catch {
        throw new CausewayError(ErrorCodes.CONFIG_INVALID, 'service account JWKS is not JSON');
      }
    }
    const keys = (jwks as JwksDocument | null)?.keys;
    if (!Array.isArray(keys)) throw new CausewayError(ErrorCodes.CONFIG_INVALID, 'service account JWKS has no "keys" list');
    keys.forEach((jwk: unknown, i) => {
      if (jwk === null || typeof jwk !== 'object') return;
      const { kid, kty } = jwk as { kid?: unknown; kty?: unknown };
      if (typeof kid !== 'string' || (kty !== 'RSA' && kty !== 'EC')) return;
      let key: KeyObject;
      try {
        key = createPublicKey({ key: jwk, format: 'jwk' } as JsonWebKeyInput);
      } catch (err) {
        throw new CausewayError(ErrorCodes.CONFIG_INVALID, `service account JWKS keys[${i}] is unusable: ${describeError(err)}`);
      }
      // Keys the cluster may publish but RS256/ES256 cannot use (small RSA, ES384/ES512 curves)
      // stay known by kid, so a token signed with one is refused naming the key.
      const details = key.asymmetricKeyDetails ?? {};
      const unusable = kty === 'RSA'
        ? ((details.modulusLength ?? 0) < 2048 ? `an RSA key of ${details.modulusLength ?? 0} bits (2048 or more)` : undefined)
        : (details.namedCurve !== 'prime256v1' ? `on curve ${details.namedCurve ?? 'unknown'} (ES256 needs P-256)` : undefined);
      this.keys.set(kid, { key, kty, ...(unusable === undefined ? {} : { unusable }) });
    });
    if (![...this.keys.values()].some((k) => k.unusable === undefined)) {
      throw new CausewayError(ErrorCodes.CONFIG_INVALID, 'service account JWKS has no usable key with a "kid" (RSA of 2048 bits or more, or EC P-256)');
    }
  }

  /** Whether the key set has a key with this ID (usable or not). */
  hasKey(kid: string): boolean {
    return this.keys.has(kid);
  }

  /** The key IDs of the key set, in its order. */
  keyIds(): string[] {
    return [...this.keys.keys()];
  }

  verify(jwt: string): ServiceAccount {
    if (typeof jwt !== 'string') throw refused('not a string');
    if (jwt.length > MAX_TOKEN_BYTES) throw refused(`longer than ${MAX_TOKEN_BYTES} bytes`);
    const parts = jwt.split('.');
    if (parts.length !== 3) throw refused(`has ${parts.length} parts, a JWS compact token has 3`);
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
    const header = decodePart(headerPart, 'header');
    const algorithm = typeof header.alg === 'string' ? ALGORITHMS.get(header.alg) : undefined;
    if (algorithm === undefined) throw refused(`algorithm ${JSON.stringify(header.alg)} is not accepted (RS256 or ES256)`);
    if (typeof header.kid !== 'string') throw refused('header has no "kid"');
    const key = this.keys.get(header.kid);
    if (key === undefined) throw refused(`key "${header.kid}" is not in the issuer's JWKS`);
    if (key.kty !== algorithm.kty) throw refused(`key "${header.kid}" is ${key.kty}, not usable with ${String(header.alg)}`);
    if (key.unusable !== undefined) throw refused(`key "${header.kid}" is ${key.unusable}`);
    if (!/^[A-Za-z0-9_-]+$/.test(signaturePart)) throw refused('signature is not base64url');
    const signed = Buffer.from(`${headerPart}.${payloadPart}`);
    const signature = Buffer.from(signaturePart, 'base64url');
    const ok = verify(algorithm.digest, signed, algorithm.dsaEncoding === undefined ? key.key : { key: key.key, dsaEncoding: algorithm.dsaEncoding }, signature);
    if (!ok) throw refused('the signature does not verify');

    const claims = decodePart(payloadPart, 'payload');
    if (claims.iss !== this.options.issuer) throw refused(`issuer ${JSON.stringify(claims.iss)} is not ${this.options.issuer}`);
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(this.options.audience)) throw refused(`audience ${JSON.stringify(claims.aud)} does not include ${this.options.audience}`);
    const nowSeconds = Math.floor(this.now() / 1000);
    if (typeof claims.exp !== 'number') throw refused('"exp" is missing');
    if (claims.exp + LEEWAY_SECONDS <= nowSeconds) throw refused(`expired at ${timeOf(claims.exp)}`);
    for (const claim of ['nbf', 'iat'] as const) {
      const value = claims[claim];
      if (value !== undefined && typeof value !== 'number') throw refused(`"${claim}" is not a number`);
      if (value !== undefined && value - LEEWAY_SECONDS > nowSeconds) throw refused(`"${claim}" is in the future`);
    }
    const issuedAt = typeof claims.iat === 'number' ? claims.iat : nowSeconds;
    if (claims.exp - issuedAt > this.maxTtlSeconds) throw refused(`lives ${claims.exp - issuedAt} s, more than the ${this.maxTtlSeconds} s accepted`);
    const sub = typeof claims.sub === 'string' ? /^system:serviceaccount:([^:]+):([^:]+)$/.exec(claims.sub) : null;
    if (sub === null) throw refused(`subject ${JSON.stringify(claims.sub)} is not system:serviceaccount:<namespace>:<name>`);
    const [, namespace = '', serviceAccount = ''] = sub;
    if (!NAME.test(namespace) || !NAME.test(serviceAccount)) throw refused(`subject ${claims.sub} has a namespace or name that is not a DNS-1123 name`);
    const raw = claims['kubernetes.io'];
    if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) throw refused('the kubernetes.io claim is not an object');
    const k8s = raw as { namespace?: unknown; serviceaccount?: { name?: unknown } | null; pod?: { name?: unknown } | null } | undefined;
    if (k8s !== undefined && (k8s.namespace !== namespace || k8s.serviceaccount?.name !== serviceAccount)) {
      throw refused('the kubernetes.io claim disagrees with the subject');
    }
    const podName = typeof k8s?.pod?.name === 'string' ? k8s.pod.name : undefined;
    return { namespace, serviceAccount, expiresAt: new Date(claims.exp * 1000), ...(podName === undefined ? {} : { podName }) };
  }
}
