// A state-of-the-world response put together from resources encoded once is the message
// encoded whole, byte for byte, and a resource is encoded once however many streams send it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../registry/index.js';
import { AdsStream, builtResource, type AdsCall, type BuiltResource } from '../../../gateway/xds/ads-stream.js';
import { adsService, TYPE_URLS } from '../../../gateway/xds/xds-protos.js';

const loadAssignment = (name: string, addresses: string[]): BuiltResource => builtResource({
  '@type': TYPE_URLS.endpoints, clusterName: name,
  endpoints: [{
    locality: { region: 'eu-west-1', zone: 'eu-west-1a', subZone: 'cluster-a' }, priority: 0, loadBalancingWeight: { value: addresses.length },
    lbEndpoints: addresses.map((address) => ({ endpoint: { address: { socketAddress: { address, portValue: 9000 } } }, healthStatus: 'HEALTHY', loadBalancingWeight: { value: 1 } })),
  }],
});

describe('AdsStream: responses from resources encoded once', () => {
  it('writes the bytes of the whole message, and encodes each resource once for every stream', () => {
    const method = adsService().StreamAggregatedResources!;
    let encodings = 0;
    const encode = (response: object): Buffer => {
      encodings += 1;
      return method.responseSerialize(response);
    };
    const resources = new Map([['a.demo:9000', loadAssignment('a.demo:9000', ['10.0.0.2', '10.0.0.1'])], ['b.demo:9000', loadAssignment('b.demo:9000', ['10.0.1.1'])]]);
    const written: Buffer[] = [];
    const streams = [1, 2].map((id) => new AdsStream({
      id, identity: 'spiffe://cluster-a.example.org/ns/demo/sa/client', logger: silentLogger(), onNack: () => undefined,
      call: { write: (bytes: Buffer) => written.push(bytes) } as unknown as AdsCall,
      build: (_kind, name) => resources.get(name), all: () => [...resources.keys()], encode,
    }));
    for (const stream of streams) stream.receive({ typeUrl: TYPE_URLS.endpoints, resourceNames: ['b.demo:9000', 'a.demo:9000', 'none.demo:1'], responseNonce: '', versionInfo: '', errorDetail: null, node: null } as never);
    assert.equal(written.length, 2);
    const status = streams[0]!.status().types[0]!;
    const whole = method.responseSerialize({
      versionInfo: status.sent!.version, typeUrl: TYPE_URLS.endpoints, nonce: status.sent!.nonce,
      resources: [resources.get('a.demo:9000')!.resource, resources.get('b.demo:9000')!.resource],
    });
    assert.ok(written[0]!.equals(whole), 'the same bytes as the message encoded whole');
    assert.ok(written[1]!.equals(whole));
    // Per response a head and a tail; each resource once, for both streams.
    assert.equal(encodings, 2 * 2 + 2);
  });
});
