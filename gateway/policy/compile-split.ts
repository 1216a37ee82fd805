import type { ServiceKey } from '../../registry/index.js';
import type { ClassReference } from './compile-access.js';
import type { CompiledSplit, CompiledSplitBackend } from './policy-set.js';
import type { DocumentProblems } from './policy-error.js';
import type { SmiTrafficSplit, TrafficSplit } from './schema.js';

export interface SplitOf {
  service: ServiceKey;
  split: CompiledSplit;
}

/** A causeway.dev TrafficSplit: weights are percentages summing to exactly 100. */
export function compileSplit(doc: TrafficSplit, at: DocumentProblems, refs: ClassReference[]): SplitOf {
  const { spec } = doc;
  spec.classes?.forEach((name, i) => refs.push({ at, path: `spec.classes[${i}]`, name }));
  const backends = spec.backends.map((b, i): CompiledSplitBackend => {
    const subset = b.cluster !== undefined || b.labels !== undefined;
    if (b.service !== undefined && subset) at.add(`spec.backends[${i}]`, 'set either service, or cluster and/or labels, not both');
    if (b.service === undefined && !subset) at.add(`spec.backends[${i}]`, 'must set service, or cluster and/or labels');
    return { cluster: b.cluster, labels: b.labels, service: b.service, weight: b.weight };
  });
  const sum = backends.reduce((total, b) => total + b.weight, 0);
  if (sum !== 100) at.add('spec.backends', `weights sum to ${sum}; they must sum to exactly 100`);
  return {
    service: spec.service,
    split: { policy: `TrafficSplit/${doc.metadata.name}`, classes: spec.classes === undefined ? undefined : new Set(spec.classes), backends },
  };
}

/**
 * An SMI TrafficSplit (split.smi-spec.io v1alpha2-v1alpha4), taken as it is: the root
 * service and the backends live in metadata.namespace ("default" when absent, as in
 * Kubernetes); weights are relative and become percentages. SMI's `matches` name
 * HTTPRouteGroup resources, which Causeway does not implement: refused rather than ignored,
 * since ignoring them would split traffic the author meant to keep whole.
 */
export function compileSmiSplit(doc: SmiTrafficSplit, at: DocumentProblems): SplitOf {
  const namespace = doc.metadata.namespace ?? 'default';
  if (doc.spec.matches !== undefined && doc.spec.matches.length > 0) {
    at.add('spec.matches', 'is not supported: Causeway does not implement HTTPRouteGroup; remove matches, or use a causeway.dev/v1alpha1 TrafficSplit with classes');
  }
  const sum = doc.spec.backends.reduce((total, b) => total + b.weight, 0);
  if (sum <= 0) at.add('spec.backends', 'weights sum to 0; at least one must be above 0');
  const backends = doc.spec.backends.map((b): CompiledSplitBackend => ({
    cluster: undefined, labels: undefined, service: `${b.service}.${namespace}`, weight: sum > 0 ? (b.weight * 100) / sum : 0,
  }));
  return { service: `${doc.spec.service}.${namespace}`, split: { policy: `TrafficSplit/${doc.metadata.name}`, classes: undefined, backends } };
}

/**
 * Two splits of one service that could both take a caller make the outcome depend on file
 * order; refused. Splits for disjoint classes are fine.
 */
export function checkSplitOverlap(earlier: readonly CompiledSplit[], next: CompiledSplit, service: ServiceKey, at: DocumentProblems): void {
  for (const split of earlier) {
    if (split.classes === undefined || next.classes === undefined) {
      at.add('spec', `${split.policy} already splits ${service} for ${split.classes === undefined ? 'every caller' : 'these callers'}; give each split its own classes`);
      return;
    }
    const shared = [...next.classes].filter((c) => split.classes?.has(c));
    if (shared.length > 0) {
      at.add('spec.classes', `${split.policy} already splits ${service} for class ${shared.join(', ')}`);
      return;
    }
  }
}
