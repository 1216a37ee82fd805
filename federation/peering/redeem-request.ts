import { CausewayError, ErrorCodes, NAME_PATTERN, describeError } from '../../registry/index.js';
import { decodeBundle, parseSpiffeId, type PeerIdentity } from '../trust/index.js';
import type { WireRedeemRequest } from './proto.js';

/**
 * Checks of a Redeem request on the issuer, in two steps so that a caller without a valid
 * token learns nothing about us: first only the token credentials' presence, then — after
 * the token checked out — who the requester claims to be.
 */
export function checkRedeemCredentials(r: WireRedeemRequest): void {
  for (const field of ['tokenId', 'secret', 'payloadDigest'] as const) {
    if (typeof r[field] !== 'string' || r[field] === '') {
      throw new CausewayError(ErrorCodes.TOKEN_MALFORMED, `redeem request: ${field} is missing`);
    }
  }
}

/**
 * The requester's cluster, gateway ID (a SPIFFE ID in its trust domain) and bundle must be
 * valid, and a client certificate it presented must be of that same trust domain.
 * Every problem is reported (CW_PEER_REFUSED).
 */
export function checkRequester(r: WireRedeemRequest, identity: PeerIdentity | undefined): void {
  const problems: string[] = [];
  if (typeof r.cluster !== 'string' || !NAME_PATTERN.test(r.cluster)) problems.push(`cluster: ${JSON.stringify(r.cluster)} is not a DNS-1123 label`);
  try {
    const gateway = parseSpiffeId(r.gatewayId);
    if (gateway.trustDomain !== r.trustDomain) problems.push(`gatewayId: "${r.gatewayId}" is not in trust domain "${r.trustDomain}"`);
  } catch (err) {
    problems.push(`gatewayId: ${describeError(err)}`);
  }
  try {
    decodeBundle(r.trustDomain, r.spiffeBundleJson);
  } catch (err) {
    problems.push(`spiffeBundleJson: ${describeError(err)}`);
  }
  if (identity !== undefined && identity.trustDomain !== r.trustDomain) {
    problems.push(`the client certificate is from "${identity.trustDomain}", not "${r.trustDomain}"`);
  }
  if (problems.length > 0) {
    throw new CausewayError(ErrorCodes.PEER_REFUSED, `redeem request refused: ${problems.join('; ')}`, { details: problems });
  }
}
