import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicySet, type PolicyInput } from '../../../../gateway/policy/compile.js';
import { formatPolicyError } from '../../../../gateway/policy/policy-error.js';
import { DEFAULT_FAILOVER, DEFAULT_HEALTH_CHECK, type PolicySet } from '../../../../gateway/policy/policy-set.js';

const API = 'causeway.dev/v1alpha1';

function doc(kind: string, name: string, spec: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: API, kind, metadata: { name }, spec, ...extra };
}

const classes = doc('AccessPolicy', 'classes', {
  trafficClasses: [{ name: 'dev', from: ['spiffe://dev.example'] }, { name: 'batch', from: ['spiffe://corp.example/ns/batch/*'] }],
});

function compile(docs: unknown[], configAccess: Array<{ to: string; from: string[] }> = []): ReturnType<typeof compilePolicySet> {
  return compilePolicySet(docs.map((document): PolicyInput => ({ origin: 'set.yaml', document })), { version: 7, configAccess });
}

function compiled(docs: unknown[], configAccess: Array<{ to: string; from: string[] }> = []): PolicySet {
  const result = compile(docs, configAccess);
  assert.ok(result.ok, result.ok ? '' : result.errors.map(formatPolicyError).join('\n'));
  return result.set;
}

/** The refusal's lines, `origin document path: message`. */
function refused(docs: unknown[]): string[] {
  const result = compile(docs);
  assert.equal(result.ok, false, 'the set should have been refused');
  return result.ok ? [] : result.errors.map(formatPolicyError);
}

describe('compilePolicySet', () => {
  it('compiles a set of every kind with every default applied', () => {
    const set = compiled([
      classes,
      doc('AccessPolicy', 'scott', {
        rules: [
          { from: ['spiffe://corp.example/ns/default/sa/scott'], to: ['payments.prod'] },
          { action: 'deny', from: ['class:dev'], to: ['*.prod'], methods: ['POST'], paths: ['/admin'] },
        ],
      }),
      doc('FailoverPolicy', 'payments', {
        service: 'payments.prod', targets: [{ region: 'eu-west-1' }], minHealthy: 2,
        healthCheck: { http: { path: '/healthz' } },
        classes: [{ class: 'dev', targets: [{ labels: { env: 'dev' } }] }, { class: 'batch', refuse: true }],
      }),
      doc('FailoverPolicy', 'web', { service: 'web.shop', minHealthy: '50%', failback: { delay: '0s' }, timeout: '2s', outlierDetection: { ejectionTime: '30s' } }),
      doc('TrafficSplit', 'canary', { service: 'web.shop', backends: [{ labels: { version: 'v1' }, weight: 90 }, { labels: { version: 'v2' }, weight: 10 }] }),
    ], [{ to: 'web.shop', from: ['spiffe://other.example/ns/shop/*'] }]);

    assert.equal(set.version, 7);
    assert.deepEqual(set.documents.map((d) => `${d.kind}/${d.name}@${d.origin}`), [
      'AccessPolicy/classes@set.yaml', 'AccessPolicy/scott@set.yaml', 'FailoverPolicy/payments@set.yaml', 'FailoverPolicy/web@set.yaml', 'TrafficSplit/canary@set.yaml',
    ]);
    // The config's access rules come first, as allow rules.
    assert.deepEqual(set.accessRules.map((r) => `${r.policy}#${r.index} ${r.action}`), [
      'config access#0 allow', 'AccessPolicy/scott#0 allow', 'AccessPolicy/scott#1 deny',
    ]);
    assert.equal(set.accessRules[0]?.from[0]?.kind, 'pattern');
    assert.deepEqual([...(set.accessRules[2]?.methods ?? [])], ['POST']);
    assert.equal(set.accessRules[1]?.methods, undefined);
    assert.deepEqual([...set.classes.keys()], ['dev', 'batch']);
    assert.equal(set.classes.get('dev')?.policy, 'AccessPolicy/classes');

    const payments = set.failover.get('payments.prod');
    assert.ok(payments !== undefined);
    assert.equal(payments.policy, 'FailoverPolicy/payments');
    assert.deepEqual(payments.minHealthy, { count: 2 });
    assert.equal(payments.failbackMs, DEFAULT_FAILOVER.failbackMs);
    assert.deepEqual(payments.outlier, DEFAULT_FAILOVER.outlier);
    assert.equal(payments.retries.attempts, DEFAULT_FAILOVER.retries.attempts);
    assert.deepEqual([...payments.retries.on], [...DEFAULT_FAILOVER.retries.on]);
    assert.equal(payments.healthCheck?.kind, 'http');
    assert.equal(payments.healthCheck?.intervalMs, DEFAULT_HEALTH_CHECK.intervalMs);
    assert.equal(payments.healthCheck?.timeoutMs, DEFAULT_HEALTH_CHECK.timeoutMs);
    assert.equal(payments.healthCheck?.healthyThreshold, DEFAULT_HEALTH_CHECK.healthyThreshold);
    assert.equal(payments.healthCheck?.expectStatus(204), true);
    assert.equal(payments.healthCheck?.expectStatus(503), false);
    assert.deepEqual(payments.classes.get('dev'), { targets: [{ labels: { env: 'dev' } }], refuse: false });
    assert.deepEqual(payments.classes.get('batch'), { targets: undefined, refuse: true });

    const web = set.failover.get('web.shop');
    assert.deepEqual(web?.minHealthy, { percent: 50 });
    assert.equal(web?.failbackMs, 0);
    assert.equal(web?.timeoutMs, 2000);
    assert.equal(web?.outlier.ejectionMs, 30_000);
    assert.equal(web?.outlier.maxEjectionMs, DEFAULT_FAILOVER.outlier.maxEjectionMs);
    assert.equal(web?.healthCheck, undefined);

    const split = set.splits.get('web.shop')?.[0];
    assert.equal(split?.policy, 'TrafficSplit/canary');
    assert.equal(split?.classes, undefined);
    assert.deepEqual(split?.backends.map((b) => b.weight), [90, 10]);
    assert.ok(Object.isFrozen(set) && Object.isFrozen(set.accessRules));
  });

  it('gives an empty set the config access rules alone', () => {
    const set = compiled([], [{ to: '*', from: ['anonymous'] }]);
    assert.equal(set.documents.length, 0);
    assert.equal(set.accessRules[0]?.policy, 'config access');
    assert.equal(set.accessRules[0]?.from[0]?.kind, 'anonymous');
  });

  it('refuses unknown fields, naming the nearest known one', () => {
    assert.deepEqual(refused([doc('AccessPolicy', 'a', { rules: [{ form: ['anonymous'], to: ['a.b'] }] })]), [
      'set.yaml AccessPolicy/a spec.rules[0].from: is required',
      'set.yaml AccessPolicy/a spec.rules[0].form: unknown field (did you mean "from"?)',
    ]);
    assert.deepEqual(refused([doc('FailoverPolicy', 'f', { service: 'a.b' }, { status: {} })]), ['set.yaml FailoverPolicy/f status: unknown field']);
  });

  it('refuses bad caller patterns and destinations with the reason', () => {
    assert.deepEqual(refused([doc('AccessPolicy', 'a', {
      rules: [{ from: ['spiffe://x/a*b', 'http://x', 'spiffe://corp.example/ns/*/sa/web'], to: ['payments', '*.prod', '*'] }],
      trafficClasses: [{ name: 'dev', from: ['class:other'] }],
    })]), [
      'set.yaml AccessPolicy/a spec.rules[0].from[0]: "spiffe://x/a*b": * must be a whole path segment (segment 1 is "a*b")',
      'set.yaml AccessPolicy/a spec.rules[0].from[1]: "http://x" is not anonymous, class:<name> or a spiffe:// ID or pattern',
      'set.yaml AccessPolicy/a spec.rules[0].to[0]: "payments": expected *, *.<namespace> or <name>.<namespace>',
      'set.yaml AccessPolicy/a spec.trafficClasses[0].from[0]: "class:other": a traffic class is made of callers, not of other classes',
    ]);
  });

  it('refuses splits whose weights do not sum to 100, and backends of both kinds or none', () => {
    assert.deepEqual(refused([doc('TrafficSplit', 's', {
      service: 'web.shop', backends: [{ cluster: 'a', weight: 50 }, { service: 'web-v2.shop', cluster: 'b', weight: 30 }, { weight: 10 }],
    })]), [
      'set.yaml TrafficSplit/s spec.backends[1]: set either service, or cluster and/or labels, not both',
      'set.yaml TrafficSplit/s spec.backends[2]: must set service, or cluster and/or labels',
      'set.yaml TrafficSplit/s spec.backends: weights sum to 90; they must sum to exactly 100',
    ]);
  });

  it('refuses dangling class references wherever a class is named', () => {
    assert.deepEqual(refused([
      classes,
      doc('AccessPolicy', 'a', { rules: [{ from: ['class:qa'], to: ['*'] }] }),
      doc('FailoverPolicy', 'f', { service: 'a.b', classes: [{ class: 'staging', refuse: true }] }),
      doc('TrafficSplit', 's', { service: 'a.b', classes: ['devs'], backends: [{ cluster: 'x', weight: 100 }] }),
    ]), [
      'set.yaml AccessPolicy/a spec.rules[0].from[0]: class "qa" is not defined by any AccessPolicy\'s trafficClasses (defined classes: batch, dev)',
      'set.yaml FailoverPolicy/f spec.classes[0].class: class "staging" is not defined by any AccessPolicy\'s trafficClasses (defined classes: batch, dev)',
      'set.yaml TrafficSplit/s spec.classes[0]: class "devs" is not defined by any AccessPolicy\'s trafficClasses (defined classes: batch, dev)',
    ]);
  });

  it('does not echo an ill-formed AccessPolicy\'s problems as undefined classes', () => {
    assert.deepEqual(refused([
      doc('AccessPolicy', 'classes', { trafficClasses: [{ name: 'dev', from: ['spiffe://dev.example'], colour: 'red' }] }),
      doc('AccessPolicy', 'a', { rules: [{ from: ['class:dev'], to: ['*'] }] }),
    ]), ['set.yaml AccessPolicy/classes spec.trafficClasses[0].colour: unknown field']);
  });

  it('refuses a wrong apiVersion saying which one is served, and an unknown kind listing the three', () => {
    assert.deepEqual(refused([
      { ...doc('AccessPolicy', 'a', {}), apiVersion: 'causeway.dev/v1' },
      { ...doc('TrafficSplit', 's', {}), apiVersion: 'split.smi-spec.io/v1alpha1' },
      { ...doc('AccessPolicy', 'b', {}), apiVersion: undefined },
      doc('VirtualService', 'v', {}),
      { metadata: { name: 'x' } },
      'just a string',
    ]), [
      'set.yaml AccessPolicy/a apiVersion: "causeway.dev/v1" is not served for AccessPolicy; expected causeway.dev/v1alpha1',
      'set.yaml TrafficSplit/s apiVersion: "split.smi-spec.io/v1alpha1" is not served for TrafficSplit; expected causeway.dev/v1alpha1 (or SMI split.smi-spec.io/v1alpha2, split.smi-spec.io/v1alpha3, split.smi-spec.io/v1alpha4)',
      'set.yaml AccessPolicy/b apiVersion: is required; expected causeway.dev/v1alpha1',
      'set.yaml document 4 kind: "VirtualService" is not a policy kind (expected AccessPolicy, FailoverPolicy, TrafficSplit)',
      'set.yaml document 5 kind: is required (AccessPolicy, FailoverPolicy, TrafficSplit)',
      'set.yaml document 6: must be a mapping with apiVersion, kind, metadata and spec',
    ]);
  });

  it('refuses duplicate names per kind, duplicate classes, and two FailoverPolicies for one service', () => {
    const lines = compilePolicySet([
      { origin: 'one.yaml', document: doc('AccessPolicy', 'a', { trafficClasses: [{ name: 'dev', from: ['anonymous'] }] }) },
      { origin: 'two.yaml', document: doc('AccessPolicy', 'a', {}) },
      { origin: 'two.yaml', document: doc('AccessPolicy', 'b', { trafficClasses: [{ name: 'dev', from: ['spiffe://dev.example'] }] }) },
      { origin: 'two.yaml', document: doc('FailoverPolicy', 'a', { service: 'pay.prod' }) },
      { origin: 'two.yaml', document: doc('FailoverPolicy', 'b', { service: 'pay.prod' }) },
    ], { version: 1, configAccess: [] });
    assert.equal(lines.ok, false);
    assert.deepEqual(lines.ok ? [] : lines.errors.map(formatPolicyError), [
      'two.yaml AccessPolicy/a metadata.name: AccessPolicy/a is also defined in one.yaml; names are unique per kind',
      'two.yaml AccessPolicy/b spec.trafficClasses[0].name: class "dev" is also defined by AccessPolicy/a',
      'two.yaml FailoverPolicy/b spec.service: pay.prod already has FailoverPolicy/a; a service has at most one FailoverPolicy',
    ]);
  });

  it('refuses FailoverPolicy fields that contradict each other or cannot be a duration', () => {
    assert.deepEqual(refused([classes, doc('FailoverPolicy', 'f', {
      service: 'pay.prod', minHealthy: '150%', timeout: '0s', failback: { delay: '10 sec' }, retries: { perTryTimeout: '25h' },
      outlierDetection: { ejectionTime: '10m' },
      healthCheck: { http: { path: '/healthz' }, tcp: {} },
      classes: [{ class: 'dev' }, { class: 'batch', refuse: true, targets: [{ cluster: 'x' }] }, { class: 'dev', refuse: true }],
    })]), [
      'set.yaml FailoverPolicy/f spec.minHealthy: must be a number of endpoints from 0 to 100000, or a share of the endpoints from 0% to 100% (got the string "150%")',
      'set.yaml FailoverPolicy/f spec.failback.delay: "10 sec": expected a duration: a whole number followed by ms, s, m or h (e.g. 500ms, 10s)',
    ]);
    assert.deepEqual(refused([classes, doc('FailoverPolicy', 'f', {
      service: 'pay.prod', timeout: '0s', retries: { perTryTimeout: '25h' }, outlierDetection: { ejectionTime: '10m' },
      healthCheck: { http: { path: '/healthz' }, tcp: {} },
      classes: [{ class: 'dev' }, { class: 'batch', refuse: true, targets: [{ cluster: 'x' }] }, { class: 'dev', refuse: true }],
    })]), [
      'set.yaml FailoverPolicy/f spec.classes[0]: must set exactly one of targets, refuse: true',
      'set.yaml FailoverPolicy/f spec.classes[1]: must set exactly one of targets, refuse: true',
      'set.yaml FailoverPolicy/f spec.classes[2].class: class "dev" is routed twice in this policy',
      'set.yaml FailoverPolicy/f spec.healthCheck: must set exactly one of http, tcp',
      'set.yaml FailoverPolicy/f spec.outlierDetection.ejectionTime: 10m is longer than maxEjectionTime (300s by default)',
      'set.yaml FailoverPolicy/f spec.timeout: "0s": must be more than 0',
      'set.yaml FailoverPolicy/f spec.retries.perTryTimeout: "25h" is longer than 24h',
    ]);
  });

  it('refuses two splits that could take the same caller', () => {
    const backends = [{ cluster: 'a', weight: 100 }];
    assert.deepEqual(refused([
      classes,
      doc('TrafficSplit', 'all', { service: 'web.shop', backends }),
      doc('TrafficSplit', 'again', { service: 'web.shop', backends }),
      doc('TrafficSplit', 'dev', { service: 'api.shop', classes: ['dev'], backends }),
      doc('TrafficSplit', 'dev2', { service: 'api.shop', classes: ['batch', 'dev'], backends }),
      doc('TrafficSplit', 'batch', { service: 'api.shop', classes: ['batch'], backends }),
    ]), [
      'set.yaml TrafficSplit/again spec: TrafficSplit/all already splits web.shop for every caller; give each split its own classes',
      'set.yaml TrafficSplit/dev2 spec.classes: TrafficSplit/dev already splits api.shop for class dev',
      'set.yaml TrafficSplit/batch spec.classes: TrafficSplit/dev2 already splits api.shop for class batch',
    ]);
  });

  it('accepts SMI TrafficSplit v1alpha2 and v1alpha4 as they are, weights made percentages', () => {
    const set = compiled([
      {
        apiVersion: 'split.smi-spec.io/v1alpha2', kind: 'TrafficSplit', metadata: { name: 'web-rollout', namespace: 'shop', uid: 'x-1', resourceVersion: '42' },
        spec: { service: 'web', backends: [{ service: 'web-v1', weight: 3 }, { service: 'web-v2', weight: 1 }] },
      },
      {
        apiVersion: 'split.smi-spec.io/v1alpha4', kind: 'TrafficSplit', metadata: { name: 'api-rollout' },
        spec: { service: 'api', backends: [{ service: 'api-v1', weight: 500 }, { service: 'api-v2', weight: 500 }, { service: 'api-v3', weight: 0 }] },
      },
    ]);
    assert.deepEqual(set.splits.get('web.shop')?.[0]?.backends.map((b) => [b.service, b.weight]), [['web-v1.shop', 75], ['web-v2.shop', 25]]);
    assert.deepEqual(set.splits.get('api.default')?.[0]?.backends.map((b) => [b.service, b.weight]), [['api-v1.default', 50], ['api-v2.default', 50], ['api-v3.default', 0]]);
    assert.equal(set.documents[0]?.kind, 'TrafficSplit');
  });

  it('refuses SMI matches (HTTPRouteGroup) and SMI weights that are all 0', () => {
    assert.deepEqual(refused([{
      apiVersion: 'split.smi-spec.io/v1alpha3', kind: 'TrafficSplit', metadata: { name: 'ab' },
      spec: { service: 'web', backends: [{ service: 'web-v1', weight: 0 }], matches: [{ kind: 'HTTPRouteGroup', name: 'ab-test' }] },
    }]), [
      'set.yaml TrafficSplit/ab spec.matches: is not supported: Causeway does not implement HTTPRouteGroup; remove matches, or use a causeway.dev/v1alpha1 TrafficSplit with classes',
      'set.yaml TrafficSplit/ab spec.backends: weights sum to 0; at least one must be above 0',
    ]);
  });

  it('reports a bad config access rule under config', () => {
    const result = compile([], [{ to: 'a.b', from: ['class:dev', 'spiffe://td/ok'] }]);
    assert.equal(result.ok, false);
    assert.deepEqual(result.ok ? [] : result.errors.map(formatPolicyError), [
      'config access[0] from[0]: "class:dev": the config\'s access rules cannot name traffic classes; write an AccessPolicy',
    ]);
  });

  it('reports every problem of every document in one refusal', () => {
    const lines = refused([
      doc('AccessPolicy', 'a', { rules: [{ from: ['http://x'], to: ['a.b'] }] }),
      doc('TrafficSplit', 's', { service: 'web', backends: [{ cluster: 'a', weight: 101 }] }),
      doc('FailoverPolicy', 'f', { service: 'x.y', targets: [{}] }),
    ]);
    assert.deepEqual(lines, [
      'set.yaml AccessPolicy/a spec.rules[0].from[0]: "http://x" is not anonymous, class:<name> or a spiffe:// ID or pattern',
      'set.yaml TrafficSplit/s spec.service: "web": expected a service as <name>.<namespace>',
      'set.yaml TrafficSplit/s spec.backends[0].weight: must be from 0 to 100 (got 101)',
      'set.yaml FailoverPolicy/f spec.targets[0]: must set at least one of cluster, region, cloud, labels',
    ]);
  });
});
