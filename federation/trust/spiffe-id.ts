import { CausewayError, ErrorCodes } from '../../registry/index.js';
import type { SpiffeId } from './types.js';

const MAX_ID_LENGTH = 2048;
// SPIFFE-ID spec §2.1: trust domain characters are lower-case letters, digits, ".", "-", "_".
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
// SPIFFE-ID spec §2.2: path segments use letters, digits, ".", "-", "_".
const SEGMENT = /^[A-Za-z0-9._-]+$/;

function invalid(value: string, reason: string): CausewayError {
  return new CausewayError(ErrorCodes.SPIFFE_ID_INVALID, `"${value.slice(0, 200)}" is not a SPIFFE ID: ${reason}`);
}

export function isValidTrustDomain(value: string): boolean {
  return value.length > 0 && value.length <= 255 && TRUST_DOMAIN.test(value);
}

/** Parses a SPIFFE ID strictly per the SPIFFE-ID spec; the error names the rule broken. */
export function parseSpiffeId(value: string): SpiffeId {
  if (typeof value !== 'string' || value === '') throw invalid(String(value), 'empty');
  if (value.length > MAX_ID_LENGTH) throw invalid(value, `longer than ${MAX_ID_LENGTH} bytes`);
  if (!value.startsWith('spiffe://')) throw invalid(value, 'scheme must be "spiffe" (lower case)');
  const rest = value.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash);
  if (trustDomain === '') throw invalid(value, 'trust domain is empty');
  if (/[?#]/.test(value)) throw invalid(value, 'query and fragment are not allowed');
  if (trustDomain.includes('@')) throw invalid(value, 'userinfo is not allowed');
  if (trustDomain.includes(':')) throw invalid(value, 'a port is not allowed in the trust domain');
  if (!TRUST_DOMAIN.test(trustDomain)) throw invalid(value, 'trust domain may hold only lower-case letters, digits, ".", "-" and "_"');
  if (path !== '') {
    if (path.endsWith('/')) throw invalid(value, 'trailing "/" is not allowed');
    for (const segment of path.slice(1).split('/')) {
      if (segment === '') throw invalid(value, 'empty path segment');
      if (segment === '.' || segment === '..') throw invalid(value, '"." and ".." path segments are not allowed');
      if (!SEGMENT.test(segment)) throw invalid(value, `path segment "${segment}" has characters outside [A-Za-z0-9._-]`);
    }
  }
  return { trustDomain, path, uri: `spiffe://${trustDomain}${path}` };
}

export function gatewaySpiffeId(trustDomain: string, name: string): string {
  return parseSpiffeId(`spiffe://${trustDomain}/gateway/${name}`).uri;
}

/**
 * Whether an ID lies in the gateways' part of a trust domain (`/gateway` and below, design
 * brief "Names and identities"): identities that speak for workloads and are never
 * workloads themselves.
 */
export function isGatewayIdentity(id: SpiffeId): boolean {
  return id.path === '/gateway' || id.path.startsWith('/gateway/');
}

/**
 * Matches an ID against a pattern: an exact SPIFFE ID, `spiffe://<td>/*` (any workload
 * of the domain), or `spiffe://<td>/<prefix>/*` (any ID with at least one more segment).
 */
export function matchSpiffePattern(pattern: string, id: string): boolean {
  if (!pattern.endsWith('/*')) return pattern === id;
  const prefix = pattern.slice(0, -1);
  return id.startsWith(prefix) && id.length > prefix.length;
}
