import type { GatewayRecord } from '../../registry/index.js';

/**
 * What is known about reaching a remote gateway's east-west listener, apart from the answers
 * of single requests (outlier detection keeps those):
 * - `up`: nothing says otherwise;
 * - `dead`: its session failed a keep-alive PING, or it could not be dialed — skipped by every
 *   decision, panic mode included, until an active probe reaches it again;
 * - `link-down`: the federation link to its cluster lost its heartbeats — tried only when
 *   nothing else is left.
 */
export type GatewayCondition = 'up' | 'dead' | 'link-down';

export interface GatewayState {
  condition: GatewayCondition;
  /** One line for explain and status: why it is in this condition. */
  reason: string;
  /**
   * Epoch ms of the last change of condition; 0 if it never left `up`. An `up` gateway whose
   * change is recent is still within its failback delay.
   */
  changedAtMs: number;
}

export interface GatewayStateReader {
  stateOf(gateway: GatewayRecord): GatewayState;
}

/** A reader for tests and for a gateway without liveness tracking: every gateway is up. */
export const ALWAYS_UP: GatewayStateReader = {
  stateOf: () => ({ condition: 'up', reason: 'no liveness signal', changedAtMs: 0 }),
};
