import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../../gateway/index.js';
import { MINIMAL_CONFIG as MINIMAL, problemsOf } from '../../helpers/config-problems.js';

describe('gateway config: telemetry', () => {
  it('defaults to bounded labels and no access log', () => {
    assert.deepEqual(parseConfigText(MINIMAL).telemetry, { metrics: { maxSourceIdentities: 100, maxServices: 1000 } });
  });

  it('takes caps, and an access log file (relative to the config) or standard output, with a sample', () => {
    const config = parseConfigText(`${MINIMAL}\ntelemetry: { metrics: { maxSourceIdentities: 5, maxServices: 7 }, accessLog: { path: logs/access.log, sample: 0.25 } }\n`, '/etc/causeway/gw.yaml');
    assert.deepEqual(config.telemetry, {
      metrics: { maxSourceIdentities: 5, maxServices: 7 },
      accessLog: { path: path.resolve('/etc/causeway', 'logs/access.log'), sample: 0.25 },
    });
    assert.deepEqual(parseConfigText(`${MINIMAL}\ntelemetry: { accessLog: { path: "-" } }\n`).telemetry.accessLog, { path: '-', sample: 1 });
  });

  it('names every bad field', () => {
    assert.deepEqual(problemsOf(`${MINIMAL}\ntelemetry: { metrics: { maxSourceIdentities: 0, maxServicez: 3 }, accessLog: { sample: 2 } }\n`), [
      'telemetry.metrics.maxServicez: unknown field (did you mean "maxServices"?)',
      'telemetry.metrics.maxSourceIdentities: must be a whole number from 1 to 100000',
      'telemetry.accessLog.path: is required (a file, or "-" for standard output)',
      'telemetry.accessLog.sample: must be a number from 0 to 1 (the fraction of successful requests logged)',
    ]);
    assert.deepEqual(problemsOf(`${MINIMAL}\ntelemetry: on\n`), ['telemetry: must be a mapping of metrics, accessLog']);
    assert.deepEqual(problemsOf(`${MINIMAL}\ntelemetry: { accessLog: { path: "" } }\n`), ['telemetry.accessLog.path: is required (a file, or "-" for standard output)']);
  });
});
