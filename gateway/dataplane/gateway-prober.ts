import { describeError, silentLogger, type GatewayRecord, type Logger } from '../../registry/index.js';
import type { GatewayLiveness } from './gateway-liveness.js';
import { gatewayKey, type OutlierKey, type OutlierTracker } from './outlier-tracker.js';
import type { GatewayProbes, ProbeOutcome } from './probe.js';

export interface GatewayProberOptions {
  probes: GatewayProbes;
  liveness: GatewayLiveness;
  outliers: OutlierTracker;
  /** Whether the catalog still lists the gateway: one that left is forgotten, not probed forever. */
  known?: (gateway: GatewayRecord) => boolean;
  /** First probe of a dead gateway, and the first retry of a probe that could not reach it. Default 500 ms. */
  initialDelayMs?: number;
  /** Backoff cap. Default 5000 ms. */
  maxDelayMs?: number;
  now?: () => number;
  logger?: Logger;
}

interface Retry {
  attempts: number;
  dueAt: number;
}

/**
 * Brings gateways back by asking them, not by waiting:
 * - a `dead` gateway (GatewayLiveness) is probed — a fresh session that must answer a PING —
 *   500 ms after it died, then backing off ×2 to every 5 s; success makes it `up` (its
 *   changedAtMs = now, from which the decisions time their failback delay);
 * - an outlier-ejected (gateway, service port) whose ejection time is up is probed with the
 *   probe request (probe.ts) through that gateway: success restores it, a refusal or 5xx
 *   keeps it out and due again a second later (OutlierTracker.recordProbe). A probe that cannot reach
 *   the gateway at all judges nothing about the service: it is retried with the same backoff,
 *   and not at all while the gateway is dead.
 * One timer, set to the earliest due probe, unref'd and cleared on close.
 */
export class GatewayProber {
  private readonly options: GatewayProberOptions;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly retries = new Map<string, Retry>();
  private readonly inFlight = new Set<string>();
  private readonly unsubscribe: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private started = false;
  private closed = false;

  constructor(options: GatewayProberOptions) {
    this.options = options;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'prober' });
    this.now = options.now ?? Date.now;
    this.initialMs = options.initialDelayMs ?? 500;
    this.maxMs = options.maxDelayMs ?? 5000;
    if (!(this.initialMs > 0) || !(this.maxMs >= this.initialMs)) throw new RangeError('prober delays must satisfy 0 < initialDelayMs <= maxDelayMs');
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.unsubscribe.push(this.options.liveness.onChange(() => this.schedule()), this.options.outliers.onChange(() => this.schedule()));
    this.schedule();
  }

  /** Stops probing; probes under way finish, and their outcome is dropped. Idempotent. */
  close(): void {
    this.closed = true;
    for (const off of this.unsubscribe.splice(0)) off();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Probes under way now (tests, status). */
  probing(): number {
    return this.inFlight.size;
  }

  private schedule(): void {
    if (this.closed || !this.started) return;
    const now = this.now();
    let next = Infinity;
    for (const job of this.jobs(now)) next = Math.min(next, job.dueAt);
    if (next === Infinity) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
      return;
    }
    if (this.timer !== undefined && this.timerAt <= next) return;
    clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.run();
    }, Math.max(next - now, 0));
    this.timer.unref();
  }

  /** Every probe there is to do, with when it is due; starts none. */
  private jobs(now: number): Array<{ id: string; dueAt: number; start: () => void }> {
    const jobs: Array<{ id: string; dueAt: number; start: () => void }> = [];
    const dead = new Set<string>();
    for (const gateway of this.options.liveness.deadGateways()) {
      const id = `gateway ${gatewayKey(gateway)}`;
      dead.add(gatewayKey(gateway));
      if (!this.retries.has(id)) this.retries.set(id, { attempts: 0, dueAt: now + this.initialMs });
      if (!this.inFlight.has(id)) jobs.push({ id, dueAt: this.retries.get(id)!.dueAt, start: () => this.probeGateway(id, gateway) });
    }
    const pending = new Set<string>();
    for (const { key, until } of this.options.outliers.ejectedKeys()) {
      const id = `service ${key.id}`;
      pending.add(id);
      // The gateway's own probe comes first: a service cannot be judged through a dead gateway.
      if (dead.has(gatewayKey(key.gateway)) || this.inFlight.has(id)) continue;
      jobs.push({ id, dueAt: Math.max(until, this.retries.get(id)?.dueAt ?? 0), start: () => this.probeService(id, key) });
    }
    // Forget the backoff of what no longer needs probing (it came back some other way).
    for (const id of this.retries.keys()) {
      const live = id.startsWith('gateway ') ? dead.has(id.slice('gateway '.length)) : pending.has(id);
      if (!live && !this.inFlight.has(id)) this.retries.delete(id);
    }
    return jobs;
  }

  private run(): void {
    if (this.closed) return;
    const now = this.now();
    for (const job of this.jobs(now)) if (job.dueAt <= now) job.start();
    this.schedule();
  }

  private probeGateway(id: string, gateway: GatewayRecord): void {
    if (this.options.known !== undefined && !this.options.known(gateway)) {
      this.logger.info({ gateway: gateway.identity, address: gateway.eastWestAddress }, 'gateway left the catalog; no longer probed');
      this.options.liveness.forget(gateway);
      this.options.outliers.forget(gateway);
      return;
    }
    this.track(id, this.options.probes.probeGateway(gateway), (outcome) => {
      if (outcome.ok) {
        this.options.liveness.markUp(gateway, `probe: ${outcome.detail}`);
        return true;
      }
      // The latest reason, for status — unless it came back some other way meanwhile.
      if (this.options.liveness.stateOf(gateway).condition === 'dead') this.options.liveness.markDead(gateway, outcome.reason);
      return false;
    });
  }

  private probeService(id: string, key: OutlierKey): void {
    this.track(id, this.options.probes.probeService(key.gateway, `${key.service}:${key.port}`), (outcome) => {
      if (outcome.ok) this.options.outliers.recordProbe(key, true, outcome.detail);
      else if (outcome.reachable) this.options.outliers.recordProbe(key, false, outcome.reason);
      // Not reachable: nothing learned about the service; the gateway's liveness has the news.
      return outcome.ok || outcome.reachable;
    });
  }

  /** Runs one probe; `settle` returns whether it is done (else it is retried with backoff). */
  private track(id: string, probe: Promise<ProbeOutcome>, settle: (outcome: ProbeOutcome) => boolean): void {
    this.inFlight.add(id);
    probe
      .catch((err: unknown): ProbeOutcome => ({ ok: false, reachable: false, reason: describeError(err) }))
      .then((outcome) => {
        this.inFlight.delete(id);
        if (this.closed) return;
        this.logger.debug({ probe: id, ok: outcome.ok, detail: outcome.ok ? outcome.detail : outcome.reason }, 'probe done');
        if (settle(outcome)) {
          this.retries.delete(id);
        } else {
          const retry = this.retries.get(id) ?? { attempts: 0, dueAt: 0 };
          retry.attempts += 1;
          retry.dueAt = this.now() + Math.min(this.initialMs * 2 ** retry.attempts, this.maxMs);
          this.retries.set(id, retry);
        }
        this.schedule();
      });
  }
}
