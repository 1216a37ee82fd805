import type { CaEvent } from './ca.js';

/**
 * What the CA and the SVID rotator publish on the telemetry seam (registry/telemetry.ts).
 * Expiry is a gauge read when scraped; these are the changes themselves.
 */
export type TrustEvent =
  /** `bundle`: the published roots changed (a new root ahead of rotation, a retired one gone); `activated`: another authority signs now. */
  | { type: 'ca.changed'; trustDomain: string; change: CaEvent; sequence: number }
  | { type: 'svid.rotated'; spiffeId: string; notAfter: string }
  /** A renewal the CA could not serve; the current SVID stays and it is retried. */
  | { type: 'svid.renewal-failed'; spiffeId: string; reason: string };
