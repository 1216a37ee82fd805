import type { AccessRule } from '../dataplane/access-rules.js';
import { compilePolicySet } from './compile.js';
import { EMPTY_POLICY_SET, type CompiledAccessRule, type PolicySet, type PolicySource } from './policy-set.js';

/**
 * A policy set holding only the config's access rules, compiled as the policy store does
 * (listeners embedded without a store, tests). Rules the config loader let through always
 * compile; if one did not, no rule is better than a guess: the default denies other domains.
 */
export function policySetOfAccessRules(rules: readonly AccessRule[], version = 0): PolicySet {
  const result = compilePolicySet([], { version, configAccess: rules });
  return result.ok ? result.set : EMPTY_POLICY_SET;
}

/** The config's access rules as the decisions see them (`config access[<i>]`). */
export function configAccessRules(rules: readonly AccessRule[]): readonly CompiledAccessRule[] {
  return policySetOfAccessRules(rules).accessRules;
}

/** A PolicySource that reads a getter every time (tests, and listeners built without a store). */
export function policiesFrom(get: () => PolicySet): PolicySource {
  return { current: get, onChange: () => () => {} };
}
