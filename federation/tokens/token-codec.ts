import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CausewayError, ErrorCodes } from '../../registry/index.js';

/**
 * The one-time token text shared by peering and join tokens:
 * `<prefix>.<base64url(JSON payload)>.<base64url(HMAC-SHA256(secret, payload bytes))>`.
 *
 * The MAC is keyed by the secret that travels INSIDE the token, so it only catches
 * accidental edits (a truncated paste, a flipped byte). Tamper protection comes from the
 * issuer, which stores sha256(payload) of what it minted and refuses any other payload
 * (CW_TOKEN_TAMPERED), and keeps only sha256(secret), never the secret.
 */

export const SECRET_BYTES = 32;
export const ID_BYTES = 16;

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** sha256 of the secret's decoded bytes, hex. */
export function secretHash(secret: string): string {
  return sha256Hex(Buffer.from(secret, 'base64url'));
}

export function newTokenId(): string {
  return randomBytes(ID_BYTES).toString('hex');
}

export function newTokenSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/** Assembles `<prefix>.<payload>.<mac>` for the given payload bytes (tests use it to re-MAC). */
export function formatTokenText(prefix: string, payloadBytes: Buffer, secret: string): string {
  const mac = createHmac('sha256', Buffer.from(secret, 'base64url')).update(payloadBytes).digest();
  return `${prefix}.${payloadBytes.toString('base64url')}.${mac.toString('base64url')}`;
}

export interface DecodedTokenText {
  payload: Record<string, unknown>;
  payloadBytes: Buffer;
  mac: Buffer;
}

/** Splits and decodes a token's text; `kind` ("peering", "join") names it in errors. */
export function decodeTokenText(text: string, prefix: string, kind: string): DecodedTokenText {
  const malformed = (problem: string): CausewayError => new CausewayError(ErrorCodes.TOKEN_MALFORMED, `${kind} token ${problem}`);
  const parts = text.trim().split('.');
  if (parts[0] !== prefix) throw malformed(`does not start with "${prefix}."`);
  if (parts.length !== 3) throw malformed(`has ${parts.length} dot-separated parts, expected 3 (${prefix}.<payload>.<mac>)`);
  const decode = (part: string, name: string): Buffer => {
    if (part === '' || !/^[A-Za-z0-9_-]+$/.test(part)) throw malformed(`${name} is not base64url`);
    return Buffer.from(part, 'base64url');
  };
  const payloadBytes = decode(parts[1] ?? '', 'payload');
  const mac = decode(parts[2] ?? '', 'mac');
  let payload: unknown;
  try {
    payload = JSON.parse(payloadBytes.toString('utf8'));
  } catch {
    throw malformed('payload is not JSON');
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw malformed('payload is not a JSON object');
  return { payload: payload as Record<string, unknown>, payloadBytes, mac };
}

/** Checks the MAC (after the payload's fields were validated, so `secret` is well-formed). */
export function checkTokenMac(decoded: DecodedTokenText, secret: string, kind: string): void {
  const expected = createHmac('sha256', Buffer.from(secret, 'base64url')).update(decoded.payloadBytes).digest();
  if (decoded.mac.length !== expected.length || !timingSafeEqual(decoded.mac, expected)) {
    throw new CausewayError(ErrorCodes.TOKEN_TAMPERED, `${kind} token was altered after it was minted (MAC mismatch)`);
  }
}

export interface PayloadChecker {
  problems: string[];
  /** Records a problem of one field. */
  field(name: string, problem: string): void;
  /** The field's value if it is a string (else records the problem). */
  str(name: string): string | undefined;
  /** Records every field not in `known`; returns all problems. */
  finish(known: readonly string[]): string[];
}

/** Starts checking a token payload: the common fields are checked at once. */
export function checkPayload(p: Record<string, unknown>): PayloadChecker {
  const problems: string[] = [];
  const field = (name: string, problem: string): void => {
    problems.push(`field "${name}" ${problem}`);
  };
  commonFieldProblems(p, field);
  return {
    problems,
    field,
    str: (name) => {
      const value = p[name];
      if (value === undefined) field(name, 'is missing');
      else if (typeof value !== 'string') field(name, `must be a string, not ${typeof value}`);
      else return value;
      return undefined;
    },
    finish: (known) => {
      for (const key of Object.keys(p)) if (!known.includes(key)) field(key, 'is unknown');
      return problems;
    },
  };
}

/** Validators for the fields every token payload has: v, id, secret, iat, exp. */
function commonFieldProblems(p: Record<string, unknown>, field: (name: string, problem: string) => void): void {
  if (p.v === undefined) field('v', 'is missing');
  else if (p.v !== 1) field('v', `is ${JSON.stringify(p.v)}; this gateway understands version 1`);
  const id = p.id;
  if (id === undefined) field('id', 'is missing');
  else if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id)) field('id', 'must be 32 lower-case hex digits');
  const secret = p.secret;
  if (secret === undefined) field('secret', 'is missing');
  else if (typeof secret !== 'string' || !/^[A-Za-z0-9_-]+$/.test(secret) || Buffer.from(secret, 'base64url').length !== SECRET_BYTES) {
    field('secret', `must be ${SECRET_BYTES} bytes in base64url`);
  }
  const time = (name: string): number | undefined => {
    const value = p[name];
    if (value === undefined) field(name, 'is missing');
    else if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) field(name, 'must be a non-negative integer (Unix seconds)');
    else return value;
    return undefined;
  };
  const iat = time('iat');
  const exp = time('exp');
  if (iat !== undefined && exp !== undefined && exp <= iat) field('exp', 'must be after iat');
}
