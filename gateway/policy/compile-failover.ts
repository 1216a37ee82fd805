import type { ClassReference } from './compile-access.js';
import {
  DEFAULT_FAILOVER, DEFAULT_HEALTH_CHECK, type CompiledClassRoute, type CompiledFailover, type CompiledHealthCheck, type CompiledOutlierDetection,
  type CompiledRetries,
} from './policy-set.js';
import type { DocumentProblems } from './policy-error.js';
import type { FailoverPolicy, HealthCheckDocument, OutlierDetectionDocument, RetryPolicyDocument } from './schema.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
/** Longer than this is a mistake, and past 2^31-1 ms a Node timer would fire at once. */
const MAX_DURATION_MS = 24 * 3_600_000;

/**
 * A policy duration in milliseconds. The schema already holds it to `<n>(ms|s|m|h)`; this
 * adds what a pattern cannot say. Not parseDurationMs (config/durations.ts): that refuses 0,
 * which here is meaningful (failback.delay: 0s fails back at once), and takes days.
 */
export function durationMs(text: string, path: string, at: DocumentProblems, positive: boolean): number | undefined {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (match === null) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (ms > MAX_DURATION_MS) at.add(path, `"${text}" is longer than 24h`);
  else if (positive && ms === 0) at.add(path, `"${text}": must be more than 0`);
  else return ms;
  return undefined;
}

function healthCheckOf(doc: HealthCheckDocument, at: DocumentProblems): CompiledHealthCheck | undefined {
  const path = 'spec.healthCheck';
  if ((doc.http === undefined) === (doc.tcp === undefined)) {
    at.add(path, 'must set exactly one of http, tcp');
    return undefined;
  }
  const expect = doc.http?.expectStatus === undefined ? undefined : new Set(doc.http.expectStatus);
  return {
    kind: doc.http === undefined ? 'tcp' : 'http',
    path: doc.http?.path,
    port: doc.http?.port ?? doc.tcp?.port,
    // RFC 9110 §15: 2xx is success and 3xx a redirect the checked service chose to send.
    expectStatus: expect === undefined ? (status) => status >= 200 && status <= 399 : (status) => expect.has(status),
    intervalMs: doc.interval === undefined ? DEFAULT_HEALTH_CHECK.intervalMs : durationMs(doc.interval, `${path}.interval`, at, true) ?? 0,
    timeoutMs: doc.timeout === undefined ? DEFAULT_HEALTH_CHECK.timeoutMs : durationMs(doc.timeout, `${path}.timeout`, at, true) ?? 0,
    healthyThreshold: doc.healthyThreshold ?? DEFAULT_HEALTH_CHECK.healthyThreshold,
    unhealthyThreshold: doc.unhealthyThreshold ?? DEFAULT_HEALTH_CHECK.unhealthyThreshold,
  };
}

function outlierOf(doc: OutlierDetectionDocument | undefined, at: DocumentProblems): CompiledOutlierDetection {
  const defaults = DEFAULT_FAILOVER.outlier;
  const path = 'spec.outlierDetection';
  const ejectionMs = doc?.ejectionTime === undefined ? defaults.ejectionMs : durationMs(doc.ejectionTime, `${path}.ejectionTime`, at, true) ?? 0;
  const maxEjectionMs = doc?.maxEjectionTime === undefined ? defaults.maxEjectionMs : durationMs(doc.maxEjectionTime, `${path}.maxEjectionTime`, at, true) ?? 0;
  if (ejectionMs > 0 && maxEjectionMs > 0 && ejectionMs > maxEjectionMs) {
    const max = doc?.maxEjectionTime ?? `${defaults.maxEjectionMs / 1000}s by default`;
    at.add(`${path}.ejectionTime`, `${doc?.ejectionTime ?? `${defaults.ejectionMs / 1000}s by default`} is longer than maxEjectionTime (${max})`);
  }
  return {
    consecutiveFailures: doc?.consecutiveFailures ?? defaults.consecutiveFailures,
    ejectionMs, maxEjectionMs,
    maxEjectedPercent: doc?.maxEjectedPercent ?? defaults.maxEjectedPercent,
  };
}

function retriesOf(doc: RetryPolicyDocument | undefined, at: DocumentProblems): CompiledRetries {
  const defaults = DEFAULT_FAILOVER.retries;
  return {
    attempts: doc?.attempts ?? defaults.attempts,
    on: doc?.on === undefined ? defaults.on : new Set(doc.on),
    perTryTimeoutMs: doc?.perTryTimeout === undefined ? undefined : durationMs(doc.perTryTimeout, 'spec.retries.perTryTimeout', at, true),
    budgetPercent: doc?.budgetPercent ?? defaults.budgetPercent,
    minRetriesPerSecond: doc?.minRetriesPerSecond ?? defaults.minRetriesPerSecond,
  };
}

/** One FailoverPolicy with every default of DEFAULT_FAILOVER applied, here and only here. */
export function compileFailover(doc: FailoverPolicy, at: DocumentProblems, refs: ClassReference[]): CompiledFailover {
  const { spec } = doc;
  const classes = new Map<string, CompiledClassRoute>();
  (spec.classes ?? []).forEach((route, i) => {
    const path = `spec.classes[${i}]`;
    refs.push({ at, path: `${path}.class`, name: route.class });
    if (classes.has(route.class)) at.add(`${path}.class`, `class "${route.class}" is routed twice in this policy`);
    const refuse = route.refuse === true;
    if ((route.targets === undefined) === !refuse) at.add(path, 'must set exactly one of targets, refuse: true');
    classes.set(route.class, { targets: refuse ? undefined : route.targets, refuse });
  });
  const minHealthy = spec.minHealthy;
  return {
    policy: `FailoverPolicy/${doc.metadata.name}`,
    targets: spec.targets ?? DEFAULT_FAILOVER.targets,
    minHealthy: minHealthy === undefined ? DEFAULT_FAILOVER.minHealthy
      : typeof minHealthy === 'number' ? { count: minHealthy } : { percent: Number(minHealthy.slice(0, -1)) },
    failbackMs: spec.failback?.delay === undefined ? DEFAULT_FAILOVER.failbackMs : durationMs(spec.failback.delay, 'spec.failback.delay', at, false) ?? 0,
    healthCheck: spec.healthCheck === undefined ? undefined : healthCheckOf(spec.healthCheck, at),
    outlier: outlierOf(spec.outlierDetection, at),
    timeoutMs: spec.timeout === undefined ? undefined : durationMs(spec.timeout, 'spec.timeout', at, true),
    retries: retriesOf(spec.retries, at),
    classes,
  };
}
