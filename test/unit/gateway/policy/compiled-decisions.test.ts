import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { CallerClassifier } from '../../../../gateway/policy/classify.js';
import { compilePolicySet } from '../../../../gateway/policy/compile.js';
import { decideAccess } from '../../../../gateway/policy/decide-access.js';
import type { PolicySet } from '../../../../gateway/policy/policy-set.js';
import { seeded } from './policy-builders.js';
import { RouteWorld, clusterOrder, places } from './route-fixture.js';

/** The worked examples, written as an operator would, compiled by the set compiler, then decided. */
function compileYaml(text: string): PolicySet {
  const inputs = parseAllDocuments(text).map((doc) => ({ origin: 'examples.yaml', document: doc.toJS() as unknown }));
  const result = compilePolicySet(inputs, { version: 1, configAccess: [] });
  if (!result.ok) assert.fail(JSON.stringify(result.errors));
  return result.set;
}

describe('decisions on compiled YAML policies', () => {
  it('Scott may call payments (and, payments now allow-listed, nobody else of his trust domain)', () => {
    const set = compileYaml(`
apiVersion: causeway.dev/v1alpha1
kind: AccessPolicy
metadata: { name: scott }
spec:
  rules:
    - from: [spiffe://corp.example/ns/default/sa/scott]
      to: [payments.prod]
`);
    const classifier = new CallerClassifier();
    const ask = (id: string): ReturnType<typeof decideAccess> =>
      decideAccess(set, { caller: classifier.caller(set, id), service: 'payments.prod', scope: { method: 'POST', path: '/charge' } }, 'corp.example');
    const scott = ask('spiffe://corp.example/ns/default/sa/scott');
    assert.equal(scott.allowed, true);
    assert.deepEqual(scott.rule, { policy: 'AccessPolicy/scott', index: 0, action: 'allow' });
    assert.equal(ask('spiffe://corp.example/ns/default/sa/alice').allowed, false);
  });

  it('dev traffic is kept off production endpoints', () => {
    const set = compileYaml(`
apiVersion: causeway.dev/v1alpha1
kind: AccessPolicy
metadata: { name: classes }
spec:
  trafficClasses:
    - name: dev
      from: [spiffe://dev.example]
---
apiVersion: causeway.dev/v1alpha1
kind: FailoverPolicy
metadata: { name: payments }
spec:
  service: payments.prod
  classes:
    - class: dev
      targets: [{ labels: { env: dev } }]
`);
    const world = new RouteWorld();
    world.put('a', [{ n: 1, labels: { env: 'dev' } }, { n: 2, labels: { env: 'prod' } }]);
    world.put('b', [{ n: 1, labels: { env: 'prod' } }]);
    world.put('c', [{ n: 1, labels: { env: 'dev' } }, { n: 2, labels: { env: 'prod' } }]);
    const dev = new CallerClassifier().caller(set, 'spiffe://dev.example/ns/team/sa/tester');
    assert.deepEqual([...dev.classes], ['dev']);
    world.random = seeded(9);
    for (let i = 0; i < 100; i += 1) assert.deepEqual(places(world.decide(set, { caller: dev })), ['a:10.1.0.1', 'c[env=dev]']);
    const prodCaller = new CallerClassifier().caller(set, 'spiffe://a.example/ns/shop/sa/web');
    assert.deepEqual(clusterOrder(world.decide(set, { caller: prodCaller })), ['a', 'b', 'c']);
  });

  it('fails over from us-east to eu-west when fewer than 2 local endpoints are healthy', () => {
    const set = compileYaml(`
apiVersion: causeway.dev/v1alpha1
kind: FailoverPolicy
metadata: { name: payments }
spec:
  service: payments.prod
  targets: [{ region: eu-west-1 }]
  minHealthy: 2
  failback: { delay: 10s }
`);
    const world = new RouteWorld();
    world.put('a', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    for (const cluster of ['b', 'c', 'd']) world.put(cluster, [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(clusterOrder(world.decide(set)), ['a', 'c', 'b', 'd'], 'all healthy: local first, then the target');
    world.put('a', [{ n: 1 }, { n: 2, health: 'unhealthy' }, { n: 3, health: 'unhealthy' }]);
    assert.deepEqual(clusterOrder(world.decide(set)), ['c', 'b', 'd', 'a'], 'one left: eu-west first, us-east last');
    world.put('a', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    world.nowMs += 9_000;
    assert.deepEqual(clusterOrder(world.decide(set)), ['c', 'b', 'd', 'a'], 'within the 10 s failback delay');
    world.nowMs += 10_000;
    assert.deepEqual(clusterOrder(world.decide(set)), ['a', 'c', 'b', 'd'], 'failed back');
  });
});
