import { NO_EVENTS, silentLogger, type EventSink, type GatewayRecord, type Logger, type ServiceKey } from '../../registry/index.js';
import type { DataPlaneEvent } from '../telemetry/events.js';
import { DEFAULT_FAILOVER, type CompiledOutlierDetection } from '../policy/policy-set.js';

/** The key a remote gateway's session and liveness are kept under: its identity and address. */
export function gatewayKey(gateway: Pick<GatewayRecord, 'identity' | 'eastWestAddress'>): string {
  return `${gateway.identity}@${gateway.eastWestAddress}`;
}

/**
 * What outlier detection judges: one remote gateway for one service port. A 5xx storm from
 * payments behind gateway B ejects (B, payments:8080) and nothing else: B keeps carrying every
 * other service.
 */
export interface OutlierKey {
  /** `<gateway identity>@<address> <service>:<port>`: the map key, and what status shows. */
  readonly id: string;
  readonly gateway: GatewayRecord;
  readonly service: ServiceKey;
  readonly port: number;
}

export function outlierKey(gateway: GatewayRecord, service: ServiceKey, port: number): OutlierKey {
  return { id: `${gatewayKey(gateway)} ${service}:${port}`, gateway, service, port };
}

/**
 * - `ok`: counting failures, not ejected;
 * - `ejected`: skipped until `ejectedUntil`;
 * - `probing`: the ejection time is up, but the key stays ejected until a probe of that service
 *   through that gateway succeeds (gateway-prober.ts) — a timer alone never brings it back.
 */
export type OutlierCondition = 'ok' | 'ejected' | 'probing';

export interface OutlierState {
  key: string;
  gateway: string;
  address: string;
  service: string;
  condition: OutlierCondition;
  consecutiveFailures: number;
  /** Ejections since the key last stayed well (each doubles the next ejection time). */
  ejections: number;
  /** Epoch ms the current ejection time ends (ejected and probing). */
  ejectedUntil: number | undefined;
  /** The failure that ejected it, or the last failed probe. */
  reason: string | undefined;
  lastProbe: { atMs: number; ok: boolean; detail: string } | undefined;
}

interface Entry {
  key: OutlierKey;
  failures: number;
  ejections: number;
  ejectedUntil: number;
  /** Ejected (or probing) until a probe succeeds. */
  ejected: boolean;
  /** Thresholds the last failure was judged by. */
  detection: CompiledOutlierDetection;
  /** Epoch ms a probe last restored it; it is forgotten once it has stayed well as long as its last ejection. */
  restoredAt: number;
  reason: string | undefined;
  lastProbe: OutlierState['lastProbe'];
}

/** A key whose probe failed is probed again this soon (or after its ejection time, if shorter). */
export const PROBE_RETRY_MS = 1000;

export interface OutlierTrackerOptions {
  now?: () => number | Date;
  logger?: Logger;
  /** Telemetry: each ejection (`outlier.ejected`). */
  events?: EventSink<DataPlaneEvent>;
}

/**
 * Passive outlier detection per (remote gateway, service port), modelled on Envoy's
 * consecutive-5xx detector, with recovery by active probe:
 * - `recordFailure(key, detection)` (a connect error, TLS failure, broken tunnel or 5xx
 *   answer) counts; `detection.consecutiveFailures` in a row eject the key for
 *   `ejectionMs × 2^(k-1)` (k = ejections since it last stayed well), capped at `maxEjectionMs`.
 *   The thresholds come with each call, from the service's FailoverPolicy.
 * - when that time is up the key is `probing`: still ejected, and the prober's turn.
 *   `recordProbe(key, true)` restores it; `recordProbe(key, false)` keeps it out and makes it
 *   due again PROBE_RETRY_MS later (a probe costs callers nothing). The doubling is for a
 *   relapse under live traffic soon after a restore: a flapping backend stays out longer.
 * - `recordSuccess(key)` resets the count of a key that is not ejected. While ejected, answers
 *   to requests already under way say nothing new and are ignored, like their failures.
 * `maxEjectedPercent` is the decision's to apply (it knows the candidates; the tracker does not).
 * No timers here: ejection ends are compared against the injectable clock when asked.
 */
export class OutlierTracker {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<() => void>();
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly events: EventSink<DataPlaneEvent>;

  constructor(options: OutlierTrackerOptions = {}) {
    const clock = options.now ?? Date.now;
    this.now = () => Number(clock());
    this.events = options.events ?? NO_EVENTS;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'outliers' });
  }

  /** A connect error, TLS failure, broken tunnel or 5xx answer through `key`. */
  recordFailure(key: OutlierKey, detection: CompiledOutlierDetection = DEFAULT_FAILOVER.outlier, reason?: string): void {
    const entry = this.entries.get(key.id) ?? this.create(key, detection);
    // Failures of requests that were under way when the key got ejected say nothing new;
    // they must not stretch the ejection.
    if (entry.ejected) return;
    entry.detection = detection;
    entry.failures += 1;
    if (entry.failures < detection.consecutiveFailures) return;
    this.eject(entry, reason ?? `${entry.failures} consecutive failures`);
  }

  recordSuccess(key: OutlierKey): void {
    const entry = this.entries.get(key.id);
    if (entry === undefined || entry.ejected) return;
    entry.failures = 0;
    // Stayed well as long as it was last ejected for: its history is forgotten.
    if (entry.ejections === 0 || this.now() - entry.restoredAt >= this.duration(entry, entry.ejections)) this.entries.delete(key.id);
  }

  /** The outcome of a probe of `key` (gateway-prober.ts). */
  recordProbe(key: OutlierKey, ok: boolean, detail: string): void {
    const entry = this.entries.get(key.id);
    if (entry === undefined || !entry.ejected) return;
    const now = this.now();
    entry.lastProbe = { atMs: now, ok, detail };
    if (ok) {
      entry.ejected = false;
      entry.failures = 0;
      entry.restoredAt = now;
      this.logger.info({ key: key.id, detail }, 'probe succeeded; outlier ejection ended');
      this.changed();
      return;
    }
    // Still broken: probe again soon. A probe costs callers nothing, so it is not spaced out
    // like an ejection; the doubling is for relapses under live traffic (a flapping backend).
    entry.ejectedUntil = now + Math.min(PROBE_RETRY_MS, entry.detection.ejectionMs);
    entry.reason = `probe failed: ${detail}`;
    this.changed();
  }

  isEjected(key: OutlierKey): boolean {
    return this.entries.get(key.id)?.ejected === true;
  }

  /** Why `gateway` is ejected for `service:port`, or undefined when it is not (the decisions' OutlierView). */
  ejection(gateway: GatewayRecord, service: ServiceKey, port: number): string | undefined {
    const entry = this.entries.get(outlierKey(gateway, service, port).id);
    if (entry === undefined || !entry.ejected) return undefined;
    return this.conditionOf(entry) === 'probing'
      ? `${entry.reason ?? 'failures'}; ejection time over, waiting for a probe to succeed`
      : `${entry.reason ?? 'failures'}; until ${new Date(entry.ejectedUntil).toISOString()}`;
  }

  state(key: OutlierKey): OutlierState | undefined {
    const entry = this.entries.get(key.id);
    return entry === undefined ? undefined : this.view(entry);
  }

  /** Every ejected key (ejected or probing) and when its ejection time ends: the prober's work list. */
  ejectedKeys(): Array<{ key: OutlierKey; until: number }> {
    return [...this.entries.values()].filter((e) => e.ejected).map((e) => ({ key: e.key, until: e.ejectedUntil }));
  }

  /** Called on every ejection and restoration (the prober reschedules itself). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every key that has failed since it last stayed well (for the status API). */
  snapshot(): OutlierState[] {
    return [...this.entries.values()].map((e) => this.view(e));
  }

  /** Forget every key of a gateway (its cluster was removed). */
  forget(gateway: Pick<GatewayRecord, 'identity' | 'eastWestAddress'>): void {
    const prefix = `${gatewayKey(gateway)} `;
    for (const id of this.entries.keys()) if (id.startsWith(prefix)) this.entries.delete(id);
  }

  private create(key: OutlierKey, detection: CompiledOutlierDetection): Entry {
    const entry: Entry = {
      key, failures: 0, ejections: 0, ejectedUntil: 0, ejected: false, detection, restoredAt: 0, reason: undefined, lastProbe: undefined,
    };
    this.entries.set(key.id, entry);
    return entry;
  }

  private eject(entry: Entry, reason: string): void {
    entry.ejections += 1;
    const duration = this.duration(entry, entry.ejections);
    entry.ejected = true;
    entry.ejectedUntil = this.now() + duration;
    entry.failures = 0;
    entry.reason = reason;
    this.logger.info({ key: entry.key.id, ejections: entry.ejections, durationMs: duration, reason }, 'gateway ejected for the service');
    const { gateway, service, port } = entry.key;
    this.events.publish({
      type: 'outlier.ejected', at: new Date(this.now()).toISOString(), gateway: gateway.identity, cluster: gateway.cluster, service, port, ejections: entry.ejections, reason,
    });
    this.changed();
  }

  private duration(entry: Entry, ejections: number): number {
    const { ejectionMs, maxEjectionMs } = entry.detection;
    return Math.min(ejectionMs * 2 ** Math.max(ejections - 1, 0), maxEjectionMs);
  }

  private conditionOf(entry: Entry): OutlierCondition {
    if (!entry.ejected) return 'ok';
    return entry.ejectedUntil > this.now() ? 'ejected' : 'probing';
  }

  private view(e: Entry): OutlierState {
    return {
      key: e.key.id, gateway: e.key.gateway.identity, address: e.key.gateway.eastWestAddress, service: `${e.key.service}:${e.key.port}`,
      condition: this.conditionOf(e), consecutiveFailures: e.failures, ejections: e.ejections,
      ejectedUntil: e.ejected ? e.ejectedUntil : undefined, reason: e.reason, lastProbe: e.lastProbe,
    };
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
