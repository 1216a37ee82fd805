import { isPlainObject, type ServiceKey } from '../../registry/index.js';
import { deepFreeze } from '../config/validate-config.js';
import type { AccessRule } from '../dataplane/access-rules.js';
import { compileAccessPolicy, compileConfigAccess, type ClassReference } from './compile-access.js';
import { compileFailover } from './compile-failover.js';
import { checkSplitOverlap, compileSmiSplit, compileSplit } from './compile-split.js';
import { DocumentProblems, type PolicyError } from './policy-error.js';
import type { CompiledAccessRule, CompiledClass, CompiledFailover, CompiledSplit, PolicySet, StoredPolicy } from './policy-set.js';
import {
  POLICY_API_VERSION, POLICY_KINDS, SMI_SPLIT_API_VERSIONS, type AccessPolicy, type FailoverPolicy, type PolicyDocument, type PolicyKind,
  type SmiTrafficSplit, type TrafficSplit,
} from './schema.js';
import { schemaProblems } from './schema-errors.js';

export type { PolicyError } from './policy-error.js';

export interface PolicyInput {
  origin: string;
  document: unknown;
  /** 1-based position within its origin (a file's documents); default: its order among the inputs of that origin. */
  position?: number;
}

export interface CompileOptions {
  /** The version the set gets if it is valid. */
  version: number;
  /** The gateway config's `access:` list: allow rules placed before every AccessPolicy rule. */
  configAccess: readonly AccessRule[];
}

export type CompileResult = { ok: true; set: PolicySet } | { ok: false; errors: PolicyError[] };

/** A document that passed its schema, with where it came from. */
interface Checked {
  kind: PolicyKind;
  name: string;
  origin: string;
  at: DocumentProblems;
  smi: boolean;
  document: PolicyDocument;
}

const KIND_LIST = POLICY_KINDS.join(', ');

/**
 * Compiles a whole policy set: every document checked against its kind's schema, then the
 * set as a whole (names, references, one FailoverPolicy per service, weights, durations).
 * Every problem of every document is reported; a set with any problem is refused whole
 * (grpc-js xDS: an update with one bad resource is NACKed as a whole).
 */
export function compilePolicySet(inputs: ReadonlyArray<PolicyInput>, options: CompileOptions): CompileResult {
  const errors: PolicyError[] = [];
  const { checked, looseClasses } = checkDocuments(inputs, errors);
  const refs: ClassReference[] = [];

  const names = new Map<string, Checked>();
  for (const doc of checked) {
    const key = `${doc.kind}/${doc.name}`;
    const first = names.get(key);
    if (first === undefined) names.set(key, doc);
    else doc.at.add('metadata.name', `${key} is also defined in ${first.origin}; names are unique per kind`);
  }

  const accessRules: CompiledAccessRule[] = compileConfigAccess(options.configAccess, (i) => new DocumentProblems('config', `access[${i}]`, errors));
  const classes = new Map<string, CompiledClass>();
  for (const doc of checked.filter((d) => d.kind === 'AccessPolicy')) {
    const compiled = compileAccessPolicy(doc.document as AccessPolicy, doc.at, refs);
    accessRules.push(...compiled.rules);
    compiled.classes.forEach((c, i) => {
      const other = classes.get(c.name);
      if (other !== undefined) doc.at.add(`spec.trafficClasses[${i}].name`, `class "${c.name}" is also defined by ${other.policy}`);
      else classes.set(c.name, c);
    });
  }

  const failover = new Map<ServiceKey, CompiledFailover>();
  for (const doc of checked.filter((d) => d.kind === 'FailoverPolicy')) {
    const policy = doc.document as FailoverPolicy;
    const compiled = compileFailover(policy, doc.at, refs);
    const other = failover.get(policy.spec.service);
    if (other !== undefined) doc.at.add('spec.service', `${policy.spec.service} already has ${other.policy}; a service has at most one FailoverPolicy`);
    else failover.set(policy.spec.service, compiled);
  }

  const splits = new Map<ServiceKey, CompiledSplit[]>();
  for (const doc of checked.filter((d) => d.kind === 'TrafficSplit')) {
    const { service, split } = doc.smi
      ? compileSmiSplit(doc.document as SmiTrafficSplit, doc.at) : compileSplit(doc.document as TrafficSplit, doc.at, refs);
    const list = splits.get(service) ?? [];
    checkSplitOverlap(list, split, service, doc.at);
    list.push(split);
    splits.set(service, list);
  }

  for (const ref of refs) {
    if (!classes.has(ref.name) && !looseClasses.has(ref.name)) {
      const known = classes.size === 0 ? 'no AccessPolicy defines any class' : `defined classes: ${[...classes.keys()].sort().join(', ')}`;
      ref.at.add(ref.path, `class "${ref.name}" is not defined by any AccessPolicy's trafficClasses (${known})`);
    }
  }

  if (errors.length > 0) return { ok: false, errors };
  const documents: StoredPolicy[] = checked.map((d) => ({ kind: d.kind, name: d.name, origin: d.origin, document: d.document }));
  return {
    ok: true,
    set: deepFreeze({ version: options.version, documents, accessRules, classes, failover, splits }),
  };
}

/**
 * Each document dispatched on apiVersion + kind and checked against its schema. Only
 * documents that pass take part in the set-wide checks; the class names an ill-formed
 * AccessPolicy seems to define are kept aside, so that its problems are not echoed as
 * "class not defined" wherever the class is used.
 */
function checkDocuments(inputs: ReadonlyArray<PolicyInput>, errors: PolicyError[]): { checked: Checked[]; looseClasses: Set<string> } {
  const checked: Checked[] = [];
  const looseClasses = new Set<string>();
  const counts = new Map<string, number>();
  for (const { origin, document, position } of inputs) {
    const count = (counts.get(origin) ?? 0) + 1;
    counts.set(origin, count);
    const n = position ?? count;
    if (!isPlainObject(document)) {
      new DocumentProblems(origin, `document ${n}`, errors).add('', 'must be a mapping with apiVersion, kind, metadata and spec');
      continue;
    }
    const { kind, apiVersion } = document;
    const name = isPlainObject(document.metadata) ? document.metadata.name : undefined;
    const known = POLICY_KINDS.find((k) => k === kind);
    const at = new DocumentProblems(origin, known !== undefined && typeof name === 'string' && name !== '' ? `${known}/${name}` : `document ${n}`, errors);
    if (known === undefined) {
      at.add('kind', typeof kind === 'string' ? `"${kind}" is not a policy kind (expected ${KIND_LIST})` : `is required (${KIND_LIST})`);
      continue;
    }
    const smi = known === 'TrafficSplit' && (SMI_SPLIT_API_VERSIONS as readonly unknown[]).includes(apiVersion);
    if (apiVersion !== POLICY_API_VERSION && !smi) {
      const expected = known === 'TrafficSplit' ? `${POLICY_API_VERSION} (or SMI ${SMI_SPLIT_API_VERSIONS.join(', ')})` : POLICY_API_VERSION;
      at.add('apiVersion', `${apiVersion === undefined ? 'is required' : `"${String(apiVersion)}" is not served for ${known}`}; expected ${expected}`);
      continue;
    }
    const problems = schemaProblems(smi ? 'SmiTrafficSplit' : known, document);
    for (const p of problems) at.add(p.path, p.message);
    if (problems.length === 0) checked.push({ kind: known, name: String(name), origin, at, smi, document: document as PolicyDocument });
    else if (known === 'AccessPolicy') classNamesOf(document.spec).forEach((c) => looseClasses.add(c));
  }
  return { checked, looseClasses };
}

function classNamesOf(spec: unknown): string[] {
  const list = isPlainObject(spec) && Array.isArray(spec.trafficClasses) ? spec.trafficClasses : [];
  return list.flatMap((c: unknown) => (isPlainObject(c) && typeof c.name === 'string' ? [c.name] : []));
}
