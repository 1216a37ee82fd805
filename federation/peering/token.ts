import { CausewayError, ErrorCodes, NAME_PATTERN, describeError } from '../../registry/index.js';
import { decodeBundle, isValidTrustDomain } from '../trust/index.js';
import {
  checkPayload, checkTokenMac, decodeTokenText, formatTokenText, newTokenId, newTokenSecret, secretHash, sha256Hex, type MintedToken,
} from '../tokens/index.js';
import { hostPortProblem } from './address.js';

/**
 * Peering tokens: `cwpt1.<payload>.<mac>` (federation/tokens/token-codec.ts has the format
 * and what the MAC does and does not protect). Beyond the issuer's payload digest, the
 * redeemer pins its TLS connection to the bundle carried in the token, so an edited address
 * or bundle cannot lead it to an impostor that the issuer's key does not back.
 */

export const TOKEN_PREFIX = 'cwpt1';

/** The JSON payload, field for field. Times are Unix seconds. */
export interface PeeringTokenPayload {
  v: 1;
  /** Random 16 bytes, hex: the issuer's handle for this token. */
  id: string;
  /** Random 32 bytes, base64url: the one-time secret. */
  secret: string;
  /** The issuer's cluster, trust domain and advertised federation address. */
  cluster: string;
  trustDomain: string;
  federationAddress: string;
  /** The issuer's SPIFFE trust bundle (JSON document). */
  bundle: string;
  iat: number;
  exp: number;
}

/** A parsed, locally checked token. */
export interface PeeringToken extends PeeringTokenPayload {
  /** sha256 (hex) of the payload bytes exactly as carried in the token. */
  payloadDigest: string;
}

export interface CreatedToken {
  text: string;
  payload: PeeringTokenPayload;
  /** What the issuer records: id, sha256 of the secret (never the secret), payload digest, expiry. */
  minted: MintedToken;
}

export interface CreateTokenOptions {
  cluster: string;
  trustDomain: string;
  federationAddress: string;
  /** The issuer's SPIFFE trust bundle JSON. */
  bundle: string;
  ttlSeconds: number;
  /** Current time, ms since the epoch (Date.now()). */
  now: number;
}

/** Mints a token. The caller (TokenIssuer) records `minted`. */
export function createPeeringToken(options: CreateTokenOptions): CreatedToken {
  if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 1) {
    throw new CausewayError(ErrorCodes.USAGE, `ttlSeconds: ${String(options.ttlSeconds)} is not a positive whole number of seconds`);
  }
  const iat = Math.floor(options.now / 1000);
  const payload: PeeringTokenPayload = {
    v: 1,
    id: newTokenId(),
    secret: newTokenSecret(),
    cluster: options.cluster,
    trustDomain: options.trustDomain,
    federationAddress: options.federationAddress,
    bundle: options.bundle,
    iat,
    exp: iat + options.ttlSeconds,
  };
  // Refuse to mint what parsePeeringToken would refuse: a bad address or bundle fails here.
  const problems = payloadProblems(payload as unknown as Record<string, unknown>);
  if (problems.length > 0) throw new CausewayError(ErrorCodes.USAGE, `cannot mint a peering token: ${problems[0]}`, { details: problems });
  const bytes = Buffer.from(JSON.stringify(payload), 'utf8');
  return {
    text: formatToken(bytes, payload.secret),
    payload,
    minted: { id: payload.id, secretHash: secretHash(payload.secret), payloadDigest: sha256Hex(bytes), exp: payload.exp },
  };
}

/** Assembles `cwpt1.<payload>.<mac>` for the given payload bytes (tests use it to re-MAC). */
export function formatToken(payloadBytes: Buffer, secret: string): string {
  return formatTokenText(TOKEN_PREFIX, payloadBytes, secret);
}

/**
 * Parses and checks a token locally: format, every field, MAC, expiry — all before any
 * network I/O. `now` is ms since the epoch. Errors: CW_TOKEN_MALFORMED (naming the part or
 * field), CW_TOKEN_TAMPERED (MAC mismatch), CW_TOKEN_EXPIRED.
 */
export function parsePeeringToken(text: string, now: number): PeeringToken {
  const decoded = decodeTokenText(text, TOKEN_PREFIX, 'peering');
  const problems = payloadProblems(decoded.payload);
  if (problems.length > 0) {
    throw new CausewayError(ErrorCodes.TOKEN_MALFORMED, `peering token ${problems[0]}`, { details: problems });
  }
  const payload = decoded.payload as unknown as PeeringTokenPayload;
  checkTokenMac(decoded, payload.secret, 'peering');
  if (Math.floor(now / 1000) >= payload.exp) {
    throw new CausewayError(ErrorCodes.TOKEN_EXPIRED, `peering token expired at ${new Date(payload.exp * 1000).toISOString()}`);
  }
  return {
    v: 1,
    id: payload.id,
    secret: payload.secret,
    cluster: payload.cluster,
    trustDomain: payload.trustDomain,
    federationAddress: payload.federationAddress,
    bundle: payload.bundle,
    iat: payload.iat,
    exp: payload.exp,
    payloadDigest: sha256Hex(decoded.payloadBytes),
  };
}

const PAYLOAD_FIELDS = ['v', 'id', 'secret', 'cluster', 'trustDomain', 'federationAddress', 'bundle', 'iat', 'exp'];

/** Every problem of a payload object, each naming its field. */
function payloadProblems(p: Record<string, unknown>): string[] {
  const { field, str, finish } = checkPayload(p);
  const cluster = str('cluster');
  if (cluster !== undefined && !NAME_PATTERN.test(cluster)) field('cluster', `"${cluster}" is not a DNS-1123 label`);
  const trustDomain = str('trustDomain');
  if (trustDomain !== undefined && !isValidTrustDomain(trustDomain)) field('trustDomain', `"${trustDomain}" is not a valid trust domain`);
  const address = str('federationAddress');
  if (address !== undefined) {
    const problem = hostPortProblem(address);
    if (problem !== undefined) field('federationAddress', problem);
  }
  const bundle = str('bundle');
  if (bundle !== undefined && trustDomain !== undefined && isValidTrustDomain(trustDomain)) {
    try {
      decodeBundle(trustDomain, bundle);
    } catch (err) {
      field('bundle', `is not a SPIFFE trust bundle: ${describeError(err)}`);
    }
  }
  return finish(PAYLOAD_FIELDS);
}
