// What the xDS benchmark's main thread (xds.ts) and its clients' worker (xds-clients.ts) say to
// each other.

export type Protocol = 'sotw' | 'delta';

export interface ClientsSetup {
  target: string;
  rootsPem: string;
  svid: { keyPem: string; certChainPem: string };
  protocol: Protocol;
  channels: number;
  /** The names each stream subscribes to (LDS, RDS, CDS and EDS alike); streams go round-robin over the channels. */
  subscriptions: string[][];
}

/** Main thread → worker. */
export type ToClients =
  | { type: 'connect' }
  | { type: 'watch'; change: number; name: string; address: string }
  | { type: 'close' };

/** Worker → main thread. */
export type FromClients =
  | { type: 'loaded'; heapUsed: number }
  | { type: 'ready'; heapUsed: number; initialBytes: number[]; connectMs: number }
  | { type: 'watching'; change: number }
  | { type: 'seen'; change: number; ackedAtMs: number[]; updateBytes: number[]; otherResponses: number; otherBytes: number }
  | { type: 'closed' };

/** process.hrtime in ms: one monotonic clock for every thread of the process. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

