import type { AccessRule } from '../dataplane/access-rules.js';
import type { CompiledAccessRule, CompiledClass } from './policy-set.js';
import type { DocumentProblems } from './policy-error.js';
import type { AccessPolicy } from './schema.js';
import { parseSource, type SourcePattern } from './source-pattern.js';

/** The policy name the config's `access:` rules carry in refusals and explain. */
export const CONFIG_ACCESS = 'config access';

/** A `class:<name>` used somewhere; checked once every class of the set is known. */
export interface ClassReference {
  at: DocumentProblems;
  path: string;
  name: string;
}

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DESTINATION = new RegExp(`^(\\*|\\*\\.${LABEL}|${LABEL}\\.${LABEL})$`);

/** What a rule's `to` may name: `*`, `*.<namespace>` or `<name>.<namespace>`; else why not. */
export function destinationProblem(text: string): string | undefined {
  return DESTINATION.test(text) ? undefined : `"${text}": expected *, *.<namespace> or <name>.<namespace>`;
}

/**
 * Sources of a list, parsed. The schema's formats have refused every bad one already (with
 * the same parseSource); `class:` references are recorded for the set-wide check.
 */
function compileSources(texts: readonly string[], path: string, at: DocumentProblems, refs: ClassReference[]): SourcePattern[] {
  const patterns: SourcePattern[] = [];
  texts.forEach((text, i) => {
    const parsed = parseSource(text);
    if (typeof parsed === 'string') return at.add(`${path}[${i}]`, parsed);
    if (parsed.kind === 'class') refs.push({ at, path: `${path}[${i}]`, name: parsed.name });
    patterns.push(parsed);
  });
  return patterns;
}

/** The rules and classes of one AccessPolicy, every default applied (action: allow). */
export function compileAccessPolicy(
  doc: AccessPolicy, at: DocumentProblems, refs: ClassReference[],
): { rules: CompiledAccessRule[]; classes: CompiledClass[] } {
  const policy = `AccessPolicy/${doc.metadata.name}`;
  const rules = (doc.spec.rules ?? []).map((rule, index): CompiledAccessRule => {
    const path = `spec.rules[${index}]`;
    return {
      policy, index, action: rule.action ?? 'allow',
      from: compileSources(rule.from, `${path}.from`, at, refs),
      to: [...rule.to],
      methods: rule.methods === undefined ? undefined : new Set(rule.methods),
      paths: rule.paths === undefined ? undefined : [...rule.paths],
    };
  });
  const classes = (doc.spec.trafficClasses ?? []).map((c, i): CompiledClass => ({
    name: c.name, policy, from: compileSources(c.from, `spec.trafficClasses[${i}].from`, at, refs),
  }));
  return { rules, classes };
}

/**
 * The gateway config's `access:` list as allow rules, so that configs written before
 * AccessPolicy keep working: `{to, from[]}` allows every `from` to reach `to`. The config
 * loader checked them already; a problem found here still refuses the set, under `config`.
 */
export function compileConfigAccess(access: readonly AccessRule[], at: (index: number) => DocumentProblems): CompiledAccessRule[] {
  return access.map((rule, index) => ({
    policy: CONFIG_ACCESS, index, action: 'allow' as const,
    from: compileConfigSources(rule.from, at(index)),
    to: [rule.to], methods: undefined, paths: undefined,
  }));
}

/** The config's sources: its own loader's rules, so a `class:` or a bad pattern is named here. */
function compileConfigSources(texts: readonly string[], at: DocumentProblems): SourcePattern[] {
  const patterns: SourcePattern[] = [];
  texts.forEach((text, i) => {
    const parsed = parseSource(text);
    if (typeof parsed === 'string') at.add(`from[${i}]`, parsed);
    else if (parsed.kind === 'class') at.add(`from[${i}]`, `"${text}": the config's access rules cannot name traffic classes; write an AccessPolicy`);
    else patterns.push(parsed);
  });
  return patterns;
}
