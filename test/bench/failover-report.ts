// `npm run bench:failover`'s results: what the JSON file holds, the Markdown tables printed
// (what docs/performance.md quotes), and issue 9's targets judged on them.
import type { FaultKind } from '../helpers/failover-scenario.js';
import type { FailoverFigures } from '../helpers/failover-timeline.js';

export interface FailoverRun {
  fault: FaultKind;
  retries: boolean;
  /** How long the fault was held (ms). */
  heldMs: number;
  figures: FailoverFigures;
  /** B carried the whole stream before the fault; a run without it measured nothing. */
  healthyBefore: boolean;
  /** Whether A read its FailoverPolicy file (a build without the policy store ignores it). */
  policy: string;
}

export interface FailoverResults {
  startedAt: string;
  commit: string;
  machine: { cpus: number; model: string; node: string; kernel: string };
  settings: { rate: number; timeoutMs: number; faultSeconds: number; restoreSeconds: number; quick: boolean; gatewayConfig: unknown };
  runs: FailoverRun[];
}

export const FAULTS: Readonly<Record<FaultKind, { tag: string; label: string; lastFailedTargetMs: number }>> = {
  'backend-kill': { tag: '(a)', label: 'backend killed (RST)', lastFailedTargetMs: 1000 },
  'gateway-freeze': { tag: '(b)', label: 'remote gateway frozen (SIGSTOP)', lastFailedTargetMs: 3000 },
};

const seconds = (v: number | undefined): string => (v === undefined ? 'never' : `${(v / 1000).toFixed(2)} s`);

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** A fault whose last failure is this close to the restore was still failing when it ended. */
function stillFailing(run: FailoverRun): boolean {
  const last = run.figures.lastFailedAfterFaultMs;
  return last !== undefined && last >= run.heldMs - 500;
}

function lastFailed(run: FailoverRun): string {
  const last = run.figures.lastFailedAfterFaultMs;
  if (last === undefined) return 'none failed';
  return stillFailing(run) ? `${seconds(last)} (still failing at the restore)` : seconds(last);
}

export function targets(results: FailoverResults): Array<{ target: string; measured: string; met: boolean }> {
  const out: Array<{ target: string; measured: string; met: boolean }> = [];
  for (const run of results.runs) {
    const fault = FAULTS[run.fault];
    const last = run.figures.lastFailedAfterFaultMs;
    out.push({
      target: `${fault.tag} last failed request < ${fault.lastFailedTargetMs / 1000} s after the fault, retries ${run.retries ? 'on' : 'off'}`,
      measured: lastFailed(run),
      met: run.healthyBefore && (last === undefined || last < fault.lastFailedTargetMs),
    });
  }
  for (const run of results.runs.filter((r) => r.retries)) {
    const failed = run.figures.failedAtFault + run.figures.failedAtRestore;
    out.push({
      target: `${FAULTS[run.fault].tag} zero failed idempotent GETs with retries (fault and failback)`,
      measured: `${failed} failed`,
      met: run.healthyBefore && failed === 0,
    });
  }
  return out;
}

export function renderReport(results: FailoverResults): string {
  const { settings } = results;
  const lines: string[] = [];
  const policies = [...new Set(results.runs.map((r) => r.policy))];
  const policy = policies.length === 1 ? policies[0]! : results.runs.map((r) => `${FAULTS[r.fault].tag} retries ${r.retries ? 'on' : 'off'}: ${r.policy}`).join('; ');
  lines.push(`Failover, ${settings.rate} req/s open loop through A, ${settings.timeoutMs / 1000} s timeout per request, `
    + `fault held ${settings.faultSeconds} s${settings.quick ? ' (quick)' : ''}; commit ${results.commit}; A's FailoverPolicy: ${policy}`);
  lines.push('');
  lines.push(table(
    ['fault', 'retries', 'failed (fault)', 'last failed after fault', 'first request C served (sent)', 'C answering from', 'all on C after', 'failed (failback)', 'all back on B after restore'],
    results.runs.map((r) => [
      `${FAULTS[r.fault].tag} ${FAULTS[r.fault].label}${r.healthyBefore ? '' : ' — B was not serving cleanly before the fault'}`
        + (r.figures.failedBefore > 0 ? ` (${r.figures.failedBefore} failed before it)` : ''),
      r.retries ? 'on' : 'off (attempts 0)',
      String(r.figures.failedAtFault), lastFailed(r), seconds(r.figures.firstOnOtherMs), seconds(r.figures.otherAnsweringAtMs), seconds(r.figures.movedAfterMs),
      String(r.figures.failedAtRestore), seconds(r.figures.failbackAfterMs),
    ]),
  ));
  lines.push('');
  lines.push(table(['fault', 'retries', 'failures by kind', 'requests during the fault'], results.runs.map((r) => [
    `${FAULTS[r.fault].tag}`, r.retries ? 'on' : 'off',
    Object.entries(r.figures.failureKinds).map(([k, n]) => `${k} ×${n}`).join(', ') || '–',
    Object.entries(r.figures.answeredDuringFault).map(([k, n]) => `${k} ${n}`).join(', '),
  ])));
  lines.push('');
  lines.push(table(['target (issue 9)', 'measured', 'verdict'], targets(results).map((t) => [t.target, t.measured, t.met ? 'met' : '**not met**'])));
  return `${lines.join('\n')}\n`;
}
