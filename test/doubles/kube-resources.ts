// The resource types the Kubernetes API server double serves, with what kube-apiserver's registry
// strategy for each does on a write (defaults, status subresource, metadata.generation) and which
// field selectors each accepts, and the request paths:
//   /api/v1[/watch][/namespaces/{ns}]/{resource}[/{name}[/status]]
//   /apis/{group}/{version}[/watch][/namespaces/{ns}]/{resource}[/{name}[/status]]
// https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-uris
import { statusErrors } from './kube-status.js';

export type KubeResource = 'services' | 'pods' | 'nodes' | 'secrets' | 'events' | 'endpointslices' | 'serviceexports' | 'serviceimports';

export interface KubeMetadata {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  [field: string]: unknown;
}

/** An object as the API serves it (`kind`/`apiVersion` may be absent: list items of built-in kinds have none). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: KubeMetadata;
  [field: string]: unknown;
}

type Obj = Record<string, unknown>;
type FieldError = { field: string; type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported'; detail: string };

export interface ResourceType {
  readonly resource: KubeResource;
  readonly group: string;
  readonly version: string;
  /** `v1`, `discovery.k8s.io/v1`. */
  readonly apiVersion: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  /** A custom resource (CRD): its list items keep kind/apiVersion (the API serves them unstructured), strategic merge is refused. */
  readonly custom: boolean;
  /** A `/status` subresource: writes to the resource keep the stored status, writes to `/status` change only the status. */
  readonly statusSubresource: boolean;
  /** The strategy keeps metadata.generation: 1 at creation, +1 on every change outside metadata and status. */
  readonly generation: boolean;
  /** Supported `fieldSelector` fields and how to read them. */
  readonly fields: ReadonlyMap<string, (o: KubeObject) => string>;
  /** The strategy's defaulting (PrepareForCreate/Update plus the type's SetDefaults_*), given the stored object on an update. */
  readonly normalize?: (obj: KubeObject, old: KubeObject | undefined, alloc: Allocator) => void;
  readonly validate?: (obj: KubeObject) => FieldError[];
}

/** Cluster-wide allocations a Service create takes from (the service CIDR, the node port range). */
export interface Allocator {
  clusterIp(): string;
  nodePort(): number;
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
const at = (o: KubeObject, path: string): unknown => path.split('.').reduce<unknown>((cur, k) => (cur as Obj | undefined)?.[k], o);

function fieldTable(extra: string[], namespaced: boolean): ReadonlyMap<string, (o: KubeObject) => string> {
  const m = new Map<string, (o: KubeObject) => string>([
    ['metadata.name', (o) => o.metadata.name ?? ''],
    ['metadata.namespace', (o) => (namespaced ? o.metadata.namespace ?? '' : '')],
  ]);
  for (const f of extra) m.set(f, (o) => str(at(o, f)));
  return m;
}

const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Obj : {});

/** Service defaults (core/v1 SetDefaults_Service and the Service REST storage's IP and node port allocation). */
function normalizeService(o: KubeObject, old: KubeObject | undefined, alloc: Allocator): void {
  const spec = obj(o.spec);
  o.spec = spec;
  const oldSpec = obj(old?.spec);
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.type !== 'ExternalName') {
    // clusterIP is immutable: an update that leaves it out keeps the allocated one.
    spec.clusterIP ??= oldSpec.clusterIP ?? alloc.clusterIp();
    spec.clusterIPs ??= [spec.clusterIP];
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.internalTrafficPolicy ??= 'Cluster';
  }
  const ports = Array.isArray(spec.ports) ? spec.ports.map(obj) : [];
  const external = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  for (const p of ports) {
    p.protocol ??= 'TCP';
    if (spec.clusterIP !== 'None') p.targetPort ??= p.port;
    if (external) p.nodePort ??= alloc.nodePort();
  }
  if (Array.isArray(spec.ports)) spec.ports = ports;
  if (external) spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  o.status ??= { loadBalancer: {} };
}

function validateService(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const headless = spec.clusterIP === 'None' || spec.type === 'ExternalName';
  const errors: FieldError[] = [];
  if (!headless && (!Array.isArray(spec.ports) || spec.ports.length === 0)) errors.push({ field: 'spec.ports', type: 'FieldValueRequired', detail: 'Required value' });
  if (!['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(str(spec.type))) {
    errors.push({ field: 'spec.type', type: 'FieldValueNotSupported', detail: `Unsupported value: "${str(spec.type)}": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"` });
  }
  return errors;
}

/**
 * EndpointSlice: `endpoints` and `ports` have no omitempty in discovery/v1 types.go, so an empty one is
 * served as `null` (never `[]`); `conditions` is a struct, served `{}` when unset; ports default to
 * name "" and protocol TCP (SetDefaults_EndpointPort).
 */
function normalizeEndpointSlice(o: KubeObject): void {
  const eps = Array.isArray(o.endpoints) ? o.endpoints.map(obj) : [];
  for (const e of eps) e.conditions = obj(e.conditions);
  const ports = Array.isArray(o.ports) ? o.ports.map(obj) : [];
  for (const p of ports) {
    p.name ??= '';
    p.protocol ??= 'TCP';
  }
  o.endpoints = eps.length === 0 ? null : eps;
  o.ports = ports.length === 0 ? null : ports;
}

function validateEndpointSlice(o: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  if (!['IPv4', 'IPv6', 'FQDN'].includes(str(o.addressType))) {
    errors.push(o.addressType === undefined
      ? { field: 'addressType', type: 'FieldValueRequired', detail: 'Required value' }
      : { field: 'addressType', type: 'FieldValueNotSupported', detail: `Unsupported value: "${str(o.addressType)}": supported values: "FQDN", "IPv4", "IPv6"` });
  }
  (Array.isArray(o.endpoints) ? o.endpoints : []).forEach((e, i) => {
    const a = obj(e).addresses;
    if (!Array.isArray(a) || a.length === 0) errors.push({ field: `endpoints[${i}].addresses`, type: 'FieldValueRequired', detail: 'Required value' });
  });
  return errors;
}

/** The ServiceAccount admission plugin names the `default` account; a new Pod is Pending. */
function normalizePod(o: KubeObject): void {
  const spec = obj(o.spec);
  o.spec = spec;
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  spec.serviceAccount = spec.serviceAccountName;
  o.status ??= { phase: 'Pending' };
}

function validateEvent(o: KubeObject): FieldError[] {
  const involved = obj(o.involvedObject);
  if (involved.namespace !== undefined && involved.namespace !== o.metadata.namespace) {
    return [{ field: 'involvedObject.namespace', type: 'FieldValueInvalid', detail: `Invalid value: "${str(involved.namespace)}": does not match event.namespace` }];
  }
  return [];
}

function validateServiceImport(o: KubeObject): FieldError[] {
  const spec = obj(o.spec);
  const errors: FieldError[] = [];
  if (spec.type === undefined) errors.push({ field: 'spec.type', type: 'FieldValueRequired', detail: 'Required value' });
  else if (!['ClusterSetIP', 'Headless'].includes(str(spec.type))) {
    errors.push({ field: 'spec.type', type: 'FieldValueNotSupported', detail: `Unsupported value: "${str(spec.type)}": supported values: "ClusterSetIP", "Headless"` });
  }
  if (!Array.isArray(spec.ports)) errors.push({ field: 'spec.ports', type: 'FieldValueRequired', detail: 'Required value' });
  return errors;
}

interface Definition {
  resource: KubeResource;
  group?: string;
  version?: string;
  kind: string;
  namespaced?: boolean;
  custom?: boolean;
  statusSubresource?: boolean;
  generation?: boolean;
  fields?: string[];
  normalize?: ResourceType['normalize'];
  validate?: ResourceType['validate'];
}

const MCS = { group: 'multicluster.x-k8s.io', version: 'v1alpha1', custom: true, statusSubresource: true, generation: true };

const DEFINITIONS: Definition[] = [
  { resource: 'services', kind: 'Service', statusSubresource: true, normalize: normalizeService, validate: validateService },
  // Pod field labels: pkg/apis/core/v1/conversion.go AddFieldLabelConversionFuncForPod.
  { resource: 'pods', kind: 'Pod', statusSubresource: true, normalize: normalizePod,
    fields: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'] },
  { resource: 'nodes', kind: 'Node', namespaced: false, statusSubresource: true, fields: ['spec.unschedulable'] },
  { resource: 'secrets', kind: 'Secret', fields: ['type'] },
  { resource: 'events', kind: 'Event', validate: validateEvent,
    fields: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion',
      'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'] },
  { resource: 'endpointslices', group: 'discovery.k8s.io', kind: 'EndpointSlice', generation: true, normalize: normalizeEndpointSlice, validate: validateEndpointSlice },
  { resource: 'serviceexports', kind: 'ServiceExport', ...MCS },
  { resource: 'serviceimports', kind: 'ServiceImport', ...MCS, validate: validateServiceImport },
];

export const RESOURCE_TYPES: ReadonlyMap<KubeResource, ResourceType> = new Map(DEFINITIONS.map((d): [KubeResource, ResourceType] => {
  const group = d.group ?? '';
  const version = d.version ?? 'v1';
  const namespaced = d.namespaced ?? true;
  return [d.resource, Object.freeze({
    resource: d.resource, group, version, apiVersion: group === '' ? version : `${group}/${version}`, kind: d.kind, listKind: `${d.kind}List`,
    namespaced, custom: d.custom ?? false, statusSubresource: d.statusSubresource ?? false, generation: d.generation ?? false,
    fields: fieldTable(d.fields ?? [], namespaced),
    ...(d.normalize === undefined ? {} : { normalize: d.normalize }), ...(d.validate === undefined ? {} : { validate: d.validate }),
  })];
}));

export function resourceType(resource: KubeResource): ResourceType {
  const rt = RESOURCE_TYPES.get(resource);
  if (rt === undefined) throw new Error(`the Kubernetes API double does not serve "${String(resource)}"`);
  return rt;
}

export interface ResourcePath {
  group: string;
  version: string;
  /** The deprecated `/watch/` path form (same as `?watch=true`). */
  watchPath: boolean;
  namespace: string | undefined;
  resource: string;
  name: string | undefined;
  subresource: string | undefined;
}

export type ParsedPath =
  | { type: 'resource'; path: ResourcePath }
  | { type: 'discovery'; group: string | undefined; version: string | undefined };

/** Splits a request path into group, version, namespace, resource, name and subresource; undefined when it is no API path. */
export function parsePath(pathname: string): ParsedPath | undefined {
  const segs = pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  let group: string;
  let version: string | undefined;
  let rest: string[];
  if (segs[0] === 'api') {
    group = '';
    version = segs[1];
    rest = segs.slice(2);
  } else if (segs[0] === 'apis') {
    group = segs[1] ?? '';
    version = segs[2];
    rest = segs.slice(3);
    if (segs.length <= 1) return { type: 'discovery', group: undefined, version: undefined };
  } else return undefined;
  if (version === undefined) return { type: 'discovery', group: group === '' ? '' : group, version: undefined };
  if (rest.length === 0) return { type: 'discovery', group, version };
  const watchPath = rest[0] === 'watch';
  if (watchPath) rest = rest.slice(1);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length === 0 || rest.length > 3) return undefined;
  return { type: 'resource', path: { group, version, watchPath, namespace, resource: rest[0] ?? '', name: rest[1], subresource: rest[2] } };
}

/** The strategy's validation: a 422 Invalid naming every bad field, as `errors.NewInvalid`. */
export function validateObject(rt: ResourceType, o: KubeObject): void {
  const name = o.metadata.name ?? '';
  const errors: FieldError[] = [];
  if (name === '') errors.push({ field: 'metadata.name', type: 'FieldValueRequired', detail: 'Required value: name or generateName is required' });
  else if (name.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) {
    errors.push({ field: 'metadata.name', type: 'FieldValueInvalid', detail: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character` });
  }
  if (rt.namespaced && (o.metadata.namespace ?? '') === '') errors.push({ field: 'metadata.namespace', type: 'FieldValueRequired', detail: 'Required value' });
  errors.push(...(rt.validate?.(o) ?? []));
  if (errors.length > 0) throw statusErrors.invalid(rt.kind, rt.group, name, errors);
}
