// One failover scenario on a running three-gateway cluster: a steady open-loop stream
// through A, a fault on B (its backend killed, or its gateway frozen), the restore, and the
// record analysed. Shared by the failover test and `npm run bench:failover` so both measure
// the same thing the same way.
import { setTimeout as sleep } from 'node:timers/promises';
import { CLUSTERS, SERVICE_URL, type FailoverCluster } from './failover-cluster.js';
import { analyseFailover, noneInFlightBefore, settledOn, type FailoverEvent, type FailoverFigures } from './failover-timeline.js';
import { clientNow, OpenLoopClient, type RequestRecord } from './open-loop-client.js';

export type FaultKind = 'backend-kill' | 'gateway-freeze';

export const FAULT_LABELS: Readonly<Record<FaultKind, string>> = {
  'backend-kill': "B's backend killed (RST)",
  'gateway-freeze': "B's gateway frozen (SIGSTOP)",
};

export interface ScenarioPlan {
  fault: FaultKind;
  /** Requests per second. */
  rate: number;
  /** Per-request deadline. Default 2000 ms. */
  timeoutMs?: number;
  /** Healthy traffic on B before the fault (at least; it also waits for B to carry it all). */
  warmMs: number;
  /** The fault lasts this long, or (untilMoved) until traffic has settled on C, at most this long. */
  faultMs: number;
  untilMoved: boolean;
  /** With untilMoved: the fault lasts at least this long (e.g. past an ejection time). Default 0. */
  minFaultMs?: number;
  /** After the restore: observe until traffic has been back on B for `stableMs`, at most this long. */
  restoreMs: number;
  /** How long traffic must stay on one cluster to count as moved there. Default 1000 ms. */
  stableMs?: number;
}

export interface ScenarioResult {
  plan: ScenarioPlan;
  event: FailoverEvent;
  figures: FailoverFigures;
  records: RequestRecord[];
  /** Whether B carried all traffic before the fault (the set-up was healthy). */
  healthyBefore: boolean;
}

async function pollUntil(condition: () => boolean, maxMs: number): Promise<void> {
  const deadline = clientNow() + maxMs;
  while (clientNow() < deadline && !condition()) await sleep(50);
}

export async function runFailoverScenario(cluster: FailoverCluster, plan: ScenarioPlan): Promise<ScenarioResult> {
  const stableMs = plan.stableMs ?? 1000;
  const client = new OpenLoopClient({ proxy: cluster.outbound, url: SERVICE_URL, rate: plan.rate, timeoutMs: plan.timeoutMs ?? 2000 });
  const from = CLUSTERS.b;
  const to = CLUSTERS.c;
  let stopped = false;
  try {
    const startedMs = clientNow();
    client.start();
    await sleep(plan.warmMs);
    // The fault starts from a clean state: B has answered everything for a while, and no
    // request from a slow start is still in flight to fail later and be charged to the fault.
    const healthy = (): boolean => settledOn(client.records, from, startedMs, stableMs, clientNow())
      && noneInFlightBefore(client.records, clientNow() - 250);
    await pollUntil(healthy, 20_000);
    const healthyBefore = healthy();

    const faultMs = clientNow();
    if (plan.fault === 'backend-kill') await cluster.killBackend('b');
    else cluster.freezeGateway('b');
    const minFaultMs = plan.minFaultMs ?? 0;
    if (plan.untilMoved) {
      await pollUntil(() => clientNow() - faultMs >= minFaultMs && settledOn(client.records, to, faultMs, stableMs, clientNow()), plan.faultMs);
    }
    else await sleep(plan.faultMs);

    if (plan.fault === 'backend-kill') await cluster.startBackend('b');
    else cluster.thawGateway('b');
    const restoreMs = clientNow();
    await pollUntil(() => settledOn(client.records, from, restoreMs, stableMs, clientNow()), plan.restoreMs);

    const endMs = clientNow();
    const records = await client.stop();
    stopped = true;
    const event: FailoverEvent = { from, to, faultMs, restoreMs, endMs };
    return { plan, event, figures: analyseFailover(records, event, stableMs), records, healthyBefore };
  } finally {
    if (!stopped) client.destroy();
  }
}
