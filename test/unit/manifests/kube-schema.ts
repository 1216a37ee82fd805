import * as client from '@kubernetes/client-node';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';

/**
 * Checks a Kubernetes object the way the API server would before storing it, without one:
 *
 * 1. against the Kubernetes OpenAPI schema of its apiVersion and kind — types, required
 *    fields, enums, formats — with the validators kubernetes-models generates from that
 *    schema (ajv, compiled ahead);
 * 2. for unknown fields, which the OpenAPI schema allows (no additionalProperties: false):
 *    the API server drops them, so a misspelt `readinesProbe` would leave a Deployment without
 *    a readiness probe and no error. client-node's generated models list every field of every
 *    type (attributeTypeMap, generated from the same OpenAPI document), which is what
 *    `kubectl apply --validate=strict` checks.
 *
 * Only the kinds the manifests use are known; anything else is a problem to report, not to skip.
 */

interface Validating {
  validate(): void;
}
type ModelClass = new (data: never) => Validating;

const KINDS: ReadonlyMap<string, { model: ModelClass; type: string }> = new Map([
  ['v1/Namespace', { model: Namespace, type: 'V1Namespace' }],
  ['v1/ServiceAccount', { model: ServiceAccount, type: 'V1ServiceAccount' }],
  ['v1/ConfigMap', { model: ConfigMap, type: 'V1ConfigMap' }],
  ['v1/Service', { model: Service, type: 'V1Service' }],
  ['apps/v1/Deployment', { model: Deployment, type: 'V1Deployment' }],
  ['policy/v1/PodDisruptionBudget', { model: PodDisruptionBudget, type: 'V1PodDisruptionBudget' }],
  ['rbac.authorization.k8s.io/v1/ClusterRole', { model: ClusterRole, type: 'V1ClusterRole' }],
  ['rbac.authorization.k8s.io/v1/ClusterRoleBinding', { model: ClusterRoleBinding, type: 'V1ClusterRoleBinding' }],
  ['rbac.authorization.k8s.io/v1/Role', { model: Role, type: 'V1Role' }],
  ['rbac.authorization.k8s.io/v1/RoleBinding', { model: RoleBinding, type: 'V1RoleBinding' }],
  ['apiextensions.k8s.io/v1/CustomResourceDefinition', { model: CustomResourceDefinition, type: 'V1CustomResourceDefinition' }],
] as ReadonlyArray<[string, { model: ModelClass; type: string }]>);

export const KNOWN_KINDS: readonly string[] = [...KINDS.keys()];

/** Leaf types of client-node's attribute maps: nothing below them to check. */
const LEAVES = new Set(['string', 'number', 'boolean', 'Date', 'V1MicroTime', 'IntOrString', 'any']);

/**
 * Fields client-node types as `any` that are in fact nested schemas (a CRD's
 * openAPIV3Schema): `items` and `additionalProperties` hold a JSONSchemaProps when they are
 * objects (additionalProperties may be a boolean).
 */
const NESTED_ANY: Readonly<Record<string, string>> = {
  'V1JSONSchemaProps.items': 'V1JSONSchemaProps',
  'V1JSONSchemaProps.additionalProperties': 'V1JSONSchemaProps',
};

interface Attribute {
  name: string;
  baseName: string;
  type: string;
}

const models = client as unknown as Record<string, { attributeTypeMap?: readonly Attribute[] } | undefined>;

function unknownFields(value: unknown, type: string, at: string, problems: string[]): void {
  if (value === null || value === undefined || LEAVES.has(type)) return;
  const list = /^Array<(.+)>$/.exec(type);
  if (list !== null) {
    if (Array.isArray(value)) value.forEach((item, i) => unknownFields(item, list[1] ?? '', `${at}[${i}]`, problems));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map !== null) {
    if (typeof value === 'object') for (const [key, item] of Object.entries(value)) unknownFields(item, map[1] ?? '', `${at}.${key}`, problems);
    return;
  }
  const attributes = models[type]?.attributeTypeMap;
  if (attributes === undefined) {
    problems.push(`${at}: cannot check fields of type ${type} (client-node has no model of it)`);
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) return; // a wrong type is the schema's to report
  for (const [key, child] of Object.entries(value)) {
    const attribute = attributes.find((a) => a.baseName === key);
    if (attribute === undefined) {
      problems.push(`${at}.${key}: unknown field of ${type}`);
      continue;
    }
    const nested = NESTED_ANY[`${type}.${key}`];
    if (nested !== undefined && typeof child === 'object' && !Array.isArray(child)) unknownFields(child, nested, `${at}.${key}`, problems);
    else unknownFields(child, attribute.type, `${at}.${key}`, problems);
  }
}

/** Every problem of one object, each prefixed with `where`; [] when it would be stored as written. */
export function kubernetesProblems(object: unknown, where: string): string[] {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return [`${where}: not a mapping`];
  const { apiVersion, kind } = object as { apiVersion?: unknown; kind?: unknown };
  const known = KINDS.get(`${String(apiVersion)}/${String(kind)}`);
  if (known === undefined) return [`${where}: ${String(apiVersion)} ${String(kind)} is not a known apiVersion and kind (${KNOWN_KINDS.join(', ')})`];
  const problems: string[] = [];
  try {
    new known.model(object as never).validate();
  } catch (err) {
    // ajv's ValidationError: one entry per failed keyword, each with its JSON pointer.
    const errors = (err as { errors?: Array<{ instancePath?: string; message?: string }> }).errors;
    if (Array.isArray(errors) && errors.length > 0) for (const e of errors) problems.push(`${where}: ${e.instancePath ?? ''} ${e.message ?? ''}`);
    else problems.push(`${where}: ${(err as Error).message}`);
  }
  unknownFields(object, known.type, where, problems);
  return problems;
}
