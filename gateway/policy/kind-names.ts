export const POLICY_GROUP = 'causeway.dev';
export const POLICY_VERSION = 'v1alpha1';
export const POLICY_API_VERSION = `${POLICY_GROUP}/${POLICY_VERSION}`;

export type PolicyKind = 'AccessPolicy' | 'FailoverPolicy' | 'TrafficSplit';
export const POLICY_KINDS: readonly PolicyKind[] = ['AccessPolicy', 'FailoverPolicy', 'TrafficSplit'];

/** The names of a kind, as Kubernetes (CRD `names`) and the CLI know it. */
export interface KindNames {
  kind: PolicyKind;
  singular: string;
  plural: string;
  /** Prefixed with cw: SMI's own TrafficSplit CRD already claims `ts`. */
  shortNames: readonly string[];
}

export const KIND_NAMES: Readonly<Record<PolicyKind, KindNames>> = {
  AccessPolicy: { kind: 'AccessPolicy', singular: 'accesspolicy', plural: 'accesspolicies', shortNames: ['cwap'] },
  FailoverPolicy: { kind: 'FailoverPolicy', singular: 'failoverpolicy', plural: 'failoverpolicies', shortNames: ['cwfp'] },
  TrafficSplit: { kind: 'TrafficSplit', singular: 'trafficsplit', plural: 'trafficsplits', shortNames: ['cwts'] },
};

/**
 * A kind as an operator may type it, kubectl-style: `AccessPolicy`, `accesspolicy`,
 * `accesspolicies`, `cwap`, with or without `.causeway.dev`; undefined for anything else.
 */
export function parseKind(text: string): PolicyKind | undefined {
  const bare = text.toLowerCase().replace(/\.causeway\.dev$/, '');
  return POLICY_KINDS.find((kind) => {
    const names = KIND_NAMES[kind];
    return bare === names.singular || bare === names.plural || names.shortNames.includes(bare);
  });
}

/** The file the admin API writes a document to: `<kind-lowercase>-<name>.yaml`. */
export function apiFileName(kind: PolicyKind, name: string): string {
  return `${KIND_NAMES[kind].singular}-${name}.yaml`;
}
