import type { ServiceKey } from '../../registry/index.js';
import { CONFIG_ACCESS } from '../policy/compile-access.js';
import { coversService as covers, describeRule } from '../policy/decide-access.js';
import type { CompiledAccessRule, PolicySet } from '../policy/policy-set.js';
import type { SourcePattern } from '../policy/source-pattern.js';
import type { HttpFilter } from './generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpFilter.js';
import type { Policy } from './generated/envoy/config/rbac/v3/Policy.js';
import type { Principal } from './generated/envoy/config/rbac/v3/Principal.js';
import type { Permission } from './generated/envoy/config/rbac/v3/Permission.js';
import type { StringMatcher } from './generated/envoy/type/matcher/v3/StringMatcher.js';
import { RBAC_TYPE } from './xds-protos.js';

/**
 * AccessPolicy as RBAC HTTP filters (envoy.extensions.filters.http.rbac.v3.RBAC; gRFC A41),
 * for the server listener of an xDS-enabled gRPC server (server-listener.ts). The filters run
 * in order and each must let a call through, which gives decideAccess's rules their meaning:
 *
 * 1. one DENY filter of every deny rule covering the endpoint's services — deny wins;
 * 2. one ALLOW filter per service: its allow rules, and either
 *    - the default (every caller of this trust domain), when no AccessPolicy allow rule names
 *      the service, or
 *    - when one does (the service is allow-listed), this trust domain's gateways as well: a
 *      call a gateway forwards (from a remote cluster, or a local caller routed through it) was
 *      decided there on the original caller, and arrives with the gateway's SVID.
 *
 * A41 matches a principal name against the client certificate's URI SAN, so every caller here
 * is a verified SPIFFE ID: `anonymous` matches nobody (the listener requires a client
 * certificate), and a class stands for its members. Several services behind one address all
 * apply: a call passes only if each of them would let it.
 */
export function rbacFilters(services: readonly ServiceKey[], set: PolicySet, trustDomain: string): HttpFilter[] {
  const filters: HttpFilter[] = [];
  const denies = set.accessRules.filter((r) => r.action === 'deny' && services.some((s) => covers(r, s)));
  const denyPolicies = policiesOf(denies, set);
  if (Object.keys(denyPolicies).length > 0) filters.push(filter('causeway.deny', 'DENY', denyPolicies));
  for (const service of services) {
    const allows = set.accessRules.filter((r) => r.action === 'allow' && covers(r, service));
    const listed = allows.some((r) => r.policy !== CONFIG_ACCESS);
    const policies = policiesOf(allows, set);
    const domain = `spiffe://${trustDomain}/`;
    if (listed) policies['gateways of this trust domain'] = { principals: [authenticated({ prefix: `${domain}gateway/` })], permissions: [{ any: true }] };
    else policies['default: this trust domain'] = { principals: [authenticated({ prefix: domain })], permissions: [{ any: true }] };
    filters.push(filter(`causeway.allow.${service}`, 'ALLOW', policies));
  }
  return filters;
}

function filter(name: string, action: 'ALLOW' | 'DENY', policies: Record<string, Policy>): HttpFilter {
  return { name, typedConfig: { '@type': RBAC_TYPE, rules: { action, policies } } as never };
}

/** One RBAC policy per rule, named as refusals and `explain` name it; a rule whose callers no certificate can be is left out. */
function policiesOf(rules: readonly CompiledAccessRule[], set: PolicySet): Record<string, Policy> {
  const policies: Record<string, Policy> = {};
  for (const rule of rules) {
    const principals = rule.from.flatMap((source) => principalsOf(source, set));
    if (principals.length === 0) continue;
    policies[describeRule(rule)] = { principals, permissions: [permissionOf(rule)] };
  }
  return policies;
}

function principalsOf(source: SourcePattern, set: PolicySet): Principal[] {
  switch (source.kind) {
    case 'anonymous': return [];
    case 'class': return (set.classes.get(source.name)?.from ?? []).flatMap((member) => principalsOf(member, set));
    case 'domain': return [authenticated({ prefix: `spiffe://${source.trustDomain}/` })];
    case 'id': return [authenticated({ exact: source.id })];
    case 'pattern': return [authenticated({ safeRegex: { regex: patternRegex(source) } })];
    default: return [];
  }
}

const authenticated = (principalName: StringMatcher): Principal => ({ authenticated: { principalName } });

/**
 * The RE2 form of `spiffe://td/ns/*\/sa/web` (matched against the whole URI, as A41 and Envoy
 * do): `*` is one segment, a final `*` one or more (source-pattern.ts).
 */
export function patternRegex(pattern: Extract<SourcePattern, { kind: 'pattern' }>): string {
  const last = pattern.segments.length - 1;
  const segments = pattern.segments.map((s, i) => {
    if (s !== '*') return escapeRegex(s);
    return pattern.rest && i === last ? '[^/]+(?:/[^/]+)*' : '[^/]+';
  });
  return `spiffe://${escapeRegex(pattern.trustDomain)}/${segments.join('/')}`;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * What a rule asks of the call: any call, or its methods and path prefixes. A gRPC call is a
 * POST to `/<service>/<method>`; a prefix matches segment by segment (`/v1` is `/v1` and
 * `/v1/…`, never `/v10`), as request-path.ts does.
 */
function permissionOf(rule: CompiledAccessRule): Permission {
  const parts: Permission[] = [];
  if (rule.methods !== undefined) {
    parts.push({ orRules: { rules: [...rule.methods].map((m) => ({ header: { name: ':method', stringMatch: { exact: m } } })) } });
  }
  if (rule.paths !== undefined) {
    parts.push({ orRules: { rules: rule.paths.flatMap((p) => pathPermissions(p)) } });
  }
  if (parts.length === 0) return { any: true };
  return parts.length === 1 ? parts[0]! : { andRules: { rules: parts } };
}

function pathPermissions(prefix: string): Permission[] {
  const urlPath = (path: StringMatcher): Permission => ({ urlPath: { path } });
  if (prefix.endsWith('/')) return [urlPath({ prefix })];
  return [urlPath({ exact: prefix }), urlPath({ prefix: `${prefix}/` })];
}
