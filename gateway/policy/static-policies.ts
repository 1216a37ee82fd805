import type { AccessRule } from '../dataplane/access-rules.js';
import { EMPTY_POLICY_SET, type CompiledAccessRule, type PolicySet, type PolicySource } from './policy-set.js';
import { parseSource, type SourcePattern } from './source-pattern.js';

/** The policy name of the config's access rules. */
export const CONFIG_ACCESS_POLICY = 'config access';

/**
 * The gateway config's `access:` list as allow rules (`config access[<i>]`). The config loader
 * has already validated the patterns; one that still does not parse matches nothing.
 */
export function configAccessRules(rules: readonly AccessRule[]): CompiledAccessRule[] {
  return rules.map((rule, index) => ({
    policy: CONFIG_ACCESS_POLICY, index, action: 'allow' as const,
    from: rule.from.map((text) => parseSource(text)).filter((p): p is SourcePattern => typeof p !== 'string'),
    to: [rule.to], methods: undefined, paths: undefined,
  }));
}

/** A policy set holding only the config's access rules. */
export function policySetOfAccessRules(rules: readonly AccessRule[], version = 0): PolicySet {
  return { ...EMPTY_POLICY_SET, version, accessRules: configAccessRules(rules) };
}

/** A PolicySource that reads a getter every time (tests, and listeners built without a store). */
export function policiesFrom(get: () => PolicySet): PolicySource {
  return { current: get, onChange: () => () => {} };
}
