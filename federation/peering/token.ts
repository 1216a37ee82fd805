import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CausewayError, ErrorCodes, NAME_PATTERN, describeError } from '../../registry/index.js';
import { decodeBundle, isValidTrustDomain } from '../trust/index.js';
import { hostPortProblem } from './address.js';

/**
 * Peering tokens: `cwpt1.<base64url(JSON payload)>.<base64url(HMAC-SHA256(secret, payload bytes))>`.
 *
 * What protects what:
 * - The MAC is keyed by the secret that travels INSIDE the token, so it only catches
 *   accidental edits (a truncated paste, a flipped byte): whoever holds the token holds the
 *   secret and can re-MAC an edited payload.
 * - Real tamper protection is twofold: (a) the redeemer pins its TLS connection to the
 *   bundle carried in the token, so an edited address or bundle cannot lead it to an
 *   impostor that the issuer's key does not back; (b) the issuer stores sha256(payload) of
 *   what it minted and refuses a redemption whose payload digest differs (CW_TOKEN_TAMPERED),
 *   so an edited expiry or identity is caught at the source.
 * - The issuer keeps only sha256(secret), never the secret itself.
 */

export const TOKEN_PREFIX = 'cwpt1';
const SECRET_BYTES = 32;
const ID_BYTES = 16;

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
  payloadDigest: string;
  /** sha256 (hex) of the secret's bytes: what the issuer stores instead of the secret. */
  secretHash: string;
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

/** Mints a token. The caller (TokenIssuer) records its id, secret hash and payload digest. */
export function createPeeringToken(options: CreateTokenOptions): CreatedToken {
  if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 1) {
    throw new CausewayError(ErrorCodes.USAGE, `ttlSeconds: ${String(options.ttlSeconds)} is not a positive whole number of seconds`);
  }
  const iat = Math.floor(options.now / 1000);
  const payload: PeeringTokenPayload = {
    v: 1,
    id: randomBytes(ID_BYTES).toString('hex'),
    secret: randomBytes(SECRET_BYTES).toString('base64url'),
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
    payloadDigest: sha256Hex(bytes),
    secretHash: secretHash(payload.secret),
  };
}

/** Assembles `cwpt1.<payload>.<mac>` for the given payload bytes (tests use it to re-MAC). */
export function formatToken(payloadBytes: Buffer, secret: string): string {
  const mac = createHmac('sha256', Buffer.from(secret, 'base64url')).update(payloadBytes).digest();
  return `${TOKEN_PREFIX}.${payloadBytes.toString('base64url')}.${mac.toString('base64url')}`;
}

/**
 * Parses and checks a token locally: format, every field, MAC, expiry — all before any
 * network I/O. `now` is ms since the epoch. Errors: CW_TOKEN_MALFORMED (naming the part or
 * field), CW_TOKEN_TAMPERED (MAC mismatch), CW_TOKEN_EXPIRED.
 */
export function parsePeeringToken(text: string, now: number): PeeringToken {
  const parts = text.trim().split('.');
  if (parts[0] !== TOKEN_PREFIX) throw malformed(`does not start with "${TOKEN_PREFIX}."`);
  if (parts.length !== 3) throw malformed(`has ${parts.length} dot-separated parts, expected 3 (${TOKEN_PREFIX}.<payload>.<mac>)`);
  const payloadBytes = decodeBase64Url(parts[1] ?? '', 'payload');
  const mac = decodeBase64Url(parts[2] ?? '', 'mac');
  let raw: unknown;
  try {
    raw = JSON.parse(payloadBytes.toString('utf8'));
  } catch {
    throw malformed('payload is not JSON');
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw malformed('payload is not a JSON object');
  const problems = payloadProblems(raw as Record<string, unknown>);
  if (problems.length > 0) {
    throw new CausewayError(ErrorCodes.TOKEN_MALFORMED, `peering token ${problems[0]}`, { details: problems });
  }
  const payload = raw as PeeringTokenPayload;
  const expected = createHmac('sha256', Buffer.from(payload.secret, 'base64url')).update(payloadBytes).digest();
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
    throw new CausewayError(ErrorCodes.TOKEN_TAMPERED, 'peering token was altered after it was minted (MAC mismatch)');
  }
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
    payloadDigest: sha256Hex(payloadBytes),
  };
}

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** sha256 of the secret's decoded bytes, hex. */
export function secretHash(secret: string): string {
  return sha256Hex(Buffer.from(secret, 'base64url'));
}

const PAYLOAD_FIELDS = ['v', 'id', 'secret', 'cluster', 'trustDomain', 'federationAddress', 'bundle', 'iat', 'exp'];

/** Every problem of a payload object, each naming its field. */
function payloadProblems(p: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const field = (name: string, problem: string): void => {
    problems.push(`field "${name}" ${problem}`);
  };
  const str = (name: string): string | undefined => {
    const value = p[name];
    if (value === undefined) field(name, 'is missing');
    else if (typeof value !== 'string') field(name, `must be a string, not ${typeof value}`);
    else return value;
    return undefined;
  };
  const int = (name: string): number | undefined => {
    const value = p[name];
    if (value === undefined) field(name, 'is missing');
    else if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) field(name, 'must be a non-negative integer (Unix seconds)');
    else return value;
    return undefined;
  };
  if (p.v === undefined) field('v', 'is missing');
  else if (p.v !== 1) field('v', `is ${JSON.stringify(p.v)}; this gateway understands version 1`);
  const id = str('id');
  if (id !== undefined && !/^[0-9a-f]{32}$/.test(id)) field('id', 'must be 32 lower-case hex digits');
  const secret = str('secret');
  if (secret !== undefined && (!/^[A-Za-z0-9_-]+$/.test(secret) || Buffer.from(secret, 'base64url').length !== SECRET_BYTES)) {
    field('secret', `must be ${SECRET_BYTES} bytes in base64url`);
  }
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
  const iat = int('iat');
  const exp = int('exp');
  if (iat !== undefined && exp !== undefined && exp <= iat) field('exp', 'must be after iat');
  for (const key of Object.keys(p)) if (!PAYLOAD_FIELDS.includes(key)) field(key, 'is unknown');
  return problems;
}

function decodeBase64Url(text: string, part: string): Buffer {
  if (text === '' || !/^[A-Za-z0-9_-]+$/.test(text)) throw malformed(`${part} is not base64url`);
  return Buffer.from(text, 'base64url');
}

function malformed(problem: string): CausewayError {
  return new CausewayError(ErrorCodes.TOKEN_MALFORMED, `peering token ${problem}`);
}
