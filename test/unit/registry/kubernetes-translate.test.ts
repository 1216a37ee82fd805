import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { declarationOf, exportOf, protocolOf, type TranslateContext } from '../../../registry/sources/kubernetes/translate.js';

const TD = 'east.example.org';
const LOCALITY = { cloud: 'aws', region: 'us-east-1', zone: 'us-east-1a', cluster: 'east' };

function context(pods: V1Pod[] = [], nodes: V1Node[] = [], exports: string[] = []): TranslateContext {
  return {
    trustDomain: TD, locality: LOCALITY,
    pod: (namespace, name) => pods.find((p) => p.metadata?.namespace === namespace && p.metadata?.name === name),
    node: (name) => nodes.find((n) => n.metadata?.name === name),
    serviceExport: (namespace, name) => exports.includes(`${namespace}/${name}`),
  };
}

const service = (annotations: Record<string, string> = {}, extra: Partial<V1Service['spec']> = {}): V1Service => ({
  metadata: { name: 'payments', namespace: 'prod', annotations },
  spec: { ports: [{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 'http' as never }, { name: 'metrics', port: 9090, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }], ...extra },
});

const pod = (name: string, serviceAccount: string, labels: Record<string, string> = {}): V1Pod => ({
  metadata: { name, namespace: 'prod', labels }, spec: { serviceAccountName: serviceAccount, containers: [] },
});

const slice = (endpoints: V1EndpointSlice['endpoints'], name = 'payments-abc'): V1EndpointSlice => ({
  metadata: { name, namespace: 'prod', labels: { 'kubernetes.io/service-name': 'payments' } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8000, protocol: 'TCP' }, { name: 'metrics', port: 9000, protocol: 'TCP' }],
  endpoints,
});

describe('Kubernetes translation: Service + EndpointSlices → declaration', () => {
  it('maps ports, endpoints, health, identity and locality as the API states them', () => {
    const nodes: V1Node[] = [{ metadata: { name: 'node-1', labels: { 'topology.kubernetes.io/region': 'us-east-2', 'topology.kubernetes.io/zone': 'us-east-2b' } } }];
    const pods = [pod('p1', 'payments-sa', { version: 'v2' }), pod('p2', 'payments-sa'), pod('p3', 'payments-sa')];
    const declaration = declarationOf(service({ 'causeway.dev/export': 'true' }), [slice([
      { addresses: ['10.1.0.1'], conditions: { ready: true }, nodeName: 'node-1', targetRef: { kind: 'Pod', name: 'p1', namespace: 'prod' } },
      { addresses: ['10.1.0.2'], conditions: { ready: false, serving: true, terminating: true }, zone: 'us-east-1c', targetRef: { kind: 'Pod', name: 'p2', namespace: 'prod' } },
      { addresses: ['10.1.0.3'], targetRef: { kind: 'Pod', name: 'p3', namespace: 'prod' } },
    ])], context(pods, nodes));
    assert.ok(declaration !== undefined);
    assert.deepEqual(declaration.ports, [{ name: 'http', port: 8080, protocol: 'http' }, { name: 'metrics', port: 9090, protocol: 'tcp' }]);
    assert.equal(declaration.exported, true);
    assert.deepEqual(declaration.endpoints.map((e) => [e.address, e.health, e.ports, e.identity]), [
      ['10.1.0.1', 'healthy', { http: 8000, metrics: 9000 }, `spiffe://${TD}/ns/prod/sa/payments-sa`],
      ['10.1.0.2', 'unhealthy', { http: 8000, metrics: 9000 }, `spiffe://${TD}/ns/prod/sa/payments-sa`],
      // `ready` unset means ready (discovery.k8s.io/v1 EndpointConditions).
      ['10.1.0.3', 'healthy', { http: 8000, metrics: 9000 }, `spiffe://${TD}/ns/prod/sa/payments-sa`],
    ]);
    assert.deepEqual(declaration.endpoints[0]?.locality, { cloud: 'aws', region: 'us-east-2', zone: 'us-east-2b', cluster: 'east' });
    assert.deepEqual(declaration.endpoints[1]?.locality, { cloud: 'aws', region: 'us-east-1', zone: 'us-east-1c', cluster: 'east' });
    assert.deepEqual(declaration.endpoints[0]?.labels, { version: 'v2' });
    assert.equal(declaration.endpoints[0]?.kind, 'pod');
  });

  it('waits for a pod it has not seen, takes the default account for an endpoint without a pod, and counts a pod once across slices', () => {
    const declaration = declarationOf(service(), [
      slice([{ addresses: ['10.1.0.1'], targetRef: { kind: 'Pod', name: 'unseen', namespace: 'prod' } }, { addresses: ['10.9.9.9'] }]),
      slice([{ addresses: ['10.9.9.9'] }], 'payments-def'),
    ], context());
    assert.deepEqual(declaration?.endpoints.map((e) => [e.address, e.identity]), [['10.9.9.9', `spiffe://${TD}/ns/prod/sa/default`]]);
  });

  it('leaves out what cannot be carried: ExternalName, UDP-only, FQDN slices, unmatched ports', () => {
    assert.equal(declarationOf({ ...service(), spec: { type: 'ExternalName', externalName: 'db.example.com' } }, [], context()), undefined);
    assert.equal(declarationOf(service({}, { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }), [], context()), undefined);
    const fqdn: V1EndpointSlice = { ...slice([{ addresses: ['db.example.com'] }]), addressType: 'FQDN' };
    const other: V1EndpointSlice = { ...slice([{ addresses: ['10.1.0.9'] }]), ports: [{ name: 'grpc', port: 7000 }] };
    assert.deepEqual(declarationOf(service(), [fqdn, other], context())?.endpoints, []);
  });

  it('a headless Service (clusterIP None) gets one endpoint per pod, like any other', () => {
    const pods = [pod('db-0', 'db'), pod('db-1', 'db')];
    const declaration = declarationOf(service({}, { clusterIP: 'None' }), [slice([
      { addresses: ['10.1.1.1'], hostname: 'db-0', targetRef: { kind: 'Pod', name: 'db-0', namespace: 'prod' } },
      { addresses: ['10.1.1.2'], hostname: 'db-1', targetRef: { kind: 'Pod', name: 'db-1', namespace: 'prod' } },
    ])], context(pods));
    assert.deepEqual(declaration?.endpoints.map((e) => [e.address, e.identity]), [
      ['10.1.1.1', `spiffe://${TD}/ns/prod/sa/db`], ['10.1.1.2', `spiffe://${TD}/ns/prod/sa/db`],
    ]);
  });

  it('an unnamed single port is port-<n>, and its slice port (name "") joins it', () => {
    const declaration = declarationOf(service({}, { ports: [{ port: 80, protocol: 'TCP' }] }), [{
      metadata: { name: 's', namespace: 'prod', labels: { 'kubernetes.io/service-name': 'payments' } },
      addressType: 'IPv4', ports: [{ name: '', port: 8080, protocol: 'TCP' }], endpoints: [{ addresses: ['10.1.0.1'] }],
    }], context());
    assert.deepEqual(declaration?.ports, [{ name: 'port-80', port: 80, protocol: 'tcp' }]);
    assert.deepEqual(declaration?.endpoints[0]?.ports, { 'port-80': 8080 });
  });

  it('reads the protocol from appProtocol, then the port name (http-, grpc-, http2-), else TCP', () => {
    assert.equal(protocolOf({ name: 'web', appProtocol: 'http' }), 'http');
    assert.equal(protocolOf({ name: 'x', appProtocol: 'kubernetes.io/h2c' }), 'http2');
    assert.equal(protocolOf({ name: 'x', appProtocol: 'grpc' }), 'grpc');
    assert.equal(protocolOf({ name: 'http', appProtocol: 'mysql' }), 'tcp');
    assert.equal(protocolOf({ name: 'grpc-api' }), 'grpc');
    assert.equal(protocolOf({ name: 'http2-web' }), 'http2');
    assert.equal(protocolOf({ name: 'https' }), 'tcp');
    assert.equal(protocolOf({ name: 'postgres' }), 'tcp');
  });

  it('exports by annotation or ServiceExport, to everyone or to the peers named', () => {
    const ctx = context([], [], ['prod/payments']);
    assert.deepEqual(exportOf(service(), context()), { exported: false });
    assert.deepEqual(exportOf(service(), ctx), { exported: true, to: undefined });
    assert.deepEqual(exportOf(service({ 'causeway.dev/export': 'true' }), context()), { exported: true, to: undefined });
    assert.deepEqual(exportOf(service({ 'causeway.dev/export': '' }), context()), { exported: true, to: undefined });
    assert.deepEqual(exportOf(service({ 'causeway.dev/export': 'false' }), ctx), { exported: false });
    assert.deepEqual(exportOf(service({ 'causeway.dev/export': 'west, region=eu-west-1,' }), context()), { exported: true, to: ['west', 'region=eu-west-1'] });
    const refused = exportOf(service({ 'causeway.dev/export': 'west, Bad_Peer' }), context());
    assert.equal(refused.exported, false, 'a bad selector exports nothing rather than refusing the whole source');
    assert.match((refused as { problem?: string }).problem ?? '', /Bad_Peer/);
  });
});
