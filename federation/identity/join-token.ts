import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';
import {
  checkPayload, checkTokenMac, decodeTokenText, formatTokenText, newTokenId, newTokenSecret, secretHash, sha256Hex, type MintedToken,
} from '../tokens/index.js';
import { decodeBundle, isValidTrustDomain, parseSpiffeId } from '../trust/index.js';

/**
 * Join tokens: `cwjt1.<payload>.<mac>` (format and MAC: federation/tokens/token-codec.ts).
 * One token lets one agent or workload obtain its first SVID by CSR, once, before `exp`,
 * for an identity inside `identity` (an exact SPIFFE ID or a `spiffe://td/prefix/*`
 * pattern). It carries what the holder needs to reach the gateway safely: the identity
 * listener's address and the trust bundle to pin that TLS connection to.
 */

export const JOIN_TOKEN_PREFIX = 'cwjt1';

export interface JoinTokenPayload {
  v: 1;
  id: string;
  secret: string;
  trustDomain: string;
  /** host:port of the gateway's identity listener (design brief port 15017). */
  address: string;
  /** The trust domain's SPIFFE bundle (JSON document), to pin the first connection. */
  bundle: string;
  /** The identity grant: an exact SPIFFE ID or a `spiffe://<td>/<prefix>/*` pattern. */
  identity: string;
  iat: number;
  exp: number;
}

export interface JoinToken extends JoinTokenPayload {
  payloadDigest: string;
}

const FIELDS = ['v', 'id', 'secret', 'trustDomain', 'address', 'bundle', 'identity', 'iat', 'exp'];

/** Checks an identity grant: an exact workload SPIFFE ID or `<id prefix>/*`, inside `trustDomain`. */
export function grantProblem(identity: string, trustDomain: string): string | undefined {
  const exact = identity.endsWith('/*') ? identity.slice(0, -2) : identity;
  try {
    const id = parseSpiffeId(exact);
    if (id.trustDomain !== trustDomain) return `${identity} is outside trust domain ${trustDomain}`;
    if (id.path === '' && !identity.endsWith('/*')) return `${identity} names no workload (a SPIFFE ID needs a path, or end the grant with "/*")`;
    if (id.path.startsWith('/gateway/') || id.path === '/gateway') return `${identity}: gateway identities are not granted by join tokens`;
  } catch (err) {
    return describeError(err);
  }
  return undefined;
}

export function createJoinToken(options: {
  trustDomain: string; address: string; bundle: string; identity: string; ttlSeconds: number; now: number;
}): { text: string; payload: JoinTokenPayload; minted: MintedToken } {
  if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 1) {
    throw new CausewayError(ErrorCodes.USAGE, `ttl: ${String(options.ttlSeconds)} is not a positive whole number of seconds`);
  }
  const iat = Math.floor(options.now / 1000);
  const payload: JoinTokenPayload = {
    v: 1, id: newTokenId(), secret: newTokenSecret(), trustDomain: options.trustDomain, address: options.address,
    bundle: options.bundle, identity: options.identity, iat, exp: iat + options.ttlSeconds,
  };
  const problems = payloadProblems(payload as unknown as Record<string, unknown>);
  if (problems.length > 0) throw new CausewayError(ErrorCodes.USAGE, `cannot mint a join token: ${problems[0]}`, { details: problems });
  const bytes = Buffer.from(JSON.stringify(payload), 'utf8');
  return {
    text: formatTokenText(JOIN_TOKEN_PREFIX, bytes, payload.secret),
    payload,
    minted: { id: payload.id, secretHash: secretHash(payload.secret), payloadDigest: sha256Hex(bytes), exp: payload.exp },
  };
}

/** Parses and checks a join token locally (format, fields, MAC, expiry); `now` in ms. */
export function parseJoinToken(text: string, now: number): JoinToken {
  const decoded = decodeTokenText(text, JOIN_TOKEN_PREFIX, 'join');
  const problems = payloadProblems(decoded.payload);
  if (problems.length > 0) throw new CausewayError(ErrorCodes.TOKEN_MALFORMED, `join token ${problems[0]}`, { details: problems });
  const payload = decoded.payload as unknown as JoinTokenPayload;
  checkTokenMac(decoded, payload.secret, 'join');
  if (Math.floor(now / 1000) >= payload.exp) {
    throw new CausewayError(ErrorCodes.TOKEN_EXPIRED, `join token expired at ${new Date(payload.exp * 1000).toISOString()}`);
  }
  const { v, id, secret, trustDomain, address, bundle, identity, iat, exp } = payload;
  return { v, id, secret, trustDomain, address, bundle, identity, iat, exp, payloadDigest: sha256Hex(decoded.payloadBytes) };
}

function payloadProblems(p: Record<string, unknown>): string[] {
  const { field, str, finish } = checkPayload(p);
  const trustDomain = str('trustDomain');
  const validDomain = trustDomain !== undefined && isValidTrustDomain(trustDomain);
  if (trustDomain !== undefined && !validDomain) field('trustDomain', `"${trustDomain}" is not a valid trust domain`);
  const address = str('address');
  if (address !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[0-9.]+):\d{1,5}$/.test(address)) field('address', `"${address}" is not an IP address and port`);
  const bundle = str('bundle');
  const identity = str('identity');
  if (validDomain && trustDomain !== undefined) {
    if (bundle !== undefined) {
      try {
        decodeBundle(trustDomain, bundle);
      } catch (err) {
        field('bundle', `is not a SPIFFE trust bundle: ${describeError(err)}`);
      }
    }
    if (identity !== undefined) {
      const problem = grantProblem(identity, trustDomain);
      if (problem !== undefined) field('identity', problem);
    }
  }
  return finish(FIELDS);
}
