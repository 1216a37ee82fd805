/**
 * What the set of registry sources publishes on the telemetry seam (registry/telemetry.ts).
 * Whether a source is synced or failing now is read from its status when scraped.
 */
export type SourceEvent =
  /** Its first full sync: what it declares is complete. */
  | { type: 'source.synced'; source: string; kind: string; services: number }
  /** A push to the registry: a sync, or one service declared, changed or removed. */
  | { type: 'source.update'; source: string; kind: string }
  /** Its start failed (it gave up and stays unsynced), or it reported a failed attempt (it keeps trying). */
  | { type: 'source.error'; source: string; kind: string; reason: string };
