import type { CatalogChange, CatalogReader, ServiceRecord } from '../../registry/index.js';

/**
 * What of the local catalog crosses a peer link (design brief: "Only exported services
 * cross a link"; "each cluster is the single writer of its own services").
 *
 * - Only records whose origin is the local cluster are sent: no transit of records learned
 *   from other peers.
 * - A Snapshot carries the exported local records (tombstones included). A record that is
 *   not exported is simply absent — the receiver's applySnapshot tombstones whatever it
 *   still holds for a key the snapshot does not mention, so a peer stops using a service
 *   that stopped being exported without ever learning about services that never were.
 * - A Delta carries the changed records that are exported, and a tombstone for each record
 *   that WAS exported and no longer is.
 */
export function snapshotRecords(catalog: CatalogReader): ServiceRecord[] {
  return catalog.recordsOf(catalog.localCluster).filter((r) => r.exported);
}

export function deltaRecords(changes: readonly CatalogChange[], localCluster: string): ServiceRecord[] {
  const out = new Map<string, ServiceRecord>();
  for (const { record, previous } of changes) {
    if (record.origin !== localCluster) continue;
    const key = `${record.name}.${record.namespace}`;
    // Within one batch the last change of a key wins (the feed is in apply order).
    if (record.exported) out.set(key, record);
    else if (previous?.exported === true || out.has(key)) out.set(key, tombstoneOf(record));
  }
  return [...out.values()];
}

/** The record as a tombstone at its own (newer) version: peers drop the service. */
export function tombstoneOf(record: ServiceRecord): ServiceRecord {
  return { ...record, deleted: true, exported: false, endpoints: [] };
}
