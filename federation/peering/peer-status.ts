import { exportedTo, type CatalogReader, type ExportPeer } from '../../registry/index.js';
import type { TrustReader } from '../trust/index.js';
import type { LinkDialer } from './link-dialer.js';
import type { LinkSession, LinkStats } from './link-session.js';
import type { PeerRecord, PeerRole } from './peer-store.js';

/**
 * `removed`: the peer told us over the link that its operator removed the peering; we no
 * longer trust its domain nor dial it (`peer remove` here deletes the record).
 */
export type PeerState = 'connecting' | 'connected' | 'disconnected' | 'removed';

/** One peer as `causeway peer list` and GET /v1/peers show it. */
export interface PeerStatus {
  name: string;
  cluster: string;
  trustDomain: string;
  role: PeerRole;
  /** Where we dial it (dialer role only). */
  federationAddress?: string;
  gatewayId?: string;
  /** What exportTo label selectors match for this peer: its announced cloud and region, and the labels given at peering. */
  labels: Record<string, string>;
  addedAt: number;
  state: PeerState;
  /** ms since the epoch when it entered `state`. */
  stateSinceMs: number;
  /** ms since the epoch of the last message received on its link. */
  lastContactMs?: number;
  /** ms since then (staleness), while connected. */
  silentMs?: number;
  /** Connected, but nothing (not even a heartbeat) received for two heartbeat intervals. */
  stale: boolean;
  lastError?: string;
  /** Links established with it since this gateway started (1 + reconnects). */
  connects: number;
  /** spiffe_sequence of the peer's bundle we hold. */
  bundleSequence: number;
  sentDeltas: number;
  ackedDeltas: number;
  /** Our messages on the current link not yet acknowledged. */
  unacked: number;
  /** send → ack time of the latest acknowledgement (one clock: ours). */
  lastAckLagMs?: number;
  /** The peer's catalog write → applied here, of its latest Delta (two clocks: includes their skew). */
  lastReplicationLagMs?: number;
  /** Live services of the peer's cluster in our catalog. */
  importedServices: number;
  /** Live services of our cluster exported to this peer (what the peer gets). */
  exportedServices: number;
  /** Our messages the peer rejected (NACK). */
  nacks: number;
  /** The peer's messages we rejected (NACK). */
  rejected: number;
}

/** What the peer manager holds per peer. */
export interface PeerEntry {
  record: PeerRecord;
  state: PeerState;
  stateSinceMs: number;
  lastError?: string;
  stats: LinkStats;
  dialer?: LinkDialer;
  session?: LinkSession;
}

/** The status of one peer, from its entry, the catalog (imported/exported counts), the trust store and what it is to the export rule. */
export function peerStatus(
  entry: PeerEntry, catalog: CatalogReader, trust: TrustReader, exportPeer: ExportPeer, freshness: { now: number; staleAfterMs: number },
): PeerStatus {
  const { record, stats } = entry;
  const silentMs = entry.state === 'connected' && stats.lastContactMs !== undefined ? Math.max(0, freshness.now - stats.lastContactMs) : undefined;
  const status: PeerStatus = {
    name: record.name,
    cluster: record.cluster,
    trustDomain: record.trustDomain,
    role: record.role,
    labels: { ...exportPeer.labels },
    addedAt: record.addedAt,
    state: entry.state,
    stateSinceMs: entry.stateSinceMs,
    stale: silentMs !== undefined && silentMs > freshness.staleAfterMs,
    bundleSequence: trust.get(record.trustDomain)?.sequence ?? 0,
    connects: stats.connects,
    sentDeltas: stats.sentDeltas,
    ackedDeltas: stats.ackedDeltas,
    unacked: entry.session?.unacked ?? 0,
    importedServices: catalog.recordsOf(record.cluster).filter((r) => !r.deleted).length,
    exportedServices: catalog.recordsOf(catalog.localCluster).filter((r) => !r.deleted && exportedTo(r, exportPeer)).length,
    nacks: stats.nacks,
    rejected: stats.rejected,
  };
  if (record.federationAddress !== undefined) status.federationAddress = record.federationAddress;
  if (record.gatewayId !== undefined) status.gatewayId = record.gatewayId;
  if (stats.lastContactMs !== undefined) status.lastContactMs = stats.lastContactMs;
  if (silentMs !== undefined) status.silentMs = silentMs;
  if (entry.lastError !== undefined) status.lastError = entry.lastError;
  if (stats.lastAckLagMs !== undefined) status.lastAckLagMs = stats.lastAckLagMs;
  if (stats.lastReplicationLagMs !== undefined) status.lastReplicationLagMs = stats.lastReplicationLagMs;
  return status;
}
