// docs/observability.md, the alert rules and the Grafana dashboard against the code that
// defines the metrics (gateway/telemetry/metrics.ts, metric-gauges.ts): promtool lints and
// unit-tests the rules, every causeway_* name and label they use exists, and the doc's metric
// table lists every metric the code registers, with its type and labels.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../helpers/paths.js';

type MetricType = 'counter' | 'gauge' | 'histogram';
interface Metric { type: MetricType; labels: string[] }

const read = (file: string): string => readFileSync(path.join(REPO_ROOT, file), 'utf8');
const quoted = (list: string): string[] => [...list.matchAll(/'([a-z_]+)'/g)].map((m) => m[1] ?? '');
/** Labels Prometheus adds (instance, job) or a histogram's series carry (le). */
const ADDED = ['instance', 'job'];

/** Every metric the code registers, from its source text (starting a gateway is not needed). */
function definedMetrics(): Map<string, Metric> {
  const metrics = new Map<string, Metric>();
  const events = read('gateway/telemetry/metrics.ts');
  const traffic = quoted(/const TRAFFIC_LABELS = \[([^\]]*)\]/.exec(events)?.[1] ?? '');
  for (const [, kind = '', name = '', list = ''] of events.matchAll(/new (\w+)\(\{\s*name: '(causeway_\w+)'[^}]*?labelNames: \[([^\]]*)\]/g)) {
    metrics.set(name, {
      type: kind.endsWith('Histogram') ? 'histogram' : 'counter',
      labels: [...(list.includes('...TRAFFIC_LABELS') ? traffic : []), ...quoted(list)],
    });
  }
  assert.equal(metrics.size, events.match(/name: 'causeway_/g)?.length, 'every metric of metrics.ts is read');
  const scraped = read('gateway/telemetry/metric-gauges.ts');
  const help = String.raw`(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")`;
  for (const [, kind = '', name = '', list = ''] of scraped.matchAll(new RegExp(String.raw`\b(gauge|counter)\('(causeway_\w+)',\s*${help},\s*\[([^\]]*)\]`, 'g'))) {
    metrics.set(name, { type: kind as MetricType, labels: quoted(list) });
  }
  assert.equal(metrics.size - (events.match(/name: 'causeway_/g)?.length ?? 0), scraped.match(/\b(gauge|counter)\('causeway_/g)?.length,
    'every metric of metric-gauges.ts is read');
  return metrics;
}

const METRICS = definedMetrics();
const ALL_LABELS = new Set([...ADDED, 'le', ...[...METRICS.values()].flatMap((m) => m.labels)]);

/** The metric a series name belongs to (a histogram's _bucket, _sum, _count), or undefined. */
function metricOf(series: string): { name: string; metric: Metric; bucket: boolean } | undefined {
  const exact = METRICS.get(series);
  if (exact !== undefined) return { name: series, metric: exact, bucket: false };
  const suffix = /^(causeway_\w+)_(bucket|sum|count)$/.exec(series);
  const base = suffix?.[1] === undefined ? undefined : METRICS.get(suffix[1]);
  return base?.type === 'histogram' ? { name: suffix?.[1] ?? '', metric: base, bucket: suffix?.[2] === 'bucket' } : undefined;
}

/**
 * Problems with the causeway_* names and the labels an expression (or a template) uses; in
 * prose (`expressions: false`) only names and selectors are read, not `by (…)` or `{{…}}`.
 */
function problems(text: string, where: string, expressions = true): string[] {
  const found: string[] = [];
  for (const [, name = ''] of text.matchAll(/\b(causeway_\w+)/g)) {
    if (metricOf(name) === undefined) found.push(`${where}: ${name} is not a metric the code defines`);
  }
  for (const [, name = '', matchers = ''] of text.matchAll(/\b(causeway_\w+)\{([^}]*)\}/g)) {
    const of = metricOf(name);
    if (of === undefined) continue;
    const allowed = new Set([...of.metric.labels, ...ADDED, ...(of.bucket ? ['le'] : [])]);
    for (const [, label = ''] of matchers.matchAll(/(\w+)\s*(?:=~|!~|!=|=)\s*"/g)) {
      if (!allowed.has(label)) found.push(`${where}: ${name} has no label ${label}`);
    }
  }
  if (!expressions) return found;
  const grouped = [...text.matchAll(/\b(?:by|on|without|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)].flatMap((m) => (m[1] ?? '').split(','));
  const templated = [...text.matchAll(/\{\{\s*(?:\$labels\.)?(\w+)\s*\}\}/g), ...text.matchAll(/\$labels\.(\w+)/g)].map((m) => m[1] ?? '');
  for (const label of [...grouped, ...templated].map((l) => l.trim()).filter((l) => l !== '')) {
    if (!ALL_LABELS.has(label)) found.push(`${where}: no metric has a label ${label}`);
  }
  return found;
}

function promtool(args: string[]): void {
  const run = spawnSync('promtool', args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.error, undefined,
    `cannot run promtool (Debian package prometheus; scripts/install-test-tools.sh installs it): ${String(run.error)}`);
  assert.equal(run.status, 0, `promtool ${args.join(' ')}:\n${run.stdout}${run.stderr}`);
}

interface RuleFile { groups: Array<{ name: string; rules: Array<{ alert?: string; expr: string; annotations?: Record<string, string> }> }> }
interface Dashboard {
  panels: Array<{ title: string; targets?: Array<{ expr: string; legendFormat?: string }> }>;
  templating: { list: Array<{ name: string; definition: string }> };
}

describe('docs/observability.md, its alert rules and its Grafana dashboard', () => {
  const rules = parse(read('docs/alerts/causeway-alerts.yaml')) as RuleFile;
  const dashboard = JSON.parse(read('docs/grafana/causeway.json')) as Dashboard;
  const doc = read('docs/observability.md');

  it('the alert rules pass promtool check rules and their unit tests (promtool test rules)', () => {
    promtool(['check', 'rules', 'docs/alerts/causeway-alerts.yaml']);
    promtool(['test', 'rules', 'docs/alerts/causeway-alerts.test.yaml']);
  });

  it('every alert is unit-tested, has a severity and names the gateway it fired for', () => {
    const tests = read('docs/alerts/causeway-alerts.test.yaml');
    for (const rule of rules.groups.flatMap((g) => g.rules)) {
      assert.ok(rule.alert !== undefined, `a recording rule in an alerting file: ${rule.expr}`);
      assert.match(tests, new RegExp(`alertname: ${rule.alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`), `${rule.alert} is never seen firing`);
      assert.match(tests, new RegExp(`alertname: ${rule.alert}\\n\\s+exp_alerts: \\[\\]`), `${rule.alert} is never seen silent`);
      assert.match(JSON.stringify(rule), /"severity":"(warning|critical)"/, `${rule.alert}: severity`);
      assert.match(rule.annotations?.summary ?? '', /\$labels\./, `${rule.alert}: summary`);
      assert.match(rule.annotations?.description ?? '', /\$labels\./, `${rule.alert}: description`);
    }
  });

  it('the rules, the dashboard and the doc use only metrics and labels the code defines', () => {
    const found = [
      ...rules.groups.flatMap((g) => g.rules.flatMap((r) => [
        ...problems(r.expr, `alert ${r.alert}`), ...problems(Object.values(r.annotations ?? {}).join('\n'), `alert ${r.alert} annotations`)])),
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => problems(`${t.expr}\n${t.legendFormat ?? ''}`, `panel "${p.title}"`))),
      ...dashboard.templating.list.flatMap((v) => {
        const [, name = '', label = ''] = /label_values\((causeway_\w+)(?:\{[^}]*\})?,\s*(\w+)\)/.exec(v.definition) ?? [];
        const metric = metricOf(name)?.metric;
        return [...problems(v.definition, `variable ${v.name}`),
          ...(metric === undefined || [...metric.labels, ...ADDED].includes(label) ? [] : [`variable ${v.name}: ${name} has no label ${label}`])];
      }),
      ...problems(doc, 'docs/observability.md', false),
    ];
    assert.deepEqual(found, []);
  });

  it('the dashboard\'s queries are valid PromQL (promtool, as recording rules)', () => {
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    assert.ok(exprs.length > 20, 'the dashboard has its panels');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'causeway-dashboard-'));
    try {
      // Grafana's variables as Prometheus would receive them: an interval, and a regex.
      const rulesOf = exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr: expr.replace(/\$__rate_interval/g, '5m').replace(/\$\w+/g, '.*') }));
      writeFileSync(path.join(dir, 'dashboard.rules.yaml'), JSON.stringify({ groups: [{ name: 'dashboard', rules: rulesOf }] }));
      promtool(['check', 'rules', path.join(dir, 'dashboard.rules.yaml')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the metric reference table lists every metric the code registers, with its type and labels', () => {
    const rows = new Map([...doc.matchAll(/^\| `(causeway_\w+)` \| (counter|gauge|histogram) \| ([^|]*) \|/gm)]
      .map(([, name = '', type = '', labels = '']) => [name, { type, labels: [...labels.matchAll(/`(\w+)`/g)].map((m) => m[1]) }]));
    assert.deepEqual([...METRICS.keys()].filter((name) => !rows.has(name)), [], 'metrics missing from the table');
    for (const [name, metric] of METRICS) {
      const row = rows.get(name);
      assert.equal(row?.type, metric.type, `${name}: type`);
      assert.deepEqual(row?.labels, metric.labels, `${name}: labels, in the code's order`);
    }
    assert.deepEqual([...rows.keys()].filter((name) => !METRICS.has(name)), [], 'rows for metrics the code does not define');
  });
});
