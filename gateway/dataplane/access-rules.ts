import type { ServiceKey } from '../../registry/index.js';
import { matchSpiffePattern, parseSpiffeId, type PeerIdentity } from '../../federation/index.js';

/**
 * One allow rule: callers matching any `from` entry may reach `to`. `from` holds SPIFFE ID
 * patterns (an exact ID, `spiffe://td/path/*`, `spiffe://td/*`) or the word "anonymous".
 * The minimal authorization step; the AccessPolicy resource (roadmap) replaces it.
 */
export interface AccessRule {
  /** A service key `name.namespace`, or "*" for every service. */
  to: string;
  from: readonly string[];
}

export interface AccessSource {
  /** The workload identity the calling gateway asserted (`causeway-source`), if any. */
  spiffeId?: string | undefined;
  /** The verified identity of the gateway the request arrived from. */
  viaGateway: PeerIdentity;
}

export interface AccessDecision {
  allowed: boolean;
  /** A one-line reason for logs and for the refusal message. */
  reason: string;
}

export const ANONYMOUS = 'anonymous';

function ruleMatches(pattern: string, spiffeId: string | undefined): boolean {
  if (pattern === ANONYMOUS) return spiffeId === undefined;
  if (spiffeId === undefined) return false;
  try {
    return matchSpiffePattern(pattern, spiffeId);
  } catch {
    // A malformed pattern allows nothing (config validation already reports it).
    return false;
  }
}

/**
 * Decides whether a caller may reach `service`. Design brief: same-trust-domain callers are
 * allowed by default; cross-trust-domain traffic is denied unless a rule allows it. A caller
 * without a workload identity is judged by the trust domain of the gateway it came through,
 * and a rule admits it only by listing "anonymous" (it never borrows the gateway's identity).
 */
export function authorize(source: AccessSource, service: ServiceKey, localTrustDomain: string, rules: readonly AccessRule[]): AccessDecision {
  let callerDomain = source.viaGateway.trustDomain;
  if (source.spiffeId !== undefined) {
    try {
      callerDomain = parseSpiffeId(source.spiffeId).trustDomain;
    } catch {
      return { allowed: false, reason: `caller "${source.spiffeId}" is not a SPIFFE ID` };
    }
  }
  const caller = source.spiffeId ?? `${ANONYMOUS} via ${source.viaGateway.spiffeId}`;
  if (callerDomain === localTrustDomain) {
    return { allowed: true, reason: `${caller} is in the local trust domain ${localTrustDomain}` };
  }
  for (const [i, rule] of rules.entries()) {
    if (rule.to !== '*' && rule.to !== service) continue;
    const pattern = rule.from.find((p) => ruleMatches(p, source.spiffeId));
    if (pattern !== undefined) return { allowed: true, reason: `access[${i}] allows ${caller} to ${service} (${pattern})` };
  }
  return {
    allowed: false,
    reason: `no access rule allows ${caller} (trust domain ${callerDomain}) to reach ${service}; cross-trust-domain traffic is denied by default`,
  };
}
