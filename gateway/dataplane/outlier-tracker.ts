import { silentLogger, type GatewayRecord, type Logger } from '../../registry/index.js';

export interface OutlierTrackerOptions {
  /** Consecutive failures (connect errors or 5xx answers) that eject a gateway. Default 3. */
  consecutiveFailures?: number;
  /** First ejection time; each further ejection doubles it. Default 10 s. */
  baseEjectionMs?: number;
  /** Cap on the ejection time. Default 5 min. */
  maxEjectionMs?: number;
  now?: () => number | Date;
  logger?: Logger;
}

export interface OutlierState {
  key: string;
  consecutiveFailures: number;
  /** How many times this gateway has been ejected since its last success. */
  ejections: number;
  /** Epoch ms until which the gateway is skipped, when ejected now. */
  ejectedUntil: number | undefined;
}

interface Entry {
  failures: number;
  ejections: number;
  ejectedUntil: number;
}

/** The key outlier state is kept under: one remote gateway, by identity and address. */
export function gatewayKey(gateway: Pick<GatewayRecord, 'identity' | 'eastWestAddress'>): string {
  return `${gateway.identity}@${gateway.eastWestAddress}`;
}

/**
 * Passive outlier detection per remote gateway, modelled on Envoy's consecutive-5xx detector:
 * N consecutive failures eject the gateway for base × 2^(k-1) (k = ejections since its last
 * success), capped; any success resets it. An ejected gateway is skipped by the picker until
 * its time is up; it then gets traffic again and must fail N times more to be re-ejected.
 * No timers: ejection ends are compared against the injectable clock when asked.
 * FailoverPolicy (roadmap) will configure the thresholds.
 */
export class OutlierTracker {
  private readonly entries = new Map<string, Entry>();
  private readonly threshold: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly now: () => number;
  private readonly logger: Logger;

  constructor(options: OutlierTrackerOptions = {}) {
    this.threshold = options.consecutiveFailures ?? 3;
    this.baseMs = options.baseEjectionMs ?? 10_000;
    this.maxMs = options.maxEjectionMs ?? 300_000;
    if (!Number.isInteger(this.threshold) || this.threshold < 1) throw new RangeError('consecutiveFailures must be an integer >= 1');
    if (!(this.baseMs > 0) || !(this.maxMs >= this.baseMs)) throw new RangeError('ejection times must satisfy 0 < baseEjectionMs <= maxEjectionMs');
    const clock = options.now ?? Date.now;
    this.now = () => Number(clock());
    this.logger = (options.logger ?? silentLogger()).child({ component: 'outliers' });
  }

  /** A connect error, TLS failure or 5xx answer through `key`. */
  recordFailure(key: string): void {
    const entry = this.entries.get(key) ?? { failures: 0, ejections: 0, ejectedUntil: 0 };
    this.entries.set(key, entry);
    const now = this.now();
    // Failures of requests that were already under way when the gateway got ejected say
    // nothing new; they must not stretch the ejection.
    if (entry.ejectedUntil > now) return;
    entry.failures += 1;
    if (entry.failures < this.threshold) return;
    entry.ejections += 1;
    const duration = Math.min(this.baseMs * 2 ** (entry.ejections - 1), this.maxMs);
    entry.ejectedUntil = now + duration;
    entry.failures = 0;
    this.logger.info({ gateway: key, ejections: entry.ejections, durationMs: duration }, 'gateway ejected after consecutive failures');
  }

  recordSuccess(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    if (entry.ejections > 0) this.logger.info({ gateway: key }, 'gateway answered again; outlier state reset');
    this.entries.delete(key);
  }

  isEjected(key: string): boolean {
    const entry = this.entries.get(key);
    return entry !== undefined && entry.ejectedUntil > this.now();
  }

  /** Current state of every gateway that has failed since its last success (for the status API). */
  snapshot(): OutlierState[] {
    const now = this.now();
    return [...this.entries].map(([key, e]) => ({
      key,
      consecutiveFailures: e.failures,
      ejections: e.ejections,
      ejectedUntil: e.ejectedUntil > now ? e.ejectedUntil : undefined,
    }));
  }

  /** Forget a gateway (its cluster was removed). */
  forget(key: string): void {
    this.entries.delete(key);
  }
}
