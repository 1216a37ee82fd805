import type { IncomingHttpHeaders } from 'node:http2';
import type { EventSink } from '../../registry/index.js';
import type { PeerIdentity } from '../../federation/index.js';
import { describeRule, type AccessVerdict } from '../policy/decide-access.js';
import type { DataPlaneEvent, InboundKind, InboundRequestEvent } from '../telemetry/events.js';
import { CAUSEWAY_SOURCE, CAUSEWAY_STREAM, STREAM_HTTP1 } from './headers.js';
import type { MeshAuthority } from './mesh-address.js';

/** The rule a denial names in telemetry: `<policy> rules[<i>]`, or `default` when none decided. */
export function deniedBy(verdict: Pick<AccessVerdict, 'rule'>): string {
  return verdict.rule === undefined ? 'default' : describeRule(verdict.rule);
}

/** What one event needs beyond who asked and for what. */
export interface InboundOutcome {
  status: number;
  code?: string;
  rule?: string;
  endpoint?: string;
  durationMs: number;
  requestBytes?: number;
  responseBytes?: number;
}

/**
 * Publishes the east-west listener's telemetry (events.ts `inbound`, `tunnel.closed`): the
 * listener says what happened to a stream or request, this turns it into one event.
 */
export class InboundEvents {
  constructor(private readonly sink: EventSink<DataPlaneEvent> | undefined) {}

  /** A stream answered or refused before anything was served, from its request headers (the target may be unparsed). */
  fromHeaders(headers: IncomingHttpHeaders, peer: PeerIdentity, outcome: InboundOutcome): void {
    if (this.sink === undefined) return;
    const authority = typeof headers[':authority'] === 'string' ? headers[':authority'] : '';
    const colon = authority.lastIndexOf(':');
    const port = colon < 0 ? 0 : Number(authority.slice(colon + 1));
    const source = headers[CAUSEWAY_SOURCE];
    this.publish({
      // A pooled HTTP/1.1 stream refused at its opening is refused HTTP; a plain CONNECT, a tunnel.
      kind: headers[':method'] !== 'CONNECT' ? 'grpc' : headers[CAUSEWAY_STREAM] === STREAM_HTTP1 ? 'http' : 'tcp', peer: peer.spiffeId,
      source: typeof source === 'string' && source !== '' ? source : 'anonymous',
      // Not a name of ours until proven (a refusal of an unknown service): the metrics keep it out of labels.
      service: colon < 0 ? authority : authority.slice(0, colon), port: Number.isInteger(port) ? port : 0,
    }, outcome);
  }

  /** A request, call or tunnel of a caller whose target was parsed. */
  served(kind: InboundKind, target: MeshAuthority, source: string | undefined, peer: PeerIdentity, outcome: InboundOutcome): void {
    if (this.sink === undefined) return;
    this.publish({ kind, peer: peer.spiffeId, source: source ?? 'anonymous', service: target.key, port: target.port }, outcome);
  }

  tunnelClosed(target: MeshAuthority, source: string | undefined, endpoint: string, cluster: string, bytes: { fromCaller: number; fromService: number }, durationMs: number, error: Error | undefined): void {
    this.sink?.publish({
      type: 'tunnel.closed', direction: 'inbound', service: target.key, port: target.port, source: source ?? 'anonymous', cluster, endpoint,
      bytesSent: bytes.fromCaller, bytesReceived: bytes.fromService, durationMs, ...(error === undefined ? {} : { error: error.message }),
    });
  }

  private publish(who: Pick<InboundRequestEvent, 'kind' | 'peer' | 'source' | 'service' | 'port'>, outcome: InboundOutcome): void {
    this.sink?.publish({ type: 'inbound', at: new Date().toISOString(), ...who, ...outcome });
  }
}
