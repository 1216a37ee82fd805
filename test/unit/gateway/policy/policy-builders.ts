// Test helpers: compiled PolicySet objects built directly, without the YAML compiler, so the
// decision tests do not depend on it (and a compiler bug cannot hide a decision bug).
import type { ServiceKey } from '../../../../registry/index.js';
import {
  DEFAULT_FAILOVER, EMPTY_POLICY_SET,
  type CompiledAccessRule, type CompiledClass, type CompiledClassRoute, type CompiledFailover, type CompiledOutlierDetection,
  type CompiledRetries, type CompiledSplit, type CompiledSplitBackend, type PolicySet, type RetryOn,
} from '../../../../gateway/policy/policy-set.js';
import type { FailoverTarget } from '../../../../gateway/policy/schema.js';
import { parseSource, type SourcePattern } from '../../../../gateway/policy/source-pattern.js';

/** A source that must parse (a test typo fails loudly instead of matching nothing). */
export function source(text: string): SourcePattern {
  const parsed = parseSource(text);
  if (typeof parsed === 'string') throw new Error(`test source ${text} does not parse: ${parsed}`);
  return parsed;
}

interface RuleOptions {
  methods?: string[];
  paths?: string[];
}

function rule(action: 'allow' | 'deny', policy: string, index: number, from: string[], to: string[], options: RuleOptions): CompiledAccessRule {
  return {
    policy, index, action, from: from.map(source), to,
    methods: options.methods === undefined ? undefined : new Set(options.methods), paths: options.paths,
  };
}

export function allow(policy: string, index: number, from: string[], to: string[], options: RuleOptions = {}): CompiledAccessRule {
  return rule('allow', policy, index, from, to, options);
}

export function deny(policy: string, index: number, from: string[], to: string[], options: RuleOptions = {}): CompiledAccessRule {
  return rule('deny', policy, index, from, to, options);
}

export function trafficClass(name: string, from: string[], policy = 'AccessPolicy/classes'): CompiledClass {
  return { name, policy, from: from.map(source) };
}

export interface FailoverOverrides extends Partial<Omit<CompiledFailover, 'retries' | 'outlier' | 'classes'>> {
  retries?: Partial<Omit<CompiledRetries, 'on'>> & { on?: RetryOn[] };
  outlier?: Partial<CompiledOutlierDetection>;
  classes?: Record<string, { targets?: FailoverTarget[]; refuse?: boolean }>;
}

/** DEFAULT_FAILOVER with overrides (what the compiler makes of a FailoverPolicy). */
export function failover(name: string, overrides: FailoverOverrides = {}): CompiledFailover {
  const { retries, outlier, classes, ...rest } = overrides;
  const routes = new Map<string, CompiledClassRoute>();
  for (const [className, route] of Object.entries(classes ?? {})) routes.set(className, { targets: route.targets, refuse: route.refuse === true });
  return {
    ...DEFAULT_FAILOVER,
    policy: `FailoverPolicy/${name}`,
    ...rest,
    outlier: { ...DEFAULT_FAILOVER.outlier, ...outlier },
    retries: {
      ...DEFAULT_FAILOVER.retries, ...retries,
      on: retries?.on === undefined ? DEFAULT_FAILOVER.retries.on : new Set(retries.on),
    },
    classes: routes,
  };
}

export function backend(weight: number, where: { cluster?: string; labels?: Record<string, string>; service?: ServiceKey }): CompiledSplitBackend {
  return { weight, cluster: where.cluster, labels: where.labels, service: where.service };
}

export function split(name: string, backends: CompiledSplitBackend[], classes?: string[]): CompiledSplit {
  return { policy: `TrafficSplit/${name}`, backends, classes: classes === undefined ? undefined : new Set(classes) };
}

export interface SetParts {
  version?: number;
  accessRules?: CompiledAccessRule[];
  classes?: CompiledClass[];
  failover?: Record<ServiceKey, CompiledFailover>;
  splits?: Record<ServiceKey, CompiledSplit[]>;
}

export function policySet(parts: SetParts = {}): PolicySet {
  return {
    ...EMPTY_POLICY_SET,
    version: parts.version ?? 1,
    accessRules: parts.accessRules ?? [],
    classes: new Map((parts.classes ?? []).map((c) => [c.name, c])),
    failover: new Map(Object.entries(parts.failover ?? {})),
    splits: new Map(Object.entries(parts.splits ?? {})),
  };
}

/** mulberry32: a small seeded generator for the injectable `random`, so a failing case replays from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Returns `values` in turn, then `rest` forever (to force a weighted draw). */
export function scripted(values: number[], rest = 0.5): () => number {
  let i = 0;
  return () => (i < values.length ? values[i++]! : rest);
}
