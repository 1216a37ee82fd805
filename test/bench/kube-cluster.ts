// The cluster `npm run bench:kubernetes` serves from the Kubernetes API double: N Services in a
// few namespaces, each with one EndpointSlice of M endpoints, every endpoint backed by a Pod
// (targetRef; the source waits for a pod before it knows the endpoint's identity, so pods are
// part of what the gateway must list, as in a real cluster) on one of a few Nodes labelled
// with a region and a zone. Every even-numbered Service carries `causeway.dev/export: "true"`.
// The objects are shaped as the controllers write them (the endpointslice controller's labels,
// targetRef with the pod's uid, nodeName and zone on each endpoint), without managedFields or
// the rest of a pod spec that the source never reads: a real pod is several times larger on
// the wire.
import type { KubeApiDouble, KubeObject } from '../doubles/kube-api-server.js';

export interface ClusterShape {
  services: number;
  /** Endpoints (and pods) per Service, all in its one EndpointSlice. */
  endpoints: number;
  namespaces: number;
  nodes: number;
}

export const SERVICE_PORT = 80;
export const TARGET_PORT = 8080;
const REGION = 'eu-west-1';
const ZONES = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];

export const serviceName = (s: number): string => `svc-${s}`;
export const namespaceOf = (s: number, shape: ClusterShape): string => `ns-${s % shape.namespaces}`;
export const sliceName = (s: number): string => `svc-${s}-x7k2p`;
export const podName = (s: number, i: number): string => `svc-${s}-6d9f7c-${i}`;
export const isExported = (s: number): boolean => s % 2 === 0;
/** The mesh key of Service `s` (`<name>.<namespace>`). */
export const serviceKeyOf = (s: number, shape: ClusterShape): string => `${serviceName(s)}.${namespaceOf(s, shape)}`;

/** The pod IP of endpoint `i` of Service `s`: unique in 10.0.0.0/8 up to 16 million endpoints. */
export function endpointAddress(s: number, i: number, shape: ClusterShape): string {
  const n = s * shape.endpoints + i + 1;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

const nodeOf = (s: number, i: number, shape: ClusterShape): number => (s * shape.endpoints + i) % shape.nodes;
const zoneOf = (node: number): string => ZONES[node % ZONES.length] ?? 'eu-west-1a';

function node(n: number): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name: `node-${n}`,
      labels: {
        'kubernetes.io/hostname': `node-${n}`, 'kubernetes.io/os': 'linux',
        'topology.kubernetes.io/region': REGION, 'topology.kubernetes.io/zone': zoneOf(n),
      },
    },
    spec: { podCIDR: `10.244.${n}.0/24` },
    status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: `192.168.0.${n + 10}` }] },
  };
}

function pod(s: number, i: number, shape: ClusterShape): KubeObject {
  const ip = endpointAddress(s, i, shape);
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: podName(s, i), namespace: namespaceOf(s, shape), uid: `pod-${s}-${i}`,
      labels: { app: serviceName(s), 'pod-template-hash': '6d9f7c' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `svc-${s}-6d9f7c`, uid: `rs-${s}`, controller: true }],
    },
    spec: {
      serviceAccountName: serviceName(s), nodeName: `node-${nodeOf(s, i, shape)}`,
      containers: [{ name: 'app', image: 'registry.example.org/app:1.0', ports: [{ name: 'http', containerPort: TARGET_PORT, protocol: 'TCP' }] }],
    },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function service(s: number, shape: ClusterShape): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: {
      name: serviceName(s), namespace: namespaceOf(s, shape), labels: { app: serviceName(s) },
      ...(isExported(s) ? { annotations: { 'causeway.dev/export': 'true' } } : {}),
    },
    spec: { selector: { app: serviceName(s) }, ports: [{ name: 'http', port: SERVICE_PORT, targetPort: TARGET_PORT, protocol: 'TCP' }] },
  };
}

export interface EndpointState { ready: boolean; serving: boolean; terminating: boolean }
const READY: EndpointState = { ready: true, serving: true, terminating: false };

/** The EndpointSlice of Service `s`, every endpoint ready except those `states` overrides. */
export function endpointSlice(s: number, shape: ClusterShape, states: ReadonlyMap<number, EndpointState> = new Map()): KubeObject {
  const namespace = namespaceOf(s, shape);
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name: sliceName(s), namespace, generateName: `${serviceName(s)}-`,
      labels: { 'kubernetes.io/service-name': serviceName(s), 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: serviceName(s), uid: `svc-${s}`, controller: true }],
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: TARGET_PORT, protocol: 'TCP' }],
    endpoints: Array.from({ length: shape.endpoints }, (_, i) => {
      const n = nodeOf(s, i, shape);
      return {
        addresses: [endpointAddress(s, i, shape)], conditions: { ...(states.get(i) ?? READY) },
        targetRef: { kind: 'Pod', namespace, name: podName(s, i), uid: `pod-${s}-${i}` },
        nodeName: `node-${n}`, zone: zoneOf(n),
      };
    }),
  };
}

/** Writes the whole cluster into the double: nodes, then pods, Services and their slices (as a cluster that is up). */
export function fillCluster(api: KubeApiDouble, shape: ClusterShape): { objects: number } {
  let objects = 0;
  for (let n = 0; n < shape.nodes; n += 1, objects += 1) api.apply('nodes', node(n));
  for (let s = 0; s < shape.services; s += 1) {
    for (let i = 0; i < shape.endpoints; i += 1, objects += 1) api.apply('pods', pod(s, i, shape));
    api.apply('services', service(s, shape));
    api.apply('endpointslices', endpointSlice(s, shape));
    objects += 2;
  }
  return { objects };
}
