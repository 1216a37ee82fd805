import { NAME_PATTERN, type Locality, type ServiceRecord } from './model.js';

/**
 * To which peers an exported record goes (`exportTo`), and what a peer is in those terms.
 *
 * A record with `exported: false` goes to no peer. An exported record without `exportTo`
 * goes to every peer (the behaviour before exportTo existed); with `exportTo` it goes only
 * to the peers one of its selectors admits, and `exportTo: []` admits none. A selector is
 *
 * - a peer name, `cluster-b`: the peer's name in `causeway peer list` or its cluster name
 *   (the same unless the peering was added with `--name`);
 * - a label selector, `key=value`: the peer carries label `key` with exactly `value`.
 *
 * The list is an OR; there is no AND within one selector (a Kubernetes annotation lists
 * selectors separated by commas, so a comma cannot mean AND there). The rule is applied by
 * the SENDER, per link (federation/peering/replication.ts): a peer that is not admitted
 * never receives the record, and exportTo itself never leaves the cluster.
 */

/** A peer as the export rule sees it. */
export interface ExportPeer {
  /** The peering's local name (`causeway peer list`). */
  name: string;
  /** The peer's cluster, bound at peering and checked on every Hello. */
  cluster: string;
  /** See peerLabels. */
  labels: Readonly<Record<string, string>>;
}

/** At most this many selectors per service: matching stays a handful of comparisons per record and link. */
export const MAX_EXPORT_SELECTORS = 64;
/** At most this many labels given to one peering. */
export const MAX_PEER_LABELS = 32;

// Kubernetes label syntax (apimachinery validation): a key is an optional DNS-subdomain
// prefix and "/", then a name of at most 63 alphanumerics, "-", "_", "." starting and ending
// alphanumeric; a value has the name's syntax. Empty values are not allowed here: a selector
// that matched an unset label would be a trap.
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Whether `key` is a label key: `[prefix/]name`. */
export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  if (slash < 0) return LABEL_NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && LABEL_PREFIX.test(prefix) && LABEL_NAME.test(key.slice(slash + 1));
}

export function isLabelValue(value: string): boolean {
  return LABEL_NAME.test(value);
}

/** The problem with one selector, or undefined when it is a peer name or a `key=value` selector. */
export function selectorProblem(selector: unknown): string | undefined {
  if (typeof selector !== 'string') return `${JSON.stringify(selector) ?? 'undefined'} must be a string`;
  const eq = selector.indexOf('=');
  if (eq < 0) {
    return NAME_PATTERN.test(selector) ? undefined
      : `"${selector}" is neither a peer name (a DNS-1123 label such as "cluster-b") nor a label selector key=value`;
  }
  const key = selector.slice(0, eq);
  const value = selector.slice(eq + 1);
  if (!isLabelKey(key)) return `"${selector}": "${key}" is not a label key ([prefix/]name: letters, digits, "-", "_", ".", at most 63)`;
  if (!isLabelValue(value)) return `"${selector}": "${value}" is not a label value (letters, digits, "-", "_", ".", 1 to 63)`;
  return undefined;
}

/**
 * An `exportTo` list, validated: every selector (path-qualified, e.g.
 * `services[0].exportTo[1]: ...`), no duplicates, at most MAX_EXPORT_SELECTORS.
 */
export function validateExportTo(value: unknown, path: string, errors: string[]): string[] | undefined {
  if (!Array.isArray(value)) {
    errors.push(`${path}: must be a list of peer names and key=value label selectors (e.g. [cluster-b, "region=eu-west-1"])`);
    return undefined;
  }
  const before = errors.length;
  if (value.length > MAX_EXPORT_SELECTORS) errors.push(`${path}: ${value.length} selectors; at most ${MAX_EXPORT_SELECTORS}`);
  const seen = new Map<string, number>();
  value.forEach((selector: unknown, i) => {
    const problem = selectorProblem(selector);
    if (problem !== undefined) errors.push(`${path}[${i}]: ${problem}`);
    else if (seen.has(selector as string)) errors.push(`${path}[${i}]: "${String(selector)}" is already ${path}[${seen.get(selector as string)}]`);
    else seen.set(selector as string, i);
  });
  return errors.length === before ? [...(value as string[])] : undefined;
}

/** Labels given to a peering (`causeway peer add --label k=v`), validated: label keys and values, at most MAX_PEER_LABELS. */
export function validatePeerLabels(value: unknown, path: string, errors: string[]): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push(`${path}: must be a map of label names to values`);
    return undefined;
  }
  const before = errors.length;
  const entries = Object.entries(value);
  if (entries.length > MAX_PEER_LABELS) errors.push(`${path}: ${entries.length} labels; at most ${MAX_PEER_LABELS}`);
  for (const [key, v] of entries) {
    if (!isLabelKey(key)) errors.push(`${path}: "${key}" is not a label key ([prefix/]name: letters, digits, "-", "_", ".", at most 63)`);
    else if (typeof v !== 'string' || !isLabelValue(v)) errors.push(`${path}.${key}: ${JSON.stringify(v)} is not a label value (letters, digits, "-", "_", ".", 1 to 63)`);
  }
  // fromEntries defines own properties: a "__proto__" key could not reach the prototype.
  return errors.length === before ? Object.fromEntries(entries as [string, string][]) : undefined;
}

/**
 * A peer's labels: `cloud` and `region` of the locality its gateway announced in Hello (its
 * own word about itself), then the labels our operator gave the peering, which win on the
 * same key. `zone` is left out on purpose: a cluster's gateway replicas may sit in different
 * zones, and what a cluster receives must not depend on which replica holds the link.
 */
export function peerLabels(locality: Pick<Locality, 'cloud' | 'region'> | undefined, given: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  if (locality !== undefined) {
    if (locality.cloud !== '') labels.cloud = locality.cloud;
    if (locality.region !== '') labels.region = locality.region;
  }
  for (const [key, value] of Object.entries(given ?? {})) labels[key] = value;
  return labels;
}

/** Whether `exportTo` admits `peer` (undefined: every peer; []: none). */
export function admitsPeer(exportTo: readonly string[] | undefined, peer: ExportPeer): boolean {
  if (exportTo === undefined) return true;
  for (const selector of exportTo) {
    const eq = selector.indexOf('=');
    if (eq < 0) {
      if (selector === peer.name || selector === peer.cluster) return true;
    } else {
      const key = selector.slice(0, eq);
      if (Object.hasOwn(peer.labels, key) && peer.labels[key] === selector.slice(eq + 1)) return true;
    }
  }
  return false;
}

/** The one export rule: a record goes to `peer` only when it is exported and its exportTo admits the peer. */
export function exportedTo(record: Pick<ServiceRecord, 'exported' | 'exportTo'>, peer: ExportPeer): boolean {
  return record.exported && admitsPeer(record.exportTo, peer);
}
