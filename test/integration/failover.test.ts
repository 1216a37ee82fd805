import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLUSTERS, startFailoverCluster, type FailoverCluster } from '../helpers/failover-cluster.js';
import { runFailoverScenario, type FaultKind, type ScenarioResult } from '../helpers/failover-scenario.js';
import type { FailoverFigures } from '../helpers/failover-timeline.js';
import { makeTempDir } from '../helpers/paths.js';

/**
 * Failover end to end with three gateway processes (issue 9, "Tests that must exist"): a
 * caller at A reaches payments.prod, exported by B (A's region) and C (another region),
 * with A's FailoverPolicy B then C and the policy's default retries, under a steady
 * open-loop stream of GETs with a 2 s deadline each. B fails (its backend killed, or its
 * gateway frozen) for at least 12 s, and traffic must move to C and stay there; B comes
 * back, and traffic must return after the failback delay (hysteresis). Each switch is counted: an idempotent GET with retries must
 * never fail. Time bounds here only catch hangs; how fast it is belongs to
 * `npm run bench:failover`.
 */

const RATE = 50;
const FAILBACK_DELAY_MS = 2000;
// Past the default first ejection (10 s): a dead cluster let back in by a timer alone, and
// failing again, shows up here.
const MIN_FAULT_MS = 12_000;
// At 200 req/s (the benchmark) the 256 pooled connections per remote gateway and service fill
// with requests stuck on a frozen B within 1.3 s, before B is found dead, and later requests
// wait in the pool's queue. A small pool puts this test's 50 req/s in the same situation, so
// the queued requests must also reach C in time.
const POOL_PER_KEY = 16;

function describeFigures(f: FailoverFigures): string {
  const ms = (v: number | undefined): string => (v === undefined ? 'never' : `${Math.round(v)} ms`);
  return `failed at the fault ${f.failedAtFault} (last sent ${ms(f.lastFailedAfterFaultMs)} after it), at the restore ${f.failedAtRestore}; `
    + `moved to C after ${ms(f.movedAfterMs)} (first request C served sent after ${ms(f.firstOnOtherMs)}, C answering from ${ms(f.otherAnsweringAtMs)}), `
    + `back on B ${ms(f.failbackAfterMs)} after the restore; `
    + `failures ${JSON.stringify(f.failureKinds)}; answers during the fault ${JSON.stringify(f.answeredDuringFault)}`;
}

function scenario(fault: FaultKind, title: string, bounds: { faultMs: number; restoreMs: number }): void {
  describe(title, () => {
    let tmp: Awaited<ReturnType<typeof makeTempDir>>;
    let cluster: FailoverCluster | undefined;
    let run: ScenarioResult;
    let summary: string;

    before(async () => {
      tmp = await makeTempDir(`failover-${fault}`);
      cluster = await startFailoverCluster({
        dir: tmp.dir, failbackDelay: `${FAILBACK_DELAY_MS}ms`, extraConfig: { dataPlane: { pool: { maxPerKey: POOL_PER_KEY } } },
      });
      run = await runFailoverScenario(cluster, { fault, rate: RATE, warmMs: 1500, faultMs: bounds.faultMs, untilMoved: true, minFaultMs: MIN_FAULT_MS, restoreMs: bounds.restoreMs });
      summary = describeFigures(run.figures);
    });

    after(async () => {
      await cluster?.close();
      await tmp?.remove();
    });

    it('starts with every request answered by B', () => {
      assert.ok(run.healthyBefore, 'B did not carry the whole stream before the fault');
      assert.equal(run.figures.failedBefore, 0, summary);
    });

    it('moves the traffic to C', () => {
      assert.ok(run.figures.movedAfterMs !== undefined, `traffic never settled on ${CLUSTERS.c} within ${bounds.faultMs} ms: ${summary}`);
    });

    it('fails back to B once B is back, after the failback delay', () => {
      const back = run.figures.failbackAfterMs;
      assert.ok(back !== undefined, `traffic never settled back on ${CLUSTERS.b} within ${bounds.restoreMs} ms of the restore: ${summary}`);
      // Hysteresis: B must have stayed well for the failback delay before it gets traffic back.
      assert.ok(back >= FAILBACK_DELAY_MS * 0.75, `back on B ${Math.round(back)} ms after the restore, before the ${FAILBACK_DELAY_MS} ms failback delay: ${summary}`);
    });

    it('fails no idempotent GET in either switch (retries on)', (t) => {
      t.diagnostic(summary);
      assert.equal(run.figures.failedAtFault + run.figures.failedAtRestore, 0, summary);
    });
  });
}

describe('failover across three gateway processes', () => {
  scenario('backend-kill', "B's backend killed (RST), then restarted", { faultMs: 15_000, restoreMs: 25_000 });
  scenario('gateway-freeze', "B's gateway frozen (SIGSTOP), then thawed", { faultMs: 20_000, restoreMs: 15_000 });
});
