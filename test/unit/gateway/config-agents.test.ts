import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../../gateway/index.js';
import { MINIMAL_CONFIG as MINIMAL, problemsOf } from '../../helpers/config-problems.js';

describe('gateway config: agents', () => {
  it('defaults to a 15 s lease and a 5 s ping, and takes durations', () => {
    assert.deepEqual(parseConfigText(MINIMAL).agents, { leaseMs: 15_000, pingIntervalMs: 5_000 });
    assert.deepEqual(parseConfigText(`${MINIMAL}\nagents: { lease: 2m, pingInterval: 500ms }\n`).agents, { leaseMs: 120_000, pingIntervalMs: 500 });
  });

  it('names every bad field', () => {
    assert.deepEqual(problemsOf(`${MINIMAL}\nagents: { lease: forever, pingInterval: 0, leese: 1s }\n`), [
      'agents.leese: unknown field (did you mean "lease"?)',
      'agents.lease: must be a duration ("500ms", "10s", "5m"; a number is seconds) in ms from 1000 to 3600000',
      'agents.pingInterval: must be a duration ("500ms", "10s", "5m"; a number is seconds) in ms from 100 to 60000',
    ]);
    assert.deepEqual(problemsOf(`${MINIMAL}\nagents: { lease: 5s, pingInterval: 5s }\n`), [
      'agents.lease: 5000 ms is shorter than two ping intervals (10000 ms)',
    ]);
    assert.deepEqual(problemsOf(`${MINIMAL}\nagents: 15s\n`), ['agents: must be a mapping of lease, pingInterval']);
  });
});
