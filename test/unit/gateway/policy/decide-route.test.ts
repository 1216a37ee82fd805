import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes } from '../../../../registry/index.js';
import type { RouteDecision } from '../../../../gateway/policy/decide-route.js';
import type { PolicySet } from '../../../../gateway/policy/policy-set.js';
import { allow, backend, deny, failover, policySet, scripted, seeded, split, trafficClass, type FailoverOverrides } from './policy-builders.js';
import { PORT, RouteWorld, SERVICE, anyone, clusterOrder, gatewayId, places } from './route-fixture.js';

const RANDOMS: Array<[string, () => () => number]> = [
  ['0', () => () => 0],
  ['0.5', () => () => 0.5],
  ['0.999999', () => () => 0.999999],
  ['seeded 1', () => seeded(1)],
  ['seeded 2', () => seeded(2)],
  ['seeded 3', () => seeded(3)],
];

/** a (2 endpoints), b (same region), c (same cloud), d (another cloud). */
function standard(): RouteWorld {
  const world = new RouteWorld();
  world.put('a', [{ n: 1 }, { n: 2 }]);
  world.put('b', [{ n: 1 }]);
  world.put('c', [{ n: 1 }]);
  world.put('d', [{ n: 1 }]);
  return world;
}

function withFailover(overrides: FailoverOverrides, extra: Parameters<typeof policySet>[0] = {}): PolicySet {
  return policySet({ ...extra, failover: { [SERVICE]: failover('payments', overrides) } });
}

function count<T>(items: T[], predicate: (item: T) => boolean): number {
  return items.filter(predicate).length;
}

describe('RouteDecider: the default order', () => {
  it('is the local cluster, then same region, same cloud, anywhere, whatever the random values', () => {
    const world = standard();
    for (const [name, make] of RANDOMS) {
      world.random = make();
      const decision = world.decide();
      assert.deepEqual(clusterOrder(decision), ['a', 'b', 'c', 'd'], `random ${name}`);
      assert.equal(decision.candidates.length, 5, `random ${name}`);
      assert.equal(decision.refusal, undefined);
    }
    const whys = world.decide().candidates.map((c) => c.why);
    assert.match(whys[0]!, /^local cluster/);
    assert.match(whys[2]!, /^nearest first: same region/);
    assert.match(whys[3]!, /^nearest first: same cloud/);
    assert.match(whys[4]!, /^nearest first: another cloud/);
  });

  it('spreads load over clusters of one step and keeps the gateways of a cluster together', () => {
    const world = new RouteWorld();
    world.put('b', [{ n: 1 }]);
    world.put('b2', [{ n: 1 }]);
    world.gateway('b', 2);
    world.random = seeded(7);
    let bFirst = 0;
    for (let i = 0; i < 1000; i += 1) {
      const order = places(world.decide(), { gateways: true });
      assert.equal(order.length, 3);
      const b = order.map((p, at) => (p.startsWith('b@') ? at : -1)).filter((at) => at >= 0);
      assert.equal(b[1]! - b[0]!, 1, `b's two gateways are adjacent: ${order.join(' ')}`);
      if (b[0] === 0) bFirst += 1;
    }
    assert.ok(bFirst > 300 && bFirst < 700, `b came first ${bFirst} times of 1000`);
  });

  it('orders local endpoints by weight', () => {
    const world = new RouteWorld();
    world.put('a', [{ n: 1, weight: 9 }, { n: 2, weight: 1 }]);
    world.random = seeded(11);
    let heavyFirst = 0;
    for (let i = 0; i < 5000; i += 1) if (places(world.decide())[0] === 'a:10.1.0.1') heavyFirst += 1;
    assert.ok(heavyFirst / 5000 > 0.86 && heavyFirst / 5000 < 0.94, `the weight-9 endpoint came first ${heavyFirst} times of 5000`);
  });

  it('leaves out unhealthy local endpoints and those without the port', () => {
    const world = new RouteWorld();
    world.put('a', [{ n: 1 }, { n: 2, health: 'unhealthy' }, { n: 3, health: 'unknown' }, { n: 4, noPort: true }]);
    world.put('b', [{ n: 1 }]);
    assert.deepEqual(places(world.decide()), ['a:10.1.0.1', 'b']);
  });

  it('throws CW_SERVICE_UNKNOWN for an unknown service or port', () => {
    const world = standard();
    assert.throws(() => world.decide(policySet(), { service: 'nope.prod' }), { code: ErrorCodes.SERVICE_UNKNOWN });
    assert.throws(() => world.decider.decide(policySet(), { caller: anyone(), service: SERVICE, port: 1, localAccess: undefined }),
      { code: ErrorCodes.SERVICE_UNKNOWN, message: /has no port 1 \(ports: 8080, 9090\)/ });
  });
});

describe('RouteDecider: FailoverPolicy targets', () => {
  function fiveClusters(): RouteWorld {
    const world = standard();
    world.put('e', [{ n: 1 }]);
    return world;
  }

  it('takes the targets in order after the local cluster, then the rest nearest first', () => {
    const world = fiveClusters();
    const set = withFailover({ targets: [{ cluster: 'e' }, { region: 'eu-west-1' }] });
    for (const [name, make] of RANDOMS) {
      world.random = make();
      assert.deepEqual(clusterOrder(world.decide(set)), ['a', 'e', 'c', 'b', 'd'], `random ${name}`);
    }
    const why = world.decide(set).candidates.map((c) => c.why);
    assert.match(why[2]!, /^FailoverPolicy\/payments target 1: cluster e/);
    assert.match(why[3]!, /^FailoverPolicy\/payments target 2: region eu-west-1/);
  });

  it('takes a whole cloud as one target, its clusters shuffled', () => {
    const world = fiveClusters();
    const set = withFailover({ targets: [{ cloud: 'gcp' }] });
    const seen = new Set<string>();
    world.random = seeded(5);
    for (let i = 0; i < 200; i += 1) {
      const order = clusterOrder(world.decide(set));
      assert.deepEqual([order[0], ...order.slice(3)], ['a', 'b', 'c']);
      assert.deepEqual([...order.slice(1, 3)].sort(), ['d', 'e']);
      seen.add(order.slice(1, 3).join(''));
    }
    assert.deepEqual([...seen].sort(), ['de', 'ed'], 'both gcp clusters come first sometimes');
  });

  it('combines the fields of one target', () => {
    const world = fiveClusters();
    assert.deepEqual(clusterOrder(world.decide(withFailover({ targets: [{ cloud: 'gcp', region: 'europe-west1' }] }))), ['a', 'e', 'b', 'c', 'd']);
    // Nothing matches both: the target takes no cluster.
    assert.deepEqual(clusterOrder(world.decide(withFailover({ targets: [{ cloud: 'aws', region: 'europe-west1' }] }))), ['a', 'b', 'c', 'd', 'e']);
  });

  it('sends a labels target to that subset of each remote cluster, before the clusters whole', () => {
    const world = new RouteWorld();
    world.put('a', [{ n: 1, labels: { tier: 'gold' } }, { n: 2 }]);
    world.put('b', [{ n: 1 }]);
    world.put('c', [{ n: 1, labels: { tier: 'gold' } }, { n: 2 }]);
    const set = withFailover({ targets: [{ labels: { tier: 'gold' } }] });
    world.random = () => 0.5;
    const decision = world.decide(set);
    assert.deepEqual(places(decision).slice(2), ['c[tier=gold]', 'b', 'c']);
    assert.deepEqual(places(decision).slice(0, 2).sort(), ['a:10.1.0.1', 'a:10.1.0.2']);
    assert.ok(decision.considered.some((c) => c.cluster === 'b' && c.verdict === 'out' && /b \[tier=gold\]: no endpoint with these labels/.test(c.why)));
  });

  it('never lists one local endpoint twice, however many targets take the local cluster', () => {
    const world = new RouteWorld();
    world.put('a', [{ n: 1, labels: { tier: 'gold' } }, { n: 2 }]);
    world.put('b', [{ n: 1 }]);
    for (const targets of [[{ labels: { tier: 'gold' } }], [{ cluster: 'a' }], [{ region: 'us-east-1' }, { cloud: 'aws' }]]) {
      const order = places(world.decide(withFailover({ targets })));
      assert.equal(new Set(order).size, order.length, `${JSON.stringify(targets)}: ${order.join(' ')}`);
      assert.equal(count(order, (p) => p.startsWith('a:')), 2, order.join(' '));
    }
  });
});

describe('RouteDecider: minHealthy and failback', () => {
  /** minHealthy applies to every cluster: the remote ones get two healthy endpoints each. */
  function standard(): RouteWorld {
    const world = new RouteWorld();
    world.put('a', [{ n: 1 }, { n: 2 }]);
    for (const cluster of ['b', 'c', 'd']) world.put(cluster, [{ n: 1 }, { n: 2 }]);
    return world;
  }

  it('minHealthy applies to remote clusters as well: all below it, the usual order stands', () => {
    const world = new RouteWorld();
    world.put('a', [{ n: 1 }, { n: 2, health: 'unhealthy' }]);
    world.put('b', [{ n: 1 }]);
    world.put('c', [{ n: 1 }, { n: 2 }]);
    const decision = world.decide(withFailover({ minHealthy: { count: 2 }, failbackMs: 0 }));
    assert.deepEqual(clusterOrder(decision), ['c', 'a', 'b']);
    assert.match(decision.candidates[2]!.why, /1 of 1 endpoints healthy, below minHealthy 2/);
  });

  it('minHealthy 2: a cluster with one healthy endpoint goes after the fit ones, before all its endpoints are gone', () => {
    const world = standard();
    world.put('a', [{ n: 1 }, { n: 2, health: 'unhealthy' }, { n: 3, health: 'unhealthy' }]);
    const set = withFailover({ minHealthy: { count: 2 }, failbackMs: 0 });
    const decision = world.decide(set);
    assert.deepEqual(places(decision), ['b', 'c', 'd', 'a:10.1.0.1']);
    assert.match(decision.candidates[3]!.why, /1 of 3 endpoints healthy, below minHealthy 2/);
    assert.ok(decision.considered.some((c) => c.subject === 'endpoint 10.1.0.1:8081' && c.verdict === 'after the others'));
    // A second healthy endpoint makes it fit again (no failback delay here).
    world.put('a', [{ n: 1 }, { n: 2 }, { n: 3, health: 'unhealthy' }]);
    assert.deepEqual(clusterOrder(world.decide(set)), ['a', 'b', 'c', 'd']);
  });

  it('minHealthy 50%: counts the share of the cluster\'s endpoints, rounding up, for remote clusters too', () => {
    const world = standard();
    const set = withFailover({ minHealthy: { percent: 50 }, failbackMs: 0 });
    world.put('a', [{ n: 1 }, { n: 2, health: 'unhealthy' }, { n: 3, health: 'unhealthy' }, { n: 4, health: 'unhealthy' }]);
    assert.deepEqual(clusterOrder(world.decide(set)), ['b', 'c', 'd', 'a']);
    world.put('a', [{ n: 1 }, { n: 2 }, { n: 3, health: 'unhealthy' }, { n: 4, health: 'unhealthy' }]);
    assert.deepEqual(clusterOrder(world.decide(set)), ['a', 'b', 'c', 'd']);
    // 2 of 3 healthy is 67%; 1 of 3 (ceil(1.5) = 2 required) is not enough
    world.put('b', [{ n: 1 }, { n: 2, health: 'unhealthy' }, { n: 3, health: 'unhealthy' }]);
    assert.deepEqual(clusterOrder(world.decide(set)), ['a', 'c', 'd', 'b']);
    world.put('b', [{ n: 1 }, { n: 2 }, { n: 3, health: 'unhealthy' }]);
    assert.deepEqual(clusterOrder(world.decide(set)), ['a', 'b', 'c', 'd']);
  });

  it('a cluster with no healthy endpoint is out, not last', () => {
    const world = standard();
    world.put('b', [{ n: 1, health: 'unhealthy' }]);
    const decision = world.decide();
    assert.deepEqual(clusterOrder(decision), ['a', 'c', 'd']);
    assert.ok(decision.considered.some((c) => c.cluster === 'b' && c.verdict === 'out' && /none of its 1 endpoints is healthy/.test(c.why)));
  });

  it('gives a recovered cluster its traffic back only after the failback delay (injected clock)', () => {
    const world = standard();
    const set = withFailover({ minHealthy: { count: 2 }, failbackMs: 5000 });
    world.put('a', [{ n: 1 }, { n: 2, health: 'unhealthy' }]);
    assert.deepEqual(clusterOrder(world.decide(set)), ['b', 'c', 'd', 'a']);
    world.nowMs += 100;
    world.put('a', [{ n: 1 }, { n: 2 }]);
    world.nowMs += 900;
    const early = world.decide(set);
    assert.deepEqual(clusterOrder(early), ['b', 'c', 'd', 'a'], 'still within the failback delay');
    assert.match(early.candidates[3]!.why, /recovered .* ago; failback after 5\.0 s/);
    world.nowMs += 5000;
    assert.deepEqual(clusterOrder(world.decide(set)), ['a', 'b', 'c', 'd'], 'after the failback delay');
    // Forgotten once failed back: a later request does not demote it again.
    world.nowMs += 10;
    assert.deepEqual(clusterOrder(world.decide(set)), ['a', 'b', 'c', 'd']);
    assert.equal(world.failback.size, 0);
  });

  it('times the failback delay from the recovery the engine saw in the catalog, however long the outage was', () => {
    const world = standard();
    const set = withFailover({ minHealthy: { count: 2 }, failbackMs: 5000 });
    const engine = world.engine(() => set);
    try {
      const caller = engine.caller('spiffe://a.example/ns/shop/sa/web');
      const route = (): string[] => clusterOrder(engine.route(caller, SERVICE, PORT, { method: 'GET', path: '/' }));
      const start = world.nowMs;
      // Degraded with no request at all: the engine looks because the catalog changed.
      world.put('a', [{ n: 1 }, { n: 2, health: 'unhealthy' }]);
      assert.ok(engine.failback.size > 0, 'the catalog change was observed');
      // A long outage, then the recovery, still without requests.
      world.nowMs = start + 60_000;
      world.put('a', [{ n: 1 }, { n: 2 }]);
      world.nowMs = start + 61_000;
      assert.deepEqual(route(), ['b', 'c', 'd', 'a'], '1 s after the recovery: still failed over');
      world.nowMs = start + 64_900;
      assert.deepEqual(route(), ['b', 'c', 'd', 'a'], '4.9 s after the recovery: still failed over');
      world.nowMs = start + 65_100;
      assert.deepEqual(route(), ['a', 'b', 'c', 'd'], '5.1 s after the recovery: failed back');
    } finally {
      engine.close();
    }
  });

  it('does not let a flapping cluster pull traffic back: the delay restarts at each recovery', () => {
    const world = standard();
    const set = withFailover({ minHealthy: { count: 2 }, failbackMs: 5000 });
    const engine = world.engine(() => set);
    try {
      const caller = engine.caller(undefined);
      const route = (): string[] => clusterOrder(engine.route(caller, SERVICE, PORT, 'tcp'));
      const start = world.nowMs;
      const down = (): void => world.put('a', [{ n: 1 }, { n: 2, health: 'unhealthy' }]);
      const up = (): void => world.put('a', [{ n: 1 }, { n: 2 }]);
      down();
      world.nowMs = start + 1000;
      up();
      world.nowMs = start + 2000;
      down();
      world.nowMs = start + 3000;
      up();
      world.nowMs = start + 7000;
      assert.deepEqual(route(), ['b', 'c', 'd', 'a'], '4 s after the last recovery');
      world.nowMs = start + 8100;
      assert.deepEqual(route(), ['a', 'b', 'c', 'd'], '5.1 s after the last recovery');
    } finally {
      engine.close();
    }
  });

  it('fails back to a remote cluster after the delay too', () => {
    const world = new RouteWorld();
    world.put('b', [{ n: 1 }]);
    world.put('c', [{ n: 1 }]);
    const set = policySet();
    const engine = world.engine(() => set);
    try {
      const caller = engine.caller(undefined);
      const start = world.nowMs;
      world.put('b', [{ n: 1, health: 'unhealthy' }]);
      assert.deepEqual(clusterOrder(engine.route(caller, SERVICE, PORT, 'tcp')), ['c']);
      world.nowMs = start + 30_000;
      world.put('b', [{ n: 1 }]);
      world.nowMs = start + 31_000;
      assert.deepEqual(clusterOrder(engine.route(caller, SERVICE, PORT, 'tcp')), ['c', 'b'], 'DEFAULT_FAILOVER: 5 s failback');
      world.nowMs = start + 35_100;
      assert.deepEqual(clusterOrder(engine.route(caller, SERVICE, PORT, 'tcp')), ['b', 'c']);
    } finally {
      engine.close();
    }
  });
});

describe('RouteDecider: gateway liveness and outliers', () => {
  function remotes(): RouteWorld {
    const world = new RouteWorld();
    world.put('b', [{ n: 1 }]);
    world.put('c', [{ n: 1 }]);
    world.put('d', [{ n: 1 }]);
    return world;
  }

  it('never chooses a dead gateway, even when it is the only one: CW_NO_HEALTHY_ENDPOINT', () => {
    const world = new RouteWorld();
    world.put('b', [{ n: 1 }]);
    world.states.set(gatewayId('b'), { condition: 'dead', reason: 'keep-alive PING unanswered', changedAtMs: world.nowMs });
    const decision = world.decide();
    assert.deepEqual(decision.candidates, []);
    assert.equal(decision.refusal?.code, ErrorCodes.NO_HEALTHY_ENDPOINT);
    assert.ok(decision.considered.some((c) => c.subject === `gateway ${gatewayId('b')}` && c.verdict === 'out' && c.why === 'dead: keep-alive PING unanswered'));
  });

  it('skips a dead gateway for the cluster\'s other gateways, and never takes it in panic mode', () => {
    const world = remotes();
    world.gateway('b', 2);
    world.states.set(gatewayId('b'), { condition: 'dead', reason: 'connect refused', changedAtMs: world.nowMs });
    assert.deepEqual(places(world.decide(), { gateways: true }), ['b@b-gw2', 'c@c-gw1', 'd@d-gw1']);
    // Everything else ejected: panic mode takes the ejected ones, still never the dead one.
    for (const id of [gatewayId('b', 2), gatewayId('c'), gatewayId('d')]) world.ejected.set(id, '3 consecutive failures');
    assert.deepEqual(places(world.decide(), { gateways: true }), ['b@b-gw2', 'c@c-gw1', 'd@d-gw1']);
  });

  it('tries an ejected gateway only when nothing else is left (panic mode)', () => {
    const world = remotes();
    world.ejected.set(gatewayId('b'), '3 consecutive failures');
    const decision = world.decide();
    assert.deepEqual(clusterOrder(decision), ['c', 'd']);
    assert.ok(decision.considered.some((c) => c.cluster === 'b' && c.verdict === 'last resort' && /ejected: 3 consecutive failures; tried only when nothing else is left/.test(c.why)));
    world.ejected.set(gatewayId('c'), '5xx');
    world.ejected.set(gatewayId('d'), '5xx');
    assert.deepEqual(clusterOrder(world.decide()), ['b', 'c', 'd'], 'all ejected: all tried, in the usual order');
  });

  it('tries a gateway whose federation link is down only when nothing else is left', () => {
    const world = remotes();
    world.states.set(gatewayId('b'), { condition: 'link-down', reason: 'heartbeats lost', changedAtMs: world.nowMs });
    assert.deepEqual(clusterOrder(world.decide()), ['c', 'd']);
    world.states.set(gatewayId('c'), { condition: 'link-down', reason: 'heartbeats lost', changedAtMs: world.nowMs });
    world.ejected.set(gatewayId('d'), '5xx');
    assert.deepEqual(clusterOrder(world.decide()), ['b', 'c', 'd']);
  });

  it('puts a gateway that came back recently after the fit ones until the failback delay is over', () => {
    const world = remotes();
    world.gateway('b', 2);
    world.states.set(gatewayId('b'), { condition: 'up', reason: 'answering', changedAtMs: world.nowMs - 1000 });
    const decision = world.decide();
    assert.deepEqual(places(decision, { gateways: true }), ['b@b-gw2', 'c@c-gw1', 'd@d-gw1', 'b@b-gw1']);
    assert.match(decision.candidates[3]!.why, /gateway back up 1\.0 s ago; failback after 5\.0 s/);
    world.nowMs += 4100;
    assert.deepEqual(places(world.decide(), { gateways: true }).slice(0, 2).sort(), ['b@b-gw1', 'b@b-gw2']);
  });

  it('maxEjectedPercent: ejections beyond the share are ignored', () => {
    const world = remotes();
    // failbackMs 0: each decision here stands alone (a cluster seen all ejected is otherwise held back for the delay).
    const at = (percent: number): PolicySet => withFailover({ outlier: { maxEjectedPercent: percent }, failbackMs: 0 });
    world.ejected.set(gatewayId('b'), '5xx');
    assert.deepEqual(clusterOrder(world.decide(at(50))), ['c', 'd'], '1 of 3 ejected is within 50%');
    assert.deepEqual(clusterOrder(world.decide(at(0))), ['b', 'c', 'd'], '0%: no ejection is honoured');
    world.ejected.set(gatewayId('c'), '5xx');
    const over = world.decide(at(50));
    assert.deepEqual(clusterOrder(over), ['b', 'c', 'd'], '2 of 3 ejected is over 50%: they are candidates again');
    assert.match(over.candidates[0]!.why, /ejections ignored \(over maxEjectedPercent 50\)/);
    assert.deepEqual(clusterOrder(world.decide(at(100))), ['d'], 'the default honours every ejection');
    // A dead gateway is not counted as a candidate that could be skipped.
    world.ejected.delete(gatewayId('c'));
    world.states.set(gatewayId('d'), { condition: 'dead', reason: 'x', changedAtMs: world.nowMs });
    assert.deepEqual(clusterOrder(world.decide(at(50))), ['c'], '1 of 2 live gateways ejected is 50%, within the share');
  });
});

describe('RouteDecider: traffic classes', () => {
  const classes = [trafficClass('dev', ['spiffe://dev.example']), trafficClass('batch', ['spiffe://a.example/ns/batch/*'])];

  function devWorld(): RouteWorld {
    const world = new RouteWorld();
    world.put('a', [{ n: 1, labels: { env: 'dev' } }, { n: 2, labels: { env: 'prod' } }, { n: 3, labels: { env: 'dev' } }]);
    world.put('b', [{ n: 1, labels: { env: 'dev' } }, { n: 2, labels: { env: 'prod' } }]);
    world.put('c', [{ n: 1, labels: { env: 'prod' } }]);
    world.put('d', [{ n: 1, labels: { env: 'dev' } }]);
    return world;
  }

  const set = withFailover({ classes: { dev: { targets: [{ labels: { env: 'dev' } }] }, batch: { refuse: true } } }, { classes });

  it('routes a class to its label subset alone, in every cluster, local endpoints first', () => {
    const world = devWorld();
    world.random = seeded(3);
    for (let i = 0; i < 300; i += 1) {
      const decision = world.decide(set, { caller: anyone(['dev']) });
      const order = places(decision);
      assert.deepEqual(decision.classRoute, { class: 'dev', policy: 'FailoverPolicy/payments' });
      assert.deepEqual(order.slice(0, 2).sort(), ['a:10.1.0.1', 'a:10.1.0.3'], order.join(' '));
      assert.deepEqual(order.slice(2).sort(), ['b[env=dev]', 'd[env=dev]'], order.join(' '));
      for (const candidate of decision.candidates) {
        if (candidate.target.kind === 'local') assert.equal(candidate.target.endpoint.labels.env, 'dev');
        else assert.deepEqual(candidate.target.subset, { env: 'dev' });
      }
    }
    // Other callers are not affected.
    assert.deepEqual(clusterOrder(world.decide(set)), ['a', 'b', 'c', 'd']);
    assert.equal(world.decide(set).classRoute, undefined);
  });

  it('refuses the class rather than fall back to other endpoints when its subset has none healthy', () => {
    const world = new RouteWorld();
    world.put('a', [{ n: 1, labels: { env: 'dev' }, health: 'unhealthy' }, { n: 2, labels: { env: 'prod' } }]);
    world.put('c', [{ n: 1, labels: { env: 'prod' } }]);
    const decision = world.decide(set, { caller: anyone(['dev']) });
    assert.deepEqual(decision.candidates, []);
    assert.equal(decision.refusal?.code, ErrorCodes.NO_HEALTHY_ENDPOINT);
  });

  it('refuses a class the policy refuses: CW_ACCESS_DENIED', () => {
    const world = devWorld();
    const decision = world.decide(set, { caller: anyone(['batch']) });
    assert.deepEqual(decision.candidates, []);
    assert.equal(decision.refusal?.code, ErrorCodes.ACCESS_DENIED);
    assert.match(decision.refusal?.message ?? '', /FailoverPolicy\/payments refuses traffic class batch access to payments\.prod/);
  });

  it('routes a class to named clusters only', () => {
    const world = devWorld();
    const toD = withFailover({ classes: { dev: { targets: [{ cluster: 'd' }] } } }, { classes });
    assert.deepEqual(places(world.decide(toD, { caller: anyone(['dev']) })), ['d']);
  });

  it('refuses a caller in a refused class even when another of its classes has a route listed first', () => {
    const world = devWorld();
    const both = withFailover({ classes: { dev: { targets: [{ labels: { env: 'dev' } }] }, batch: { refuse: true } } }, { classes });
    const decision = world.decide(both, { caller: anyone(['dev', 'batch']) });
    assert.equal(decision.refusal?.code, ErrorCodes.ACCESS_DENIED);
    assert.deepEqual(decision.classRoute, { class: 'batch', policy: 'FailoverPolicy/payments' });
  });
});

describe('RouteDecider: TrafficSplit', () => {
  function versions(): RouteWorld {
    const world = new RouteWorld();
    world.put('a', [{ n: 1, labels: { version: 'v1' } }, { n: 2, labels: { version: 'v2' } }]);
    world.put('b', [{ n: 1, labels: { version: 'v1' } }, { n: 2, labels: { version: 'v2' } }]);
    return world;
  }

  const canary = policySet({
    splits: { [SERVICE]: [split('canary', [backend(90, { labels: { version: 'v1' } }), backend(10, { labels: { version: 'v2' } })])] },
  });

  it('draws 90/10 by weight over many requests', () => {
    const world = versions();
    world.random = seeded(42);
    let v2 = 0;
    const draws = 10_000;
    for (let i = 0; i < draws; i += 1) {
      const decision = world.decide(canary, { explain: false });
      const first = decision.candidates[0]!.target;
      assert.equal(first.kind, 'local');
      const version = first.kind === 'local' ? first.endpoint.labels.version : undefined;
      assert.equal(decision.split?.backend, `labels version=${version ?? ''}`);
      assert.equal(decision.split?.weight, version === 'v2' ? 10 : 90);
      if (version === 'v2') v2 += 1;
    }
    assert.ok(v2 / draws > 0.08 && v2 / draws < 0.12, `v2 drawn ${v2} times of ${draws}`);
  });

  it('falls back to the other backends after the drawn one, local subset first', () => {
    const world = versions();
    world.random = scripted([0.01, 0.99]);
    const decision = world.decide(canary);
    assert.equal(decision.split?.backend, 'labels version=v2');
    assert.deepEqual(places(decision), ['a:10.1.0.2', 'b[version=v2]', 'a:10.1.0.1', 'b[version=v1]']);
    assert.match(decision.candidates[0]!.why, /TrafficSplit\/canary backend labels version=v2 \(weight 10\), drawn/);
    assert.match(decision.candidates[2]!.why, /TrafficSplit\/canary backend labels version=v1 \(weight 90\), fallback/);
  });

  it('serves from the other backends when the drawn one has nothing healthy', () => {
    const world = versions();
    world.put('a', [{ n: 1, labels: { version: 'v1' } }, { n: 2, labels: { version: 'v2' }, health: 'unhealthy' }]);
    world.put('b', [{ n: 1, labels: { version: 'v1' } }, { n: 2, labels: { version: 'v2' }, health: 'unhealthy' }]);
    world.random = scripted([0.01, 0.99]);
    const decision = world.decide(canary);
    assert.equal(decision.split?.backend, 'labels version=v2', 'v2 was drawn');
    assert.deepEqual(places(decision), ['a:10.1.0.1', 'b[version=v1]']);
  });

  it('splits to another service, routed by that service\'s own failover order', () => {
    const world = versions();
    world.put('a', [{ n: 7 }], 'payments-v2.prod');
    world.put('c', [{ n: 7 }], 'payments-v2.prod');
    const set = policySet({ splits: { [SERVICE]: [split('move', [backend(100, { service: 'payments-v2.prod' })])] } });
    const decision = world.decide(set);
    assert.deepEqual(places(decision), ['payments-v2.prod/a:10.1.0.7', 'payments-v2.prod/c']);
    assert.ok(decision.candidates.every((c) => c.service === 'payments-v2.prod' && c.port === PORT));
    assert.equal(decision.split?.backend, 'service payments-v2.prod');
  });

  it('judges the local endpoints of a split\'s other service by that service\'s access verdict', () => {
    const world = versions();
    world.put('a', [{ n: 7 }], 'payments-v2.prod');
    world.put('c', [{ n: 7 }], 'payments-v2.prod');
    const set = policySet({ splits: { [SERVICE]: [split('move', [backend(100, { service: 'payments-v2.prod' })])] } });
    const allowed = { allowed: true, rule: undefined, reason: 'in the local trust domain' };
    const denied = { allowed: false, rule: undefined, reason: 'AccessPolicy/v2 rules[0] denies it' };
    const decision = world.decider.decide(set, {
      caller: anyone(), service: SERVICE, port: PORT, explain: true, localAccess: allowed,
      localAccessTo: (service) => (service === 'payments-v2.prod' ? denied : allowed),
    });
    assert.deepEqual(places(decision), ['payments-v2.prod/c'], 'the remote gateway judges for itself');
    assert.ok(decision.considered.some((c) => c.service === 'payments-v2.prod' && c.cluster === 'a' && /access denied here: AccessPolicy\/v2/.test(c.why)));
  });

  it('splits across clusters, and applies a class-bound split to that class only', () => {
    const world = versions();
    world.put('c', [{ n: 1 }]);
    const set = policySet({
      classes: [trafficClass('canary', ['spiffe://a.example/ns/canary/*'])],
      splits: { [SERVICE]: [split('to-c', [backend(100, { cluster: 'c' })], ['canary'])] },
    });
    assert.deepEqual(places(world.decide(set, { caller: anyone(['canary']) })), ['c']);
    assert.deepEqual(clusterOrder(world.decide(set)), ['a', 'b', 'c']);
  });
});

describe('RouteDecider: local access and explain', () => {
  it('a local access denial removes the local endpoints only', () => {
    const world = standard();
    const denied = { allowed: false, rule: undefined, reason: 'payments.prod is allow-listed and no allow rule matches x' };
    const decision = world.decide(policySet(), { localAccess: denied });
    assert.deepEqual(clusterOrder(decision), ['b', 'c', 'd']);
    assert.ok(decision.considered.some((c) => c.cluster === 'a' && c.verdict === 'out' && /access denied here: payments\.prod is allow-listed/.test(c.why)));
  });

  it('through the engine: the engine\'s own access verdict removes its endpoints, remote gateways judge for themselves', () => {
    const world = standard();
    const set = policySet({ accessRules: [allow('AccessPolicy/scott', 0, ['spiffe://a.example/ns/default/sa/scott'], [SERVICE])] });
    const engine = world.engine(() => set);
    try {
      const alice = engine.caller('spiffe://a.example/ns/default/sa/alice');
      const scott = engine.caller('spiffe://a.example/ns/default/sa/scott');
      assert.deepEqual(clusterOrder(engine.route(alice, SERVICE, PORT, { method: 'GET', path: '/' })), ['b', 'c', 'd']);
      assert.deepEqual(clusterOrder(engine.route(scott, SERVICE, PORT, { method: 'GET', path: '/' })), ['a', 'b', 'c', 'd']);
    } finally {
      engine.close();
    }
  });

  it('through the engine: a split to another service obeys that service\'s rules at the local endpoints', () => {
    const world = standard();
    world.put('a', [{ n: 7 }], 'payments-v2.prod');
    world.put('c', [{ n: 7 }], 'payments-v2.prod');
    const set = policySet({
      accessRules: [deny('AccessPolicy/v2', 0, ['spiffe://a.example/ns/default/sa/alice'], ['payments-v2.prod'])],
      splits: { [SERVICE]: [split('move', [backend(100, { service: 'payments-v2.prod' })])] },
    });
    const engine = world.engine(() => set);
    try {
      const alice = engine.caller('spiffe://a.example/ns/default/sa/alice');
      const bob = engine.caller('spiffe://a.example/ns/default/sa/bob');
      assert.deepEqual(places(engine.route(alice, SERVICE, PORT, { method: 'GET', path: '/' })), ['payments-v2.prod/c']);
      assert.deepEqual(places(engine.route(bob, SERVICE, PORT, { method: 'GET', path: '/' })), ['payments-v2.prod/a:10.1.0.7', 'payments-v2.prod/c']);
    } finally {
      engine.close();
    }
  });

  it('explain gives a reason for every cluster, gateway and endpoint it looked at', () => {
    const world = new RouteWorld();
    world.put('a', [{ n: 1 }, { n: 2, health: 'unhealthy' }, { n: 3, noPort: true }]);
    world.put('b', [{ n: 1 }]);
    world.gateway('b', 2);
    world.put('c', [{ n: 1, health: 'unhealthy' }]);
    world.put('d', [{ n: 1 }]);
    world.put('e', [{ n: 1 }]);
    world.states.set(gatewayId('b', 2), { condition: 'dead', reason: 'PING unanswered', changedAtMs: world.nowMs });
    world.ejected.set(gatewayId('d'), '5xx');
    const decision = world.decide(policySet(), { explain: true });
    const about = (subject: string): RouteDecision['considered'] => decision.considered.filter((c) => c.subject === subject);
    for (const c of decision.considered) assert.ok(c.why.length > 0, JSON.stringify(c));
    assert.equal(about('endpoint 10.1.0.1:8081')[0]?.verdict, 'candidate');
    assert.equal(about('endpoint 10.1.0.2:8082')[0]?.verdict, 'out', 'an unhealthy local endpoint is named');
    assert.match(about('endpoint 10.1.0.2:8082')[0]?.why ?? '', /unhealthy/);
    assert.equal(about('endpoint 10.1.0.3')[0]?.verdict, 'out', 'a local endpoint without the port is named');
    assert.equal(about(`gateway ${gatewayId('b')}`)[0]?.verdict, 'candidate');
    assert.equal(about(`gateway ${gatewayId('b', 2)}`)[0]?.verdict, 'out');
    assert.ok(decision.considered.some((c) => c.cluster === 'c' && c.subject === 'cluster' && c.verdict === 'out'));
    assert.equal(about(`gateway ${gatewayId('d')}`)[0]?.verdict, 'last resort');
    assert.equal(about(`gateway ${gatewayId('e')}`)[0]?.verdict, 'candidate');
    for (const cluster of ['a', 'b', 'c', 'd', 'e']) assert.ok(decision.considered.some((c) => c.cluster === cluster), `cluster ${cluster} is explained`);
    // Every candidate carries its why.
    for (const candidate of decision.candidates) assert.ok(candidate.why.length > 0);
  });

  it('explain names the clusters a class route does not take', () => {
    const world = new RouteWorld();
    world.put('a', [{ n: 1, labels: { env: 'dev' } }, { n: 2 }]);
    world.put('c', [{ n: 1 }]);
    const set = withFailover({ classes: { dev: { targets: [{ cluster: 'a' }] } } }, { classes: [trafficClass('dev', ['spiffe://dev.example'])] });
    const decision = world.decide(set, { caller: anyone(['dev']), explain: true });
    assert.deepEqual(clusterOrder(decision), ['a']);
    assert.ok(decision.considered.some((c) => c.cluster === 'c' && c.verdict === 'out'), JSON.stringify(decision.considered));
  });

  it('leaves considered empty and why blank when not explaining (the data plane\'s path)', () => {
    const world = standard();
    const decision = world.decide(policySet(), { explain: false });
    assert.deepEqual(decision.considered, []);
    assert.ok(decision.candidates.every((c) => c.why === ''));
  });
});
