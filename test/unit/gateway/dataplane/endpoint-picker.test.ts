import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoint, GatewayRecord, Locality, ResolvedService, ServicePort } from '../../../../registry/index.js';
import { PriorityPicker, localCandidates, localityRank, weightedShuffle, type PickContext, type RouteTarget } from '../../../../gateway/dataplane/endpoint-picker.js';

const HTTP: ServicePort = { name: 'http', port: 8080, protocol: 'http' };
const HOME: Locality = { cloud: 'aws', region: 'us-east-1', zone: 'a', cluster: 'home' };

function endpoint(address: string, overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    address, ports: { http: 9000 }, locality: HOME, kind: 'pod', identity: 'spiffe://td/ns/demo/sa/echo',
    health: 'healthy', weight: 1, labels: {}, ...overrides,
  };
}

function gateway(cluster: string, cloud: string, region: string): GatewayRecord {
  return {
    cluster, trustDomain: `${cluster}.test`, identity: `spiffe://${cluster}.test/gateway/gw`,
    eastWestAddress: '10.0.0.1:15443', locality: { cloud, region, zone: 'z', cluster },
  };
}

function service(clusters: Array<[string, Endpoint[]]>): ResolvedService {
  return { key: 'echo.demo', name: 'echo', namespace: 'demo', ports: [HTTP], clusters: new Map(clusters) };
}

function context(gateways: GatewayRecord[], ejected: string[] = []): PickContext {
  return {
    localCluster: 'home', locality: HOME,
    gatewaysOf: (cluster) => gateways.filter((g) => g.cluster === cluster),
    isEjected: (g) => ejected.includes(g.cluster),
  };
}

const describeTarget = (t: RouteTarget): string => (t.kind === 'local' ? `local ${t.endpoint.address}:${t.port}` : `remote ${t.cluster}`);

describe('PriorityPicker', () => {
  it('puts healthy local endpoints first, then remote clusters ranked same region, same cloud, anywhere', () => {
    const picked = new PriorityPicker().pick(service([
      ['home', [endpoint('10.1.0.1')]],
      ['far', [endpoint('10.9.0.1')]],
      ['same-cloud', [endpoint('10.8.0.1')]],
      ['same-region', [endpoint('10.7.0.1')]],
    ]), HTTP, context([gateway('far', 'gcp', 'europe-west1'), gateway('same-cloud', 'aws', 'eu-west-1'), gateway('same-region', 'aws', 'us-east-1')]));
    assert.deepEqual(picked.map(describeTarget), ['local 10.1.0.1:9000', 'remote same-region', 'remote same-cloud', 'remote far']);
  });

  it('keeps the locality order whatever the random source says', () => {
    for (const value of [0, 0.3, 0.999]) {
      const picked = new PriorityPicker({ random: () => value }).pick(service([
        ['far', [endpoint('10.9.0.1')]], ['near', [endpoint('10.7.0.1')]],
      ]), HTTP, context([gateway('far', 'gcp', 'x'), gateway('near', 'aws', 'us-east-1')]));
      assert.deepEqual(picked.map(describeTarget), ['remote near', 'remote far']);
    }
  });

  it('leaves out unhealthy local endpoints and endpoints without the service port', () => {
    const picked = new PriorityPicker().pick(service([
      ['home', [
        endpoint('10.1.0.1', { health: 'unhealthy' }), endpoint('10.1.0.2', { health: 'unknown' }),
        endpoint('10.1.0.3', { ports: { grpc: 9001 } }), endpoint('10.1.0.4', { ports: { http: 9444 } }),
      ]],
    ]), HTTP, context([]));
    assert.deepEqual(picked.map(describeTarget), ['local 10.1.0.4:9444']);
  });

  it('skips remote clusters with no healthy endpoint, no known gateway, or an ejected gateway', () => {
    const picked = new PriorityPicker().pick(service([
      ['sick', [endpoint('10.2.0.1', { health: 'unhealthy' })]],
      ['unreachable', [endpoint('10.3.0.1')]],
      ['ejected', [endpoint('10.4.0.1')]],
      ['fine', [endpoint('10.5.0.1', { health: 'unhealthy' }), endpoint('10.5.0.2')]],
    ]), HTTP, context([gateway('sick', 'aws', 'us-east-1'), gateway('ejected', 'aws', 'us-east-1'), gateway('fine', 'gcp', 'x')], ['ejected']));
    assert.deepEqual(picked.map(describeTarget), ['remote fine']);
  });

  it('falls back to ejected gateways only when nothing else is left (panic mode)', () => {
    const onlyRemote = new PriorityPicker().pick(service([['b', [endpoint('10.5.0.1')]], ['c', [endpoint('10.6.0.1')]]]), HTTP,
      context([gateway('b', 'aws', 'us-east-1'), gateway('c', 'gcp', 'x')], ['b', 'c']));
    assert.deepEqual(onlyRemote.map((t) => (t.kind === 'remote' ? t.cluster : 'local')), ['b', 'c']);
    const oneLeft = new PriorityPicker().pick(service([['b', [endpoint('10.5.0.1')]], ['c', [endpoint('10.6.0.1')]]]), HTTP,
      context([gateway('b', 'aws', 'us-east-1'), gateway('c', 'gcp', 'x')], ['b']));
    assert.deepEqual(oneLeft.map((t) => (t.kind === 'remote' ? t.cluster : 'local')), ['c']);
  });

  it('offers every non-ejected gateway of a cluster, next to each other', () => {
    const gwA = gateway('multi', 'aws', 'us-east-1');
    const gwB = { ...gateway('multi', 'aws', 'us-east-1'), identity: 'spiffe://multi.test/gateway/gw-2', eastWestAddress: '10.0.0.2:15443' };
    const picked = new PriorityPicker().pick(service([['multi', [endpoint('10.6.0.1')]]]), HTTP, context([gwA, gwB]));
    assert.equal(picked.length, 2);
    assert.deepEqual(new Set(picked.map((t) => (t.kind === 'remote' ? t.gateway.identity : ''))), new Set([gwA.identity, gwB.identity]));
  });

  it('returns nothing when no cluster can serve the port', () => {
    assert.deepEqual(new PriorityPicker().pick(service([['home', [endpoint('10.1.0.1', { health: 'unhealthy' })]]]), HTTP, context([])), []);
  });
});

describe('weighted random order', () => {
  it('puts the heavier endpoint first for the same random draw (key u^(1/w))', () => {
    const order = weightedShuffle([{ id: 'light', w: 1 }, { id: 'heavy', w: 1000 }], (x) => x.w, () => 0.5);
    assert.deepEqual(order.map((x) => x.id), ['heavy', 'light']);
  });

  it('follows the random draws among equal weights', () => {
    const draws = [0.1, 0.9, 0.5];
    const order = localCandidates([endpoint('10.0.0.1'), endpoint('10.0.0.2'), endpoint('10.0.0.3')], HTTP, () => draws.shift() ?? 0);
    assert.deepEqual(order.map((t) => t.endpoint.address), ['10.0.0.2', '10.0.0.3', '10.0.0.1']);
  });
});

describe('localityRank', () => {
  it('ranks same region 0, same cloud 1, anything else 2', () => {
    assert.equal(localityRank(HOME, { ...HOME, zone: 'b', cluster: 'x' }), 0);
    assert.equal(localityRank(HOME, { ...HOME, region: 'eu-west-1' }), 1);
    assert.equal(localityRank(HOME, { ...HOME, cloud: 'gcp' }), 2);
    // The same region name in another cloud is not "the same region".
    assert.equal(localityRank(HOME, { ...HOME, cloud: 'gcp', region: 'us-east-1' }), 2);
  });
});
