import type { ServiceKey } from '../../registry/index.js';
import type { FailoverTarget, PolicyDocument, PolicyKind } from './schema.js';
import type { SourcePattern } from './source-pattern.js';

/**
 * A policy set compiled for the decisions: every document checked, every default applied
 * (here, once), every pattern parsed. The data plane, `explain` and (later) xDS read only this.
 */
export interface PolicySet {
  /** Increases with every set applied; 0 is the empty set a gateway starts with. */
  version: number;
  /** The documents as applied, in the order they were read (for `policy get`). */
  documents: readonly StoredPolicy[];
  /** Allow and deny rules, in document order (a deny wins wherever it is). */
  accessRules: readonly CompiledAccessRule[];
  /** Traffic classes by name. */
  classes: ReadonlyMap<string, CompiledClass>;
  /** The FailoverPolicy of each service that has one. */
  failover: ReadonlyMap<ServiceKey, CompiledFailover>;
  /** TrafficSplits of each service, in document order. */
  splits: ReadonlyMap<ServiceKey, readonly CompiledSplit[]>;
}

export interface StoredPolicy {
  kind: PolicyKind;
  name: string;
  /** Where it came from: a file of the policy directory, or `config` for the config's access[]. */
  origin: string;
  document: PolicyDocument;
}

/** `AccessPolicy/<name> rules[<i>]`, or `config access[<i>]`: what explain and refusals cite. */
export interface RuleRef {
  policy: string;
  index: number;
}

export interface CompiledAccessRule extends RuleRef {
  action: 'allow' | 'deny';
  from: readonly SourcePattern[];
  /** `*`, `*.<namespace>` or `<name>.<namespace>`. */
  to: readonly string[];
  methods: ReadonlySet<string> | undefined;
  paths: readonly string[] | undefined;
}

export interface CompiledClass {
  name: string;
  /** The AccessPolicy that defines it. */
  policy: string;
  from: readonly SourcePattern[];
}

export interface CompiledHealthCheck {
  kind: 'http' | 'tcp';
  /** HTTP path; http only. */
  path: string | undefined;
  /** Service port name; undefined: the first http port (http) or the first port (tcp). */
  port: string | undefined;
  /** Statuses that count as healthy; http only. */
  expectStatus: (status: number) => boolean;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export interface CompiledOutlierDetection {
  consecutiveFailures: number;
  ejectionMs: number;
  maxEjectionMs: number;
  maxEjectedPercent: number;
}

export type RetryOn = 'connect-failure' | 'reset' | '5xx';

export interface CompiledRetries {
  attempts: number;
  on: ReadonlySet<RetryOn>;
  perTryTimeoutMs: number | undefined;
  budgetPercent: number;
  minRetriesPerSecond: number;
}

export interface CompiledClassRoute {
  /** Only these endpoints serve the class; undefined: the policy's own targets. */
  targets: readonly FailoverTarget[] | undefined;
  refuse: boolean;
}

export interface CompiledFailover {
  /** `FailoverPolicy/<name>`, or `default` for a service without one. */
  policy: string;
  targets: readonly FailoverTarget[];
  minHealthy: { count: number } | { percent: number };
  failbackMs: number;
  healthCheck: CompiledHealthCheck | undefined;
  outlier: CompiledOutlierDetection;
  /** Until the answer's head; undefined: dataPlane.idleTimeout alone bounds the wait. */
  timeoutMs: number | undefined;
  retries: CompiledRetries;
  classes: ReadonlyMap<string, CompiledClassRoute>;
}

export interface CompiledSplitBackend {
  cluster: string | undefined;
  labels: Readonly<Record<string, string>> | undefined;
  service: ServiceKey | undefined;
  weight: number;
}

export interface CompiledSplit {
  /** `TrafficSplit/<name>`. */
  policy: string;
  classes: ReadonlySet<string> | undefined;
  backends: readonly CompiledSplitBackend[];
}

/**
 * The defaults of every FailoverPolicy field, and the policy of a service without one. They
 * make a failed cluster lose its traffic in about a second (connect failures are retried on
 * the next candidate at once; three failures in a row eject) and give it back only once it
 * has stayed well for the failback delay.
 */
export const DEFAULT_FAILOVER: CompiledFailover = Object.freeze({
  policy: 'default',
  targets: [],
  minHealthy: { count: 1 },
  failbackMs: 5_000,
  healthCheck: undefined,
  outlier: Object.freeze({ consecutiveFailures: 3, ejectionMs: 5_000, maxEjectionMs: 300_000, maxEjectedPercent: 100 }),
  timeoutMs: undefined,
  retries: Object.freeze({
    attempts: 2, on: new Set<RetryOn>(['connect-failure', 'reset', '5xx']), perTryTimeoutMs: undefined, budgetPercent: 20, minRetriesPerSecond: 10,
  }),
  classes: new Map(),
});

export const DEFAULT_HEALTH_CHECK = Object.freeze({ intervalMs: 5_000, timeoutMs: 1_000, healthyThreshold: 2, unhealthyThreshold: 2 });

export const EMPTY_POLICY_SET: PolicySet = Object.freeze({
  version: 0, documents: [], accessRules: [], classes: new Map(), failover: new Map(), splits: new Map(),
});

/** Where the decisions read the policy set in force (the store; a constant in tests). */
export interface PolicySource {
  current(): PolicySet;
  /** Called after a new set is in force. Returns the unsubscribe function. */
  onChange(listener: (set: PolicySet) => void): () => void;
}

export function failoverOf(set: PolicySet, service: ServiceKey): CompiledFailover {
  return set.failover.get(service) ?? DEFAULT_FAILOVER;
}
