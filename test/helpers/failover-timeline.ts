// What an open-loop record says about one failover: a fault at `faultMs` that makes
// `from` unusable, its restore at `restoreMs`, the end of observation at `endMs` (all on the
// client clock). Used by the failover test (assertions) and `npm run bench:failover` (table).
import type { RequestRecord } from './open-loop-client.js';

export interface FailoverEvent {
  /** The cluster that fails and should get its traffic back. */
  from: string;
  /** The cluster that should take over. */
  to: string;
  faultMs: number;
  restoreMs: number;
  endMs: number;
}

export interface FailoverFigures {
  /** Requests sent over the whole window. */
  sent: number;
  /** Failed requests that ended before the fault (should be none: the set-up was healthy). */
  failedBefore: number;
  /** Failed requests that ended at or after the fault and were sent before the restore. */
  failedAtFault: number;
  /**
   * Send time of the last request that failed because of the fault, after the fault (ms);
   * 0 for a request already in flight; undefined when none failed.
   */
  lastFailedAfterFaultMs: number | undefined;
  /** First request sent after the fault answered by `to`: when it was sent (ms after the fault). */
  firstOnOtherMs: number | undefined;
  /** When `to` first answered a request sent after the fault (ms after the fault): the stall. */
  otherAnsweringAtMs: number | undefined;
  /**
   * From when every request sent until the restore was answered by `to` (ms after the fault);
   * undefined when that never held for `stableMs` before the restore.
   */
  movedAfterMs: number | undefined;
  /** Failed requests sent at or after the restore. */
  failedAtRestore: number;
  /**
   * From when every request sent until the end was answered by `from` again (ms after the
   * restore); undefined when that never held for `stableMs` before the end.
   */
  failbackAfterMs: number | undefined;
  /** Failed requests by kind: `timeout`, `error ECONNRESET`, `status 502 CW_UPSTREAM_CONNECT`. */
  failureKinds: Record<string, number>;
  /** Answers by cluster during the fault (sent in [fault, restore)). */
  answeredDuringFault: Record<string, number>;
}

const failed = (r: RequestRecord): boolean => r.outcome !== undefined && r.outcome !== 'ok';

export function failureKind(r: RequestRecord): string {
  if (r.outcome === 'status') return `status ${r.status ?? '?'}${r.code === undefined ? '' : ` ${r.code}`}`;
  if (r.outcome === 'error') return `error ${r.code ?? '?'}`;
  return r.outcome ?? 'in flight';
}

/**
 * The start of the tail of `records` in which every request was answered by `cluster`:
 * the send time of the request after the last one that was not, if the tail spans at least
 * `stableMs` before `until`.
 */
function settledFrom(records: readonly RequestRecord[], cluster: string, until: number, stableMs: number): number | undefined {
  let start: number | undefined;
  for (const r of records) {
    const good = r.outcome === 'ok' && r.cluster === cluster;
    if (!good) start = undefined;
    else start ??= r.sentMs;
  }
  return start !== undefined && until - start >= stableMs ? start : undefined;
}

export function analyseFailover(records: readonly RequestRecord[], event: FailoverEvent, stableMs = 1000): FailoverFigures {
  const { faultMs, restoreMs, endMs } = event;
  const window = records.filter((r) => r.sentMs < endMs);
  const during = window.filter((r) => r.sentMs >= faultMs && r.sentMs < restoreMs);
  const afterRestore = window.filter((r) => r.sentMs >= restoreMs);
  const atFault = window.filter((r) => failed(r) && r.endMs! >= faultMs && r.sentMs < restoreMs);
  const failureKinds: Record<string, number> = {};
  for (const r of window.filter((x) => failed(x) && x.endMs! >= faultMs)) {
    const kind = failureKind(r);
    failureKinds[kind] = (failureKinds[kind] ?? 0) + 1;
  }
  const answeredDuringFault: Record<string, number> = {};
  for (const r of during) {
    const key = r.outcome === 'ok' ? r.cluster! : 'failed';
    answeredDuringFault[key] = (answeredDuringFault[key] ?? 0) + 1;
  }
  const lastFailed = atFault.reduce<number | undefined>((last, r) => Math.max(last ?? 0, r.sentMs - faultMs), undefined);
  const firstOnOther = during.find((r) => r.outcome === 'ok' && r.cluster === event.to);
  const moved = settledFrom(during, event.to, restoreMs, stableMs);
  const back = settledFrom(afterRestore, event.from, endMs, stableMs);
  return {
    sent: window.length,
    failedBefore: window.filter((r) => failed(r) && r.endMs! < faultMs).length,
    failedAtFault: atFault.length,
    lastFailedAfterFaultMs: lastFailed === undefined ? undefined : Math.max(0, lastFailed),
    firstOnOtherMs: firstOnOther === undefined ? undefined : firstOnOther.sentMs - faultMs,
    otherAnsweringAtMs: during.reduce<number | undefined>((first, r) =>
      (r.outcome === 'ok' && r.cluster === event.to ? Math.min(first ?? Infinity, r.endMs! - faultMs) : first), undefined),
    movedAfterMs: moved === undefined ? undefined : moved - faultMs,
    failedAtRestore: afterRestore.filter(failed).length,
    failbackAfterMs: back === undefined ? undefined : back - restoreMs,
    failureKinds,
    answeredDuringFault,
  };
}

/**
 * Live check while a scenario runs: every request sent in the last `forMs` (ending `graceMs`
 * ago, so that requests on a healthy path have been answered) went to `cluster`, none is
 * still in flight, and that window lies after `sinceMs`.
 */
export function settledOn(records: readonly RequestRecord[], cluster: string, sinceMs: number, forMs: number, nowMs: number, graceMs = 250): boolean {
  const to = nowMs - graceMs;
  const from = to - forMs;
  if (from < sinceMs) return false;
  let seen = 0;
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]!;
    if (r.sentMs >= to) continue;
    if (r.sentMs < from) break;
    if (r.outcome !== 'ok' || r.cluster !== cluster) return false;
    seen++;
  }
  return seen > 0;
}

/** Whether every request sent before `beforeMs` has ended (none is left to end later). */
export function noneInFlightBefore(records: readonly RequestRecord[], beforeMs: number): boolean {
  for (const r of records) {
    if (r.sentMs >= beforeMs) return true;
    if (r.outcome === undefined) return false;
  }
  return true;
}
