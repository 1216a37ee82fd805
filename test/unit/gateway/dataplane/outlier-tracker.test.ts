import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GatewayRecord } from '../../../../registry/index.js';
import { OutlierTracker, PROBE_RETRY_MS, gatewayKey, outlierKey } from '../../../../gateway/dataplane/outlier-tracker.js';
import { DEFAULT_FAILOVER, type CompiledOutlierDetection } from '../../../../gateway/policy/policy-set.js';

const gatewayB: GatewayRecord = {
  cluster: 'b', trustDomain: 'b.test', identity: 'spiffe://b.test/gateway/gw-b', eastWestAddress: '10.0.0.2:15443',
  locality: { cloud: 'c', region: 'r', zone: 'z', cluster: 'b' },
};
const payments = outlierKey(gatewayB, 'payments.prod', 8080);
const ledger = outlierKey(gatewayB, 'ledger.prod', 8080);
const DEFAULT = DEFAULT_FAILOVER.outlier;

function tracker(): { outliers: OutlierTracker; advance: (ms: number) => void; now: () => number } {
  let now = 1_000_000;
  return { outliers: new OutlierTracker({ now: () => now }), advance: (ms) => (now += ms), now: () => now };
}

function eject(outliers: OutlierTracker, key = payments, detection: CompiledOutlierDetection = DEFAULT): void {
  for (let i = 0; i < detection.consecutiveFailures; i++) outliers.recordFailure(key, detection);
}

describe('OutlierTracker', () => {
  it('N consecutive failures eject one (gateway, service) and no other service of that gateway', () => {
    const { outliers } = tracker();
    outliers.recordFailure(payments, DEFAULT);
    outliers.recordFailure(payments, DEFAULT);
    assert.equal(outliers.isEjected(payments), false);
    outliers.recordFailure(payments, DEFAULT);
    assert.equal(outliers.isEjected(payments), true);
    assert.equal(outliers.isEjected(ledger), false, 'a 5xx storm from payments at B does not eject B for ledger');
    assert.equal(outliers.ejection(gatewayB, 'ledger.prod', 8080), undefined);
    assert.match(outliers.ejection(gatewayB, 'payments.prod', 8080) ?? '', /3 consecutive failures; until /);
    assert.equal(outliers.isEjected(outlierKey(gatewayB, 'payments.prod', 9090)), false, 'another port is another key');
  });

  it('takes its thresholds per call, from the service policy', () => {
    const { outliers, advance } = tracker();
    const strict: CompiledOutlierDetection = { consecutiveFailures: 1, ejectionMs: 100, maxEjectionMs: 150, maxEjectedPercent: 100 };
    outliers.recordFailure(ledger, strict);
    assert.equal(outliers.isEjected(ledger), true);
    assert.equal(outliers.state(ledger)?.ejectedUntil, 1_000_100);
    advance(100);
    outliers.recordProbe(ledger, false, 'refused');
    assert.equal(outliers.state(ledger)?.ejectedUntil, 1_000_100 + 100, 'probed again after the (shorter) ejection time');
    advance(100);
    outliers.recordProbe(ledger, true, 'reached');
    outliers.recordFailure(ledger, strict);
    assert.equal(outliers.state(ledger)?.ejectedUntil, 1_000_200 + 150, 'a relapse doubles, capped at maxEjectionMs');
  });

  it('a success resets the count of consecutive failures', () => {
    const { outliers } = tracker();
    outliers.recordFailure(payments, DEFAULT);
    outliers.recordFailure(payments, DEFAULT);
    outliers.recordSuccess(payments);
    outliers.recordFailure(payments, DEFAULT);
    outliers.recordFailure(payments, DEFAULT);
    assert.equal(outliers.isEjected(payments), false);
  });

  it('the ejection time passing alone does not restore it: the key waits in probing', () => {
    const { outliers, advance } = tracker();
    eject(outliers);
    assert.equal(outliers.state(payments)?.condition, 'ejected');
    advance(DEFAULT.ejectionMs + 60_000);
    assert.equal(outliers.isEjected(payments), true);
    assert.equal(outliers.state(payments)?.condition, 'probing');
    assert.match(outliers.ejection(gatewayB, 'payments.prod', 8080) ?? '', /waiting for a probe/);
    // Answers of requests already under way (or panic-mode traffic) do not restore it either.
    outliers.recordSuccess(payments);
    assert.equal(outliers.isEjected(payments), true);
    assert.deepEqual(outliers.ejectedKeys().map((e) => e.key.id), [payments.id]);
  });

  it('a successful probe restores it; a failed probe keeps it out and makes it due again a second later', () => {
    const { outliers, advance } = tracker();
    eject(outliers);
    advance(DEFAULT.ejectionMs);
    outliers.recordProbe(payments, false, 'answered the probe 503 CW_NO_HEALTHY_ENDPOINT');
    const state = outliers.state(payments);
    assert.equal(state?.condition, 'ejected');
    assert.equal(state?.ejections, 1, 'a failed probe is no relapse: no doubling');
    assert.equal(state?.ejectedUntil, 1_000_000 + DEFAULT.ejectionMs + PROBE_RETRY_MS);
    assert.match(state?.reason ?? '', /probe failed: answered the probe 503/);
    assert.equal(state?.lastProbe?.ok, false);
    advance(PROBE_RETRY_MS - 1);
    assert.equal(outliers.state(payments)?.condition, 'ejected');
    advance(1);
    assert.equal(outliers.state(payments)?.condition, 'probing');
    outliers.recordProbe(payments, true, 'payments.prod:8080 reached');
    assert.equal(outliers.isEjected(payments), false);
    assert.equal(outliers.state(payments)?.condition, 'ok');
    assert.equal(outliers.ejectedKeys().length, 0);
  });

  it('probes every second while probes keep failing, however long the outage', () => {
    const { outliers, advance } = tracker();
    eject(outliers);
    advance(DEFAULT.ejectionMs);
    for (let i = 0; i < 20; i += 1) {
      assert.equal(outliers.state(payments)?.condition, 'probing', `due at probe ${i}`);
      outliers.recordProbe(payments, false, 'refused');
      advance(PROBE_RETRY_MS);
    }
    assert.equal(outliers.state(payments)?.ejections, 1);
  });

  it('ejects for 5 s, then 10 s, ... capped at 5 min, for relapses right after each restore', () => {
    const { outliers, advance, now } = tracker();
    const expected = [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000];
    for (const duration of expected) {
      eject(outliers);
      const state = outliers.state(payments);
      assert.equal((state?.ejectedUntil ?? 0) - now(), duration);
      advance(duration);
      outliers.recordProbe(payments, true, 'reached');
    }
  });

  it('failures reported while ejected do not stretch the ejection', () => {
    const { outliers, advance } = tracker();
    eject(outliers);
    advance(5_000);
    for (let i = 0; i < 10; i++) outliers.recordFailure(payments, DEFAULT);
    assert.equal(outliers.state(payments)?.ejections, 1);
    assert.equal(outliers.state(payments)?.ejectedUntil, 1_000_000 + DEFAULT.ejectionMs);
  });

  it('once restored, it is forgotten after staying well as long as its last ejection; a relapse before that doubles', () => {
    const { outliers, advance } = tracker();
    eject(outliers);
    advance(DEFAULT.ejectionMs);
    outliers.recordProbe(payments, true, 'reached');
    // Relapse right away: the second ejection is 20 s.
    eject(outliers);
    assert.equal(outliers.state(payments)?.ejections, 2);
    advance(2 * DEFAULT.ejectionMs);
    outliers.recordProbe(payments, true, 'reached');
    advance(2 * DEFAULT.ejectionMs);
    outliers.recordSuccess(payments);
    assert.equal(outliers.state(payments), undefined, 'well for 20 s: history forgotten');
    eject(outliers);
    assert.equal(outliers.state(payments)?.ejectedUntil, 1_000_000 + 5 * DEFAULT.ejectionMs + DEFAULT.ejectionMs, 'back to the base time');
  });

  it('probe outcomes for keys that are not ejected change nothing', () => {
    const { outliers } = tracker();
    outliers.recordProbe(payments, false, 'refused');
    assert.equal(outliers.state(payments), undefined);
    outliers.recordFailure(payments, DEFAULT);
    outliers.recordProbe(payments, false, 'refused');
    assert.equal(outliers.isEjected(payments), false);
  });

  it('reports ejections and restorations to its listeners, and forgets a gateway', () => {
    const { outliers, advance } = tracker();
    let changes = 0;
    const off = outliers.onChange(() => (changes += 1));
    eject(outliers);
    eject(outliers, ledger);
    assert.equal(changes, 2);
    advance(DEFAULT.ejectionMs);
    outliers.recordProbe(payments, true, 'reached');
    assert.equal(changes, 3);
    off();
    outliers.forget(gatewayB);
    assert.deepEqual(outliers.snapshot(), []);
    assert.equal(changes, 3);
  });

  it('shows every key in the snapshot with its gateway, service and condition', () => {
    const { outliers } = tracker();
    outliers.recordFailure(ledger, DEFAULT, 'answered 502');
    eject(outliers);
    const snapshot = outliers.snapshot().sort((x, y) => x.key.localeCompare(y.key));
    assert.deepEqual(snapshot.map((s) => [s.service, s.condition, s.consecutiveFailures, s.gateway, s.address]), [
      ['ledger.prod:8080', 'ok', 1, gatewayB.identity, gatewayB.eastWestAddress],
      ['payments.prod:8080', 'ejected', 0, gatewayB.identity, gatewayB.eastWestAddress],
    ]);
    assert.equal(payments.id, `${gatewayKey(gatewayB)} payments.prod:8080`);
  });

  it('keys gateways by identity and address', () => {
    assert.equal(gatewayKey({ identity: 'spiffe://b/gateway/gw', eastWestAddress: '10.0.0.1:15443' }), 'spiffe://b/gateway/gw@10.0.0.1:15443');
  });
});
