import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { TSchema } from '@sinclair/typebox';
import { parseAllDocuments } from 'yaml';
import { compilePolicySet } from '../../../../gateway/policy/compile.js';
import { formatPolicyError } from '../../../../gateway/policy/policy-error.js';
import { DEFAULT_FAILOVER, DEFAULT_HEALTH_CHECK } from '../../../../gateway/policy/policy-set.js';
import { KIND_SCHEMAS, POLICY_KINDS } from '../../../../gateway/policy/schema.js';
import { REPO_ROOT } from '../../../helpers/paths.js';

const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'policy.md'), 'utf8');

/** `spec.rules[].from`-style paths of every field under `at` (a map's keys are not fields). */
function fieldPaths(schema: TSchema, at: string, out: string[] = []): string[] {
  const object = schema.type === 'array' ? (schema.items as TSchema) : schema;
  const prefix = schema.type === 'array' ? `${at}[]` : at;
  for (const [key, child] of Object.entries((object.properties ?? {}) as Record<string, TSchema>)) {
    out.push(`${prefix}.${key}`);
    fieldPaths(child, `${prefix}.${key}`, out);
  }
  return out;
}

/** The row of the field's table in docs/policy.md: | `path` | type | default | meaning |. */
function rowOf(kind: string, field: string): string[] | undefined {
  const section = doc.slice(doc.indexOf(`## ${kind}`), doc.indexOf('\n## ', doc.indexOf(`## ${kind}`) + 3));
  const line = section.split('\n').find((l) => l.startsWith(`| \`${field}\` |`));
  return line?.split(' | ').map((c) => c.replace(/^\| /, '').trim());
}

function durationText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

describe('docs/policy.md', () => {
  it('has a row for every field of every kind', () => {
    for (const kind of POLICY_KINDS) {
      const spec = (KIND_SCHEMAS[kind].properties as Record<string, TSchema>).spec as TSchema;
      const missing = fieldPaths(spec, 'spec').filter((p) => rowOf(kind, p) === undefined);
      assert.deepEqual(missing, [], `${kind} fields missing from docs/policy.md`);
    }
  });

  it('states the defaults the compiler applies (policy-set.ts)', () => {
    const { outlier, retries } = DEFAULT_FAILOVER;
    const expected: Array<[string, string]> = [
      ['spec.minHealthy', `\`${'count' in DEFAULT_FAILOVER.minHealthy ? DEFAULT_FAILOVER.minHealthy.count : ''}\``],
      ['spec.failback.delay', `\`${durationText(DEFAULT_FAILOVER.failbackMs)}\``],
      ['spec.healthCheck.interval', `\`${durationText(DEFAULT_HEALTH_CHECK.intervalMs)}\``],
      ['spec.healthCheck.timeout', `\`${durationText(DEFAULT_HEALTH_CHECK.timeoutMs)}\``],
      ['spec.healthCheck.healthyThreshold', `\`${DEFAULT_HEALTH_CHECK.healthyThreshold}\``],
      ['spec.healthCheck.unhealthyThreshold', `\`${DEFAULT_HEALTH_CHECK.unhealthyThreshold}\``],
      ['spec.outlierDetection.consecutiveFailures', `\`${outlier.consecutiveFailures}\``],
      ['spec.outlierDetection.ejectionTime', `\`${durationText(outlier.ejectionMs)}\``],
      ['spec.outlierDetection.maxEjectionTime', `\`${durationText(outlier.maxEjectionMs)}\``],
      ['spec.outlierDetection.maxEjectedPercent', `\`${outlier.maxEjectedPercent}\``],
      ['spec.retries.attempts', `\`${retries.attempts}\``],
      ['spec.retries.on', `\`[${[...retries.on].join(', ')}]\``],
      ['spec.retries.budgetPercent', `\`${retries.budgetPercent}\``],
      ['spec.retries.minRetriesPerSecond', `\`${retries.minRetriesPerSecond}\``],
    ];
    for (const [field, value] of expected) assert.equal(rowOf('FailoverPolicy', field)?.[2], value, field);
    assert.equal(rowOf('AccessPolicy', 'spec.rules[].action')?.[2], '`allow`');
  });

  it('has worked examples that compile, each as a set of its own', () => {
    const examples = doc.slice(doc.indexOf('## Worked examples'));
    const blocks = [...examples.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').filter((b) => b.includes('apiVersion:'));
    assert.equal(blocks.length, 3);
    for (const block of blocks) {
      const documents = parseAllDocuments(block).map((d) => ({ origin: 'policy.md', document: d.toJS() as unknown }));
      const result = compilePolicySet(documents, { version: 1, configAccess: [] });
      assert.ok(result.ok, result.ok ? '' : result.errors.map(formatPolicyError).join('\n'));
    }
  });
});
