import {
  CausewayError, ErrorCodes, NAME_PATTERN, describeError, parseServiceKey, silentLogger, type Logger, type ServiceKey,
} from '../../registry/index.js';
import { probeHttp, probeTcp, type ProbeResult } from '../health/health-probe.js';
import { DEFAULT_OUTPUT_LIMIT, probeCommand } from './command-probe.js';
import { describeTarget, type CheckKind, type ServiceCheck } from './service-check-config.js';

export {
  DEFAULT_CHECK_TIMING, describeTarget, parseCheck,
  type CheckKind, type CheckTiming, type CommandCheckTarget, type HttpCheckTarget, type ServiceCheck, type TcpCheckTarget,
} from './service-check-config.js';

/** What the agent reports for a service (the agent channel's `health` frame). */
export type CheckHealth = 'healthy' | 'unhealthy';

/** Called once per flip of a service's health, never per check; `detail` says why. */
export type HealthChangeListener = (service: ServiceKey, health: CheckHealth, detail: string) => void;

export interface ServiceChecksOptions {
  logger?: Logger;
  now?: () => number;
  /** Bytes of a command's output kept for the status (default 4096, as Consul). */
  outputLimit?: number;
}

/** One check's last outcome. Times are ISO 8601. */
export interface CheckResultStatus {
  ok: boolean;
  /** `HTTP 200`, `connected`, `exit 1`, `connect ECONNREFUSED`, `timeout after 2000 ms`, ... */
  reason: string;
  /** A command's output excerpt; undefined for http and tcp checks. */
  output: string | undefined;
  at: string;
}

/** One service's check, as the agent's status shows it. */
export interface ServiceCheckStatus {
  service: ServiceKey;
  kind: CheckKind;
  /** The URL, `host:port`, or the command line. */
  target: string;
  health: CheckHealth;
  lastResult: CheckResultStatus | undefined;
  /** The last failed check, kept after later passes so a flap can be read afterwards. */
  lastError: CheckResultStatus | undefined;
  consecutivePasses: number;
  consecutiveFailures: number;
  lastCheckedAt: string | undefined;
  lastChangeAt: string | undefined;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

interface Outcome {
  ok: boolean;
  reason: string;
  output: string | undefined;
  at: number;
}

interface Entry {
  key: ServiceKey;
  check: ServiceCheck;
  signature: string;
  health: CheckHealth;
  /** False until this check's first pass, which alone makes the service healthy. */
  passedOnce: boolean;
  passes: number;
  failures: number;
  last: Outcome | undefined;
  lastError: Outcome | undefined;
  lastChangeAt: number | undefined;
  timer: NodeJS.Timeout | undefined;
  abort: AbortController | undefined;
  stopped: boolean;
}

/**
 * The health checks of the services on the agent's host, one per service key
 * (`<name>.<namespace>`); one `ServiceChecks` per agent.
 *
 * A service without a check is healthy. A service given a check starts **unhealthy** —
 * Consul's checks start critical unless an initial status is set, and Envoy's active health
 * checks hold a new host unhealthy until it passes — and is checked at once. Its first pass
 * makes it healthy on the spot (Envoy: "during startup, only a single successful health
 * check is required to mark a host healthy"), so a service is usable as soon as it answers.
 * After that, `unhealthyThreshold` failures in a row make it unhealthy and `healthyThreshold`
 * passes in a row healthy again. Each check starts `intervalMs` after the previous one ended.
 *
 * `onChange` listeners hear every flip of a service's health — including the one a new check
 * causes (healthy → unhealthy until its first pass) and the one a removed check causes — at
 * once and only then, never per check. An agent reads `health()` for every service when it
 * (re)registers, then follows `onChange`.
 */
export class ServiceChecks {
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly outputLimit: number;
  private readonly entries = new Map<ServiceKey, Entry>();
  private readonly listeners = new Set<HealthChangeListener>();
  private readonly running = new Set<Promise<void>>();
  private closing: Promise<void> | undefined;

  constructor(options: ServiceChecksOptions = {}) {
    this.log = (options.logger ?? silentLogger()).child({ component: 'service-checks' });
    this.now = options.now ?? Date.now;
    this.outputLimit = options.outputLimit ?? DEFAULT_OUTPUT_LIMIT;
    if (!Number.isSafeInteger(this.outputLimit) || this.outputLimit < 0) {
      throw new CausewayError(ErrorCodes.CONFIG_INVALID, `outputLimit: ${String(options.outputLimit)} must be a whole number of bytes`);
    }
  }

  /**
   * Checks `service` with `check` from now on (undefined: no check, the service is healthy).
   * The same check again changes nothing; a different one starts counting afresh from the
   * service's current health. CW_CLOSED after close(); CW_CONFIG_INVALID for a bad key or timing.
   */
  set(service: ServiceKey, check: ServiceCheck | undefined): void {
    if (this.closing !== undefined) throw new CausewayError(ErrorCodes.CLOSED, 'the service checks are closed');
    const parts = parseServiceKey(service);
    if (parts === undefined || !NAME_PATTERN.test(parts.name) || !NAME_PATTERN.test(parts.namespace)) {
      throw new CausewayError(ErrorCodes.CONFIG_INVALID, `"${service.slice(0, 200)}" is not a service key <name>.<namespace>`);
    }
    if (check === undefined) {
      this.delete(service);
      return;
    }
    assertTiming(service, check);
    const signature = JSON.stringify(check, Object.keys(check).sort());
    const held = this.entries.get(service);
    if (held?.signature === signature) return;
    if (held !== undefined) this.stop(held);
    const entry: Entry = {
      // A new check starts from the health of a service without one, and flips it at once below.
      key: service, check, signature, health: held?.health ?? 'healthy', passedOnce: false, passes: 0, failures: 0,
      last: undefined, lastError: held?.lastError, lastChangeAt: held?.lastChangeAt, timer: undefined, abort: undefined, stopped: false,
    };
    this.entries.set(service, entry);
    this.log.info({ service, kind: check.kind, target: describeTarget(check) }, held === undefined ? 'service check added' : 'service check changed: counting again');
    if (held === undefined) this.flip(entry, 'unhealthy', 'check added: unhealthy until its first pass');
    // A listener may have removed it again, or closed everything, in the meantime.
    if (!entry.stopped) this.run(entry);
  }

  /** Stops checking `service`; it is healthy again (no check). */
  delete(service: ServiceKey): void {
    const entry = this.entries.get(service);
    if (entry === undefined) return;
    this.stop(entry);
    this.entries.delete(service);
    this.log.info({ service }, 'service check removed');
    if (this.closing === undefined) this.flip(entry, 'healthy', 'check removed');
  }

  /** The service's health now: healthy when it has no check. */
  health(service: ServiceKey): CheckHealth {
    return this.entries.get(service)?.health ?? 'healthy';
  }

  /** Hears every flip from now on; returns the unsubscribe. */
  onChange(listener: HealthChangeListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /** Every checked service, by key. */
  status(): ServiceCheckStatus[] {
    const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
    const result = (o: Outcome | undefined): CheckResultStatus | undefined => (o === undefined ? undefined : { ...o, at: iso(o.at) ?? '' });
    return [...this.entries.values()].sort((a, b) => (a.key < b.key ? -1 : 1)).map((e) => ({
      service: e.key, kind: e.check.kind, target: describeTarget(e.check), health: e.health,
      lastResult: result(e.last), lastError: result(e.lastError),
      consecutivePasses: e.passes, consecutiveFailures: e.failures, lastCheckedAt: iso(e.last?.at), lastChangeAt: iso(e.lastChangeAt),
      intervalMs: e.check.intervalMs, timeoutMs: e.check.timeoutMs,
      healthyThreshold: e.check.healthyThreshold, unhealthyThreshold: e.check.unhealthyThreshold,
    }));
  }

  /**
   * Stops every check: timers cleared, sockets destroyed, running commands killed; resolves
   * once they have exited. No listener is called after it. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.listeners.clear();
      for (const entry of this.entries.values()) this.stop(entry);
      await Promise.all([...this.running]);
    })();
    return this.closing;
  }

  private stop(entry: Entry): void {
    entry.stopped = true;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.abort?.abort();
  }

  private run(entry: Entry): void {
    const abort = new AbortController();
    entry.abort = abort;
    const done = this.probe(entry.check, abort.signal).then((result) => {
      entry.abort = undefined;
      if (entry.stopped) return;
      this.record(entry, result);
      // A listener may have removed or replaced the check, or closed everything.
      if (entry.stopped) return;
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        if (!entry.stopped) this.run(entry);
      }, entry.check.intervalMs);
      entry.timer.unref();
    }).catch((err: unknown) => {
      // The probes settle with a result and never reject, and listeners are guarded: a bug.
      this.log.error({ service: entry.key, err: describeError(err) }, 'a service check failed unexpectedly; it is no longer run');
    }).finally(() => { this.running.delete(done); });
    this.running.add(done);
  }

  private probe(check: ServiceCheck, signal: AbortSignal): Promise<ProbeResult & { output?: string }> {
    const { timeoutMs } = check;
    switch (check.kind) {
      case 'tcp':
        return probeTcp({ address: check.address, port: check.port, timeoutMs, signal });
      case 'http': {
        const expected = check.expectStatus;
        return probeHttp({
          address: check.address, port: check.port, path: check.path, host: check.host, timeoutMs, signal,
          // RFC 9110 §15: 2xx is success and 3xx a redirect the service chose to send.
          expectStatus: expected === undefined ? (status) => status >= 200 && status <= 399 : (status) => expected.includes(status),
        });
      }
      case 'command':
        return probeCommand({ argv: check.argv, timeoutMs, signal, outputLimit: this.outputLimit });
    }
  }

  /** Counts a result in a row and flips the health when a threshold is reached. */
  private record(entry: Entry, result: ProbeResult & { output?: string }): void {
    const outcome: Outcome = { ok: result.ok, reason: result.reason, output: result.output, at: this.now() };
    entry.last = outcome;
    if (result.ok) {
      entry.passes += 1;
      entry.failures = 0;
    } else {
      entry.failures += 1;
      entry.passes = 0;
      entry.lastError = outcome;
    }
    const first = result.ok && !entry.passedOnce;
    if (result.ok) entry.passedOnce = true;
    const { healthyThreshold, unhealthyThreshold } = entry.check;
    if (entry.health === 'unhealthy' && result.ok && (first || entry.passes >= healthyThreshold)) {
      this.flip(entry, 'healthy', first ? `${result.reason} (first pass)` : `${result.reason} (${entry.passes} passes in a row)`);
    } else if (entry.health === 'healthy' && !result.ok && entry.failures >= unhealthyThreshold) {
      const excerpt = result.output === undefined || result.output === '' ? '' : `: ${result.output.split('\n')[0]?.slice(0, 200) ?? ''}`;
      this.flip(entry, 'unhealthy', `${result.reason} (${entry.failures} failures in a row)${excerpt}`);
    }
  }

  private flip(entry: Entry, health: CheckHealth, detail: string): void {
    if (entry.health === health) return;
    const from = entry.health;
    entry.health = health;
    entry.lastChangeAt = this.now();
    const level = health === 'healthy' ? 'info' : 'warn';
    this.log[level]({ service: entry.key, from, to: health, detail }, `service ${health}: ${detail}`);
    for (const listener of [...this.listeners]) {
      try {
        listener(entry.key, health, detail);
      } catch (err) {
        this.log.error({ service: entry.key, err: describeError(err) }, 'a service health listener threw');
      }
    }
  }
}

/**
 * A programming error rather than a config one (parseCheck bounds these): refused loudly.
 * timeoutMs may exceed intervalMs here: the next check starts an interval after the previous
 * one ended, so checks never overlap (parseCheck still asks for timeout < interval, as Consul).
 */
function assertTiming(service: ServiceKey, check: ServiceCheck): void {
  const { intervalMs, timeoutMs, healthyThreshold, unhealthyThreshold } = check;
  if (![intervalMs, timeoutMs, healthyThreshold, unhealthyThreshold].every((n) => Number.isSafeInteger(n) && n > 0)) {
    throw new CausewayError(ErrorCodes.CONFIG_INVALID,
      `${service}: a check needs whole positive intervalMs, timeoutMs, healthyThreshold and unhealthyThreshold`);
  }
}
