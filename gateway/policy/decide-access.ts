import type { ServiceKey } from '../../registry/index.js';
import type { CompiledAccessRule, PolicySet, RuleRef } from './policy-set.js';
import { normalisePath, pathHasPrefix } from './request-path.js';
import { sourceMatches, type Caller } from './source-pattern.js';
import { CONFIG_ACCESS } from './compile-access.js';

/**
 * What is being asked for:
 * - `{ method, path }`: one HTTP request (or HTTP/2 call) — every rule applies;
 * - `stream`: an east-west stream that will carry HTTP requests, each checked on its own —
 *   rules on methods or paths are left to those checks (an allow with methods lets the stream
 *   open; a deny with methods does not close it);
 * - `tcp`: bytes — a rule on methods or paths never allows it and, as a deny, always refuses it.
 */
export type AccessScope = { method: string; path: string } | 'stream' | 'tcp';

export interface AccessRequest {
  caller: Caller;
  service: ServiceKey;
  scope: AccessScope;
}

export interface AccessVerdict {
  allowed: boolean;
  /** The rule that decided; undefined when the default did. */
  rule: (RuleRef & { action: 'allow' | 'deny' }) | undefined;
  /** One line for logs, refusals and explain. */
  reason: string;
}

export function describeRule(rule: RuleRef): string {
  return `${rule.policy} rules[${rule.index}]`;
}

/** Whether a rule's `to` names the service: `*`, `*.<namespace>` or the service itself. */
export function coversService(rule: CompiledAccessRule, service: ServiceKey): boolean {
  const namespace = service.slice(service.indexOf('.') + 1);
  return rule.to.some((to) => to === '*' || to === service || (to.startsWith('*.') && to.slice(2) === namespace));
}

type RuleMatch = 'yes' | 'no';

/** Whether the rule's methods and paths match the scope, for a rule with `action`. */
function matchesRequest(rule: CompiledAccessRule, scope: AccessScope): RuleMatch {
  const restricted = rule.methods !== undefined || rule.paths !== undefined;
  if (!restricted) return 'yes';
  if (scope === 'tcp') return rule.action === 'deny' ? 'yes' : 'no';
  if (scope === 'stream') return rule.action === 'allow' ? 'yes' : 'no';
  if (rule.methods !== undefined && !rule.methods.has(scope.method)) return 'no';
  if (rule.paths !== undefined) {
    const { path, ambiguous } = normalisePath(scope.path);
    if (ambiguous) return rule.action === 'deny' ? 'yes' : 'no';
    if (!rule.paths.some((prefix) => pathHasPrefix(path, prefix))) return 'no';
  }
  return 'yes';
}

function callerText(caller: Caller): string {
  if (caller.spiffeId !== undefined) return caller.spiffeId;
  return caller.trustDomain === undefined ? 'anonymous' : `anonymous (via trust domain ${caller.trustDomain})`;
}

/**
 * The access decision, the same for the data plane and explain:
 * 1. a matching deny rule refuses, whatever allows it (deny wins);
 * 2. a service that AccessPolicy allow rules name is allow-listed: only callers one of them
 *    matches get in (as an Istio ALLOW policy selecting a workload);
 * 3. otherwise the default: callers of this trust domain are allowed, others refused. An
 *    anonymous caller counts as of the trust domain of the gateway it came through.
 */
export function decideAccess(set: PolicySet, request: AccessRequest, localTrustDomain: string): AccessVerdict {
  const { caller, service, scope } = request;
  const who = callerText(caller);
  let listed = false;
  let allowedBy: CompiledAccessRule | undefined;
  for (const rule of set.accessRules) {
    if (!coversService(rule, service)) continue;
    // The config's access[] predates AccessPolicy and only ever added callers: it lists nothing.
    if (rule.action === 'allow' && rule.policy !== CONFIG_ACCESS) listed = true;
    if (!rule.from.some((source) => sourceMatches(source, caller))) continue;
    if (matchesRequest(rule, scope) === 'no') continue;
    if (rule.action === 'deny') {
      return { allowed: false, rule: { policy: rule.policy, index: rule.index, action: 'deny' }, reason: `${describeRule(rule)} denies ${who} access to ${service}` };
    }
    allowedBy ??= rule;
  }
  if (allowedBy !== undefined) {
    return { allowed: true, rule: { policy: allowedBy.policy, index: allowedBy.index, action: 'allow' }, reason: `${describeRule(allowedBy)} allows ${who} to reach ${service}` };
  }
  if (listed) {
    return {
      allowed: false, rule: undefined,
      reason: `${service} is allow-listed and no allow rule matches ${who}${typeof scope === 'object' ? ` for ${scope.method} ${scope.path.slice(0, 200)}` : ''}`,
    };
  }
  if (caller.trustDomain === localTrustDomain) {
    return { allowed: true, rule: undefined, reason: `${who} is in the local trust domain ${localTrustDomain} (allowed by default)` };
  }
  return {
    allowed: false, rule: undefined,
    reason: `no access rule allows ${who} (trust domain ${caller.trustDomain ?? 'none'}) to reach ${service}; other trust domains are denied by default`,
  };
}
