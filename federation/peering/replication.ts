import { exportedTo, type CatalogChange, type CatalogReader, type ExportPeer, type ServiceRecord } from '../../registry/index.js';

/**
 * What of the local catalog crosses the link to one peer (design brief: "Only exported
 * services cross a link"; "each cluster is the single writer of its own services"). The
 * filter runs at the sender, per link: a peer is sent only what `exportedTo(record, peer)`
 * admits (registry/export-scope.ts: exported, and its exportTo — if any — names the peer or
 * one of its labels), so a record exported to other peers never reaches it at all.
 *
 * - Only records whose origin is the local cluster are sent: no transit of records learned
 *   from other peers.
 * - A Snapshot carries the local records exported to the peer (tombstones included). A
 *   record that is not is simply absent — the receiver's applySnapshot tombstones whatever it
 *   still holds for a key the snapshot does not mention, so a peer stops using a service
 *   that is no longer exported to it without ever learning about services that never were.
 * - A Delta carries the changed records exported to the peer, and a tombstone for each record
 *   that WAS exported to it and no longer is (export withdrawn, or its exportTo narrowed).
 *
 * exportTo itself never crosses: toWireRecord (frames.ts) writes the proto's fields, and the
 * proto has none for it. Each call is one pass over its input with a few string comparisons
 * per record that has an exportTo, and none for one that has not.
 */
export function snapshotRecords(catalog: CatalogReader, peer: ExportPeer): ServiceRecord[] {
  return catalog.recordsOf(catalog.localCluster).filter((r) => exportedTo(r, peer));
}

export function deltaRecords(changes: readonly CatalogChange[], localCluster: string, peer: ExportPeer): ServiceRecord[] {
  const out = new Map<string, ServiceRecord>();
  for (const { record, previous } of changes) {
    if (record.origin !== localCluster) continue;
    const key = `${record.name}.${record.namespace}`;
    // Within one batch the last change of a key wins (the feed is in apply order).
    if (exportedTo(record, peer)) out.set(key, record);
    else if ((previous !== undefined && exportedTo(previous, peer)) || out.has(key)) out.set(key, tombstoneOf(record));
  }
  return [...out.values()];
}

/** The record as a tombstone at its own (newer) version: peers drop the service. */
export function tombstoneOf(record: ServiceRecord): ServiceRecord {
  return { ...record, deleted: true, exported: false, endpoints: [] };
}
