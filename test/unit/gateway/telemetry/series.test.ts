import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { SeriesCounter, SeriesHistogram } from '../../../../gateway/telemetry/series.js';
import { Exposition } from '../../../helpers/prometheus-text.js';

describe('request-path series', () => {
  it('a histogram puts a value on a bound in that bucket (le is inclusive), above every bound only in +Inf', async () => {
    const registry = new Registry();
    const h = new SeriesHistogram({ registry, name: 'x_seconds', help: 'x', labelNames: ['a'], buckets: [0.1, 1] });
    for (const v of [0.1, 0.5, 1, 7]) h.observe(['one'], v);
    h.observe(['two'], 0.01);
    const text = await registry.metrics();
    // Read line by line: the parser in test/helpers merges labelled histograms, so the lines are checked as Prometheus reads them.
    const lines = text.split('\n');
    for (const expected of [
      'x_seconds_bucket{le="0.1",a="one"} 1', 'x_seconds_bucket{le="1",a="one"} 3', 'x_seconds_bucket{le="+Inf",a="one"} 4',
      'x_seconds_sum{a="one"} 8.6', 'x_seconds_count{a="one"} 4', 'x_seconds_bucket{le="0.1",a="two"} 1', 'x_seconds_count{a="two"} 1',
    ]) assert.ok(lines.includes(expected), `${expected} in\n${text}`);
    assert.ok(lines.includes('# TYPE x_seconds histogram'));
  });

  it('a counter keeps one series per label values and adds by the amount given', async () => {
    const registry = new Registry();
    const c = new SeriesCounter({ registry, name: 'y_total', help: 'y', labelNames: ['a', 'b'] });
    c.inc(['1', '2']);
    c.inc(['1', '2'], 4);
    c.inc(['1', '3']);
    const e = new Exposition(await registry.metrics());
    assert.equal(e.family('y_total').type, 'COUNTER');
    assert.equal(e.sum('y_total', { a: '1', b: '2' }), 5);
    assert.equal(e.sum('y_total', { b: '3' }), 1);
    assert.equal(e.samples('y_total').length, 2);
  });
});
