import type { PeerState } from './peer-status.js';

/**
 * What the peer links publish on the telemetry seam (registry/telemetry.ts). Gauges — link
 * state, staleness, unacked messages — are read from PeerStatus when scraped; these are the
 * facts a gauge cannot reconstruct: each state change, and each Snapshot/Delta received.
 */
export type PeerEvent =
  | {
    type: 'peer.link';
    peer: string;
    cluster: string;
    state: Exclude<PeerState, 'connecting'>;
    error?: string;
  }
  | {
    type: 'peer.records';
    peer: string;
    cluster: string;
    kind: 'snapshot' | 'delta';
    records: number;
    /** Applied (ACK) or refused whole (NACK). */
    accepted: boolean;
    /**
     * Delta only: the sender's write → applied here, in ms, from the Delta's written_at_ms and
     * our clock (so it includes the two clocks' skew; clamped at 0). Absent when the sender
     * did not say.
     */
    lagMs?: number;
  };
