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

export interface ServiceAccountTokenVerifierOptions {
  /** `iss` the cluster puts in its tokens (`--service-account-issuer`). */
  issuer: string;
  /** The audience workloads request for Causeway (projected volume `audience`). */
  audience: string;
  /** The issuer's JWKS: `kubectl get --raw /openid/v1/jwks`. */
  jwks: JwksDocument | string;
  now?: () => number;
}

const MAX_TOKEN_BYTES = 16 * 1024;
const LEEWAY_SECONDS = 60;
/** RFC 7518 §3.1: the algorithms a service account issuer uses; never `none` or HMAC. */
const ALGORITHMS: Record<string, { digest: string; dsaEncoding?: 'ieee-p1363'; kty: string }> = {
  RS256: { digest: 'sha256', kty: 'RSA' },
  ES256: { digest: 'sha256', dsaEncoding: 'ieee-p1363', kty: 'EC' },
};
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function refused(reason: string): CausewayError {
  return new CausewayError(ErrorCodes.SA_TOKEN_INVALID, `service account token refused: ${reason}`);
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
 * Verifies Kubernetes projected service account tokens (JWT, RFC 7519) offline against
 * the cluster's service-account issuer keys (Kubernetes "Service Account Issuer
 * Discovery"): signature, issuer, audience, validity window, and the subject
 * `system:serviceaccount:<namespace>:<name>`. The token only ever maps to that account.
 */
export class ServiceAccountTokenVerifier {
  private readonly keys = new Map<string, { key: KeyObject; kty: string }>();
  private readonly now: () => number;

  constructor(private readonly options: ServiceAccountTokenVerifierOptions) {
    this.now = options.now ?? Date.now;
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
    keys.forEach((jwk, i) => {
      if (typeof jwk?.kid !== 'string' || (jwk.kty !== 'RSA' && jwk.kty !== 'EC')) return;
      try {
        this.keys.set(jwk.kid, { key: createPublicKey({ key: jwk, format: 'jwk' } as JsonWebKeyInput), kty: jwk.kty });
      } catch (err) {
        throw new CausewayError(ErrorCodes.CONFIG_INVALID, `service account JWKS keys[${i}] is unusable: ${describeError(err)}`);
      }
    });
    if (this.keys.size === 0) throw new CausewayError(ErrorCodes.CONFIG_INVALID, 'service account JWKS has no usable RSA or EC key with a "kid"');
  }

  verify(jwt: string): ServiceAccount {
    if (jwt.length > MAX_TOKEN_BYTES) throw refused(`longer than ${MAX_TOKEN_BYTES} bytes`);
    const parts = jwt.split('.');
    if (parts.length !== 3) throw refused(`has ${parts.length} parts, a JWS compact token has 3`);
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
    const header = decodePart(headerPart, 'header');
    const algorithm = ALGORITHMS[String(header.alg)];
    if (algorithm === undefined) throw refused(`algorithm ${JSON.stringify(header.alg)} is not accepted (RS256 or ES256)`);
    if (typeof header.kid !== 'string') throw refused('header has no "kid"');
    const key = this.keys.get(header.kid);
    if (key === undefined) throw refused(`key "${header.kid}" is not in the issuer's JWKS`);
    if (key.kty !== algorithm.kty) throw refused(`key "${header.kid}" is ${key.kty}, not usable with ${String(header.alg)}`);
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
    if (claims.exp + LEEWAY_SECONDS <= nowSeconds) throw refused(`expired at ${new Date(claims.exp * 1000).toISOString()}`);
    for (const claim of ['nbf', 'iat'] as const) {
      const value = claims[claim];
      if (value !== undefined && (typeof value !== 'number' || value - LEEWAY_SECONDS > nowSeconds)) throw refused(`"${claim}" is in the future`);
    }
    const sub = typeof claims.sub === 'string' ? /^system:serviceaccount:([^:]+):([^:]+)$/.exec(claims.sub) : null;
    if (sub === null) throw refused(`subject ${JSON.stringify(claims.sub)} is not system:serviceaccount:<namespace>:<name>`);
    const [, namespace = '', serviceAccount = ''] = sub;
    if (!NAME.test(namespace) || !NAME.test(serviceAccount)) throw refused(`subject ${claims.sub} has a namespace or name that is not a DNS-1123 name`);
    const k8s = claims['kubernetes.io'] as { namespace?: unknown; serviceaccount?: { name?: unknown }; pod?: { name?: unknown } } | undefined;
    if (k8s !== undefined && (k8s.namespace !== namespace || k8s.serviceaccount?.name !== serviceAccount)) {
      throw refused('the kubernetes.io claim disagrees with the subject');
    }
    const podName = typeof k8s?.pod?.name === 'string' ? k8s.pod.name : undefined;
    return { namespace, serviceAccount, expiresAt: new Date(claims.exp * 1000), ...(podName === undefined ? {} : { podName }) };
  }
}
