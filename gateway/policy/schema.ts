import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * The policy resources, defined once as JSON Schema (TypeBox). The validator (ajv), the
 * TypeScript types (Static<>) and the Kubernetes CRDs (openAPIV3Schema) are all derived from
 * these definitions; nothing restates them. Only constructs that map onto a Kubernetes
 * structural schema are used (no $ref, no oneOf); crd.ts rewrites the few that need it (a
 * Record's patternProperties become additionalProperties, a union of literals an enum, an
 * integer-or-string union x-kubernetes-int-or-string). A `description` on a string with a
 * pattern is also the validator's message when the pattern fails ("expected <description>").
 */

// The names live in kind-names.ts, which the CLI loads without TypeBox; re-exported here.
import { POLICY_API_VERSION, POLICY_KINDS, type PolicyKind } from './kind-names.js';

export { POLICY_API_VERSION, POLICY_GROUP, POLICY_KINDS, POLICY_VERSION, type PolicyKind } from './kind-names.js';
/** SMI TrafficSplit versions accepted as they are (split.smi-spec.io). */
export const SMI_SPLIT_API_VERSIONS = ['split.smi-spec.io/v1alpha2', 'split.smi-spec.io/v1alpha3', 'split.smi-spec.io/v1alpha4'] as const;

const strict = { additionalProperties: false } as const;

/** `250ms`, `2s`, `5m`, `1h`. */
export const DurationText = Type.String({ pattern: '^[0-9]+(ms|s|m|h)$', description: 'A duration: a whole number followed by ms, s, m or h (e.g. 500ms, 10s).' });

/** `<name>.<namespace>` (DNS-1123 labels), as callers address a service. */
export const ServiceName = Type.String({
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 127,
  description: 'A service as <name>.<namespace>.',
});

/**
 * A caller: `anonymous`; `class:<name>` (a traffic class); `spiffe://<td>` (every identity of a
 * trust domain); an exact SPIFFE ID; or a SPIFFE ID pattern whose `*` path segments match one
 * segment each (a `*` as the last segment matches one or more). Checked further by the set
 * compiler (source-pattern.ts), which names what is wrong.
 */
export const SourceText = Type.String({
  minLength: 1, maxLength: 2048, format: 'policy-source',
  description: 'anonymous, class:<name>, spiffe://<trust-domain>, a SPIFFE ID, or a SPIFFE ID pattern with * segments.',
});

/** A member of a traffic class: a source, but never `class:` (a class is made of callers). */
export const ClassMemberText = Type.String({
  minLength: 1, maxLength: 2048, format: 'policy-class-member',
  description: 'anonymous, spiffe://<trust-domain>, a SPIFFE ID, or a SPIFFE ID pattern with * segments.',
});

/** Custom formats above, checked by the validator (schema-errors.ts), dropped from CRDs. */
export const POLICY_FORMATS = ['policy-source', 'policy-class-member', 'policy-destination'] as const;

export const Labels = Type.Record(Type.String({ minLength: 1, maxLength: 63 }), Type.String({ maxLength: 63 }), {
  description: 'Endpoint labels; every one must match.',
});

/** A policy's metadata.name; also part of the file name the admin API writes, so never a "/". */
export const METADATA_NAME_PATTERN = '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$';

const Metadata = Type.Object({
  name: Type.String({
    pattern: METADATA_NAME_PATTERN, maxLength: 253,
    description: 'A name of lower-case letters, digits, "-" and "." (unique per kind within the policy set).',
  }),
  namespace: Type.Optional(Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63, description: 'A DNS-1123 label (lower-case letters, digits and "-").' })),
  labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
}, {
  // Kubernetes adds uid, resourceVersion, managedFields, ...: a document read back from a
  // cluster must still apply, so metadata alone is open.
  additionalProperties: true,
});

// --- AccessPolicy -----------------------------------------------------------------------------

export const AccessRuleSchema = Type.Object({
  action: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('deny')], { description: 'Default allow. A matching deny wins over every allow.' })),
  from: Type.Array(SourceText, { minItems: 1, maxItems: 256, description: 'Callers this rule matches.' }),
  to: Type.Array(Type.String({ minLength: 1, maxLength: 127, format: 'policy-destination', description: '*, *.<namespace> or <name>.<namespace>.' }), {
    minItems: 1, maxItems: 256, description: 'Services (<name>.<namespace>), every service of a namespace (*.<namespace>), or * for all.',
  }),
  methods: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Z]{1,20}$', description: 'An HTTP method in capitals, such as GET.' }), { minItems: 1, maxItems: 16, description: 'HTTP methods; absent: any. A rule with methods or paths never allows a TCP connection, and always denies one.' })),
  paths: Type.Optional(Type.Array(Type.String({ pattern: '^/', maxLength: 1024, description: 'A path prefix beginning with /.' }), { minItems: 1, maxItems: 64, description: 'HTTP path prefixes; absent: any.' })),
}, strict);

export const TrafficClassSchema = Type.Object({
  name: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63, description: 'A class name of lower-case letters, digits and "-".' }),
  from: Type.Array(ClassMemberText, { minItems: 1, maxItems: 256, description: 'Callers in the class (no class: references).' }),
}, strict);

export const AccessPolicySpec = Type.Object({
  rules: Type.Optional(Type.Array(AccessRuleSchema, { maxItems: 1024 })),
  trafficClasses: Type.Optional(Type.Array(TrafficClassSchema, { maxItems: 256, description: 'Named sets of callers, usable anywhere a caller is named, as class:<name>.' })),
}, strict);

export const AccessPolicySchema = Type.Object({
  apiVersion: Type.Literal(POLICY_API_VERSION),
  kind: Type.Literal('AccessPolicy'),
  metadata: Metadata,
  spec: AccessPolicySpec,
}, strict);

// --- FailoverPolicy ---------------------------------------------------------------------------

export const FailoverTargetSchema = Type.Object({
  cluster: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
  region: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
  cloud: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
  labels: Type.Optional(Labels),
}, { ...strict, minProperties: 1, description: 'Endpoints in this cluster, region or cloud, with these labels; the fields combine.' });

export const HealthCheckSchema = Type.Object({
  http: Type.Optional(Type.Object({
    path: Type.String({ pattern: '^/', maxLength: 1024, description: 'A path beginning with /, requested with GET.' }),
    port: Type.Optional(Type.String({ minLength: 1, maxLength: 63, description: 'Service port name; default the first http port.' })),
    expectStatus: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1, description: 'Default 200-399.' })),
  }, strict)),
  tcp: Type.Optional(Type.Object({
    port: Type.Optional(Type.String({ minLength: 1, maxLength: 63, description: 'Service port name; default the first port.' })),
  }, strict)),
  interval: Type.Optional(DurationText),
  timeout: Type.Optional(DurationText),
  healthyThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  unhealthyThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
}, { ...strict, description: 'Active checks of this cluster\'s endpoints of the service (exactly one of http, tcp).' });

export const OutlierDetectionSchema = Type.Object({
  consecutiveFailures: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Connect failures, resets and 5xx in a row that eject. Default 3.' })),
  ejectionTime: Type.Optional(DurationText),
  maxEjectionTime: Type.Optional(DurationText),
  maxEjectedPercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'Never skip more than this share of the candidates. Default 100.' })),
}, strict);

export const RetryPolicySchema = Type.Object({
  attempts: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, description: 'Further tries after the first. Default 2.' })),
  on: Type.Optional(Type.Array(Type.Union([Type.Literal('connect-failure'), Type.Literal('reset'), Type.Literal('5xx')]), { uniqueItems: true })),
  perTryTimeout: Type.Optional(DurationText),
  budgetPercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'Retries at most this share of the requests of the last second. Default 20.' })),
  minRetriesPerSecond: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, description: 'Retries always allowed per second, whatever the budget. Default 10.' })),
}, strict);

export const ClassRouteSchema = Type.Object({
  class: Type.String({ minLength: 1, maxLength: 63 }),
  targets: Type.Optional(Type.Array(FailoverTargetSchema, { minItems: 1, maxItems: 64, description: 'Only these endpoints serve the class.' })),
  refuse: Type.Optional(Type.Boolean({ description: 'The class is refused this service.' })),
}, strict);

export const FailoverPolicySpec = Type.Object({
  service: ServiceName,
  targets: Type.Optional(Type.Array(FailoverTargetSchema, { maxItems: 64, description: 'After the local cluster, in this order; clusters named by no target follow, nearest first.' })),
  minHealthy: Type.Optional(Type.Union([
    Type.Integer({ minimum: 0, maximum: 100_000, description: 'A number of endpoints from 0 to 100000.' }),
    Type.String({ pattern: '^([0-9]|[1-9][0-9]|100)%$', description: 'A share of the endpoints from 0% to 100%.' }),
  ], {
    description: 'Fail over from a cluster when fewer than this many (or this share) of its endpoints are healthy. Default 1.',
  })),
  failback: Type.Optional(Type.Object({ delay: Type.Optional(DurationText) }, strict)),
  healthCheck: Type.Optional(HealthCheckSchema),
  outlierDetection: Type.Optional(OutlierDetectionSchema),
  timeout: Type.Optional(DurationText),
  retries: Type.Optional(RetryPolicySchema),
  classes: Type.Optional(Type.Array(ClassRouteSchema, { maxItems: 64 })),
}, strict);

export const FailoverPolicySchema = Type.Object({
  apiVersion: Type.Literal(POLICY_API_VERSION),
  kind: Type.Literal('FailoverPolicy'),
  metadata: Metadata,
  spec: FailoverPolicySpec,
}, strict);

// --- TrafficSplit -----------------------------------------------------------------------------

export const SplitBackendSchema = Type.Object({
  cluster: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
  labels: Type.Optional(Labels),
  service: Type.Optional(ServiceName),
  weight: Type.Integer({ minimum: 0, maximum: 100 }),
}, { ...strict, description: 'A share of the requests: to a cluster, an endpoint subset (labels), or another service.' });

export const TrafficSplitSpec = Type.Object({
  service: ServiceName,
  classes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 63 }), { minItems: 1, description: 'Only callers of these classes are split; absent: every caller.' })),
  backends: Type.Array(SplitBackendSchema, { minItems: 1, maxItems: 64, description: 'Weights sum to 100.' }),
}, strict);

export const TrafficSplitSchema = Type.Object({
  apiVersion: Type.Literal(POLICY_API_VERSION),
  kind: Type.Literal('TrafficSplit'),
  metadata: Metadata,
  spec: TrafficSplitSpec,
}, strict);

/** SMI TrafficSplit (split.smi-spec.io v1alpha2 to v1alpha4): services in metadata.namespace. */
export const SmiTrafficSplitSchema = Type.Object({
  apiVersion: Type.Union(SMI_SPLIT_API_VERSIONS.map((v) => Type.Literal(v))),
  kind: Type.Literal('TrafficSplit'),
  metadata: Metadata,
  spec: Type.Object({
    service: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63, description: 'A service name (a DNS-1123 label) in metadata.namespace: the root service.' }),
    backends: Type.Array(Type.Object({
      service: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63, description: 'A service name (a DNS-1123 label) in metadata.namespace.' }),
      weight: Type.Integer({ minimum: 0 }),
    }, { additionalProperties: true }), { minItems: 1 }),
    matches: Type.Optional(Type.Array(Type.Unknown())),
  }, { additionalProperties: true }),
}, { additionalProperties: true });

export type AccessPolicy = Static<typeof AccessPolicySchema>;
export type AccessRuleDocument = Static<typeof AccessRuleSchema>;
export type TrafficClassDocument = Static<typeof TrafficClassSchema>;
export type FailoverPolicy = Static<typeof FailoverPolicySchema>;
export type FailoverTarget = Static<typeof FailoverTargetSchema>;
export type HealthCheckDocument = Static<typeof HealthCheckSchema>;
export type OutlierDetectionDocument = Static<typeof OutlierDetectionSchema>;
export type RetryPolicyDocument = Static<typeof RetryPolicySchema>;
export type ClassRouteDocument = Static<typeof ClassRouteSchema>;
export type TrafficSplit = Static<typeof TrafficSplitSchema>;
export type SplitBackendDocument = Static<typeof SplitBackendSchema>;
export type SmiTrafficSplit = Static<typeof SmiTrafficSplitSchema>;
export type PolicyDocument = AccessPolicy | FailoverPolicy | TrafficSplit | SmiTrafficSplit;


/** The schema of each kind, for the validator and the CRD generator. */
export const KIND_SCHEMAS: Readonly<Record<PolicyKind, TSchema>> = {
  AccessPolicy: AccessPolicySchema,
  FailoverPolicy: FailoverPolicySchema,
  TrafficSplit: TrafficSplitSchema,
};
