import {
  CausewayError, ErrorCodes, describeError, peerLabels, serviceKey,
  type CatalogReader, type CatalogWriter, type ExportPeer, type Locality, type Logger, type ServiceRecord,
} from '../../registry/index.js';
import { bundlesEqual, decodeBundle, encodeBundle, type TrustBundle, type TrustStore } from '../trust/index.js';
import { decodeHello, decodeRecords, readLong, toWireLocality, toWireRecord } from './frames.js';
import { PROTOCOL_VERSION, type WireBundle, type WireLinkMessage, type WireRecords } from './proto.js';
import { deltaRecords, snapshotRecords } from './replication.js';
import type { PeerEvent } from './peer-events.js';
import type { EventSink } from '../../registry/index.js';

/** Counters kept per peer across its sessions (PeerStatus reports them). */
export interface LinkStats {
  /** Links established (peer Hello accepted) so far: 1 plus the reconnects. */
  connects: number;
  sentDeltas: number;
  ackedDeltas: number;
  /** Our Bundle/Snapshot/Delta messages the peer rejected. */
  nacks: number;
  /** The peer's messages we rejected. */
  rejected: number;
  lastAckLagMs?: number;
  /** The peer's write → applied here of its latest Delta (across two clocks; see PeerEvent). */
  lastReplicationLagMs?: number;
  /** ms since the epoch of the last message received from the peer. */
  lastContactMs?: number;
}

export function emptyStats(): LinkStats {
  return { connects: 0, sentDeltas: 0, ackedDeltas: 0, nacks: 0, rejected: 0 };
}

export interface LocalGateway {
  cluster: string;
  trustDomain: string;
  gatewayId: string;
  eastWestAddress: string;
  locality: Locality;
}

/** The gRPC Link stream, client or server side: an object-mode duplex of LinkMessages. */
export interface LinkStream {
  write(message: WireLinkMessage, callback?: (err?: Error | null) => void): boolean;
  on(event: 'data', listener: (message: WireLinkMessage) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
}

export interface LinkSessionOptions {
  stream: LinkStream;
  /** `labels`: those our operator gave the peering (peer add / peer token --label); they win over the Hello's. */
  peer: { name: string; cluster: string; trustDomain: string; labels?: Readonly<Record<string, string>> };
  /** SPIFFE ID of the authenticated other end (client cert on the server, server cert on the dialer). */
  peerIdentity: () => string | undefined;
  local: LocalGateway;
  catalog: CatalogReader & CatalogWriter;
  trust: TrustStore;
  stats: LinkStats;
  heartbeatMs: number;
  deadAfterMs: number;
  now: () => number;
  logger: Logger;
  /** Telemetry: each Snapshot/Delta received (peer-events.ts). */
  events: EventSink<PeerEvent>;
  /** The peer's Hello was accepted: the link is up. */
  onConnected(): void;
  /** A newer peer bundle was applied to the TrustStore (persist it). */
  onBundle(bundleJson: string, bundle: TrustBundle): void;
  /** Ends the underlying call: gracefully (no error) or with a status derived from `error`. */
  terminate(error: CausewayError | undefined): void;
  /**
   * The peer says its operator removed the peering (a Removed message). Called before the
   * session ends, so the owner can stop redialling and withdraw trust first.
   */
  onRemoved(reason: string): void;
  /** Called exactly once when the session is over. */
  onEnd(error: CausewayError | undefined): void;
}

const MAX_DETAIL_PROBLEMS = 50;

/**
 * One live Link stream with one peer; both sides run the same session (docs/protocol.md).
 * On start it sends Hello and our Bundle; once the peer's Hello is accepted — what the peer
 * is (its cluster, its locality) decides which records it may have (exportTo) — a Snapshot
 * of the records exported to it, then a Delta per local catalog change batch; a Heartbeat
 * every heartbeatMs. Incoming Snapshot/Delta are validated whole and Acked, or NACKed with
 * every problem and not applied (the xDS ACK/NACK model). Nothing received for deadAfterMs ends the session: the heartbeat
 * watchdog, not a socket timer, decides whether the peer is alive.
 */
export class LinkSession {
  private readonly options: LinkSessionOptions;
  private readonly pending = new Map<number, { sentAt: number; kind: 'bundle' | 'snapshot' | 'delta' }>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubscribers: Array<() => void> = [];
  private nextSeq = 1;
  private lastReceived: number;
  private lastSentBundle: TrustBundle | undefined;
  private helloAccepted = false;
  /** The peer as the export rule sees it; set by its first accepted Hello. */
  private exportPeerValue: ExportPeer | undefined;
  private done = false;

  constructor(options: LinkSessionOptions) {
    this.options = options;
    this.lastReceived = options.now();
  }

  get connected(): boolean {
    return this.helloAccepted && !this.done;
  }

  get ended(): boolean {
    return this.done;
  }

  /** Messages sent and not yet acknowledged on this session. */
  get unacked(): number {
    return this.pending.size;
  }

  /** The peer's name, cluster and labels as the export rule sees them (undefined before its Hello). */
  get exportPeer(): ExportPeer | undefined {
    return this.exportPeerValue;
  }

  start(): void {
    const { stream, local, trust } = this.options;
    stream.on('data', (m: WireLinkMessage) => {
      // A frame that trips an unexpected error ends this link, never the process.
      try {
        this.receive(m);
      } catch (err) {
        this.options.stats.rejected += 1;
        this.finish(new CausewayError(ErrorCodes.FRAME_INVALID, `cannot process the peer's ${m.msg ?? 'message'}: ${describeError(err)}`));
      }
    });
    // The call already failed: nothing to end. The peer half-closed: end our side gracefully.
    stream.on('error', (err: Error) => this.finish(asLinkError(err), 'none'));
    stream.on('end', () => this.finish(new CausewayError(ErrorCodes.PEER_UNREACHABLE, 'the peer ended the link'), 'graceful'));
    stream.on('close', () => this.finish(new CausewayError(ErrorCodes.PEER_UNREACHABLE, 'the link stream closed'), 'none'));

    this.send({
      hello: {
        cluster: local.cluster,
        trustDomain: local.trustDomain,
        gatewayId: local.gatewayId,
        eastWestAddress: local.eastWestAddress,
        locality: toWireLocality(local.locality),
        protocolVersion: PROTOCOL_VERSION,
      },
    });
    this.sendOwnBundle();
    this.unsubscribers.push(trust.onChange(() => this.sendOwnBundle()));

    const heartbeat = setInterval(() => this.send({ heartbeat: { unixMs: this.options.now() } }), this.options.heartbeatMs);
    const watchdog = setInterval(() => {
      const silentMs = this.options.now() - this.lastReceived;
      if (silentMs > this.options.deadAfterMs) {
        this.finish(new CausewayError(ErrorCodes.PEER_UNREACHABLE, `nothing received from the peer for ${silentMs} ms`));
      }
    }, Math.max(20, Math.min(this.options.heartbeatMs, Math.floor(this.options.deadAfterMs / 4))));
    heartbeat.unref();
    watchdog.unref();
    this.timers.push(heartbeat, watchdog);
  }

  /** Ends the session: gracefully without an error, else with the error as the call status. Idempotent. */
  close(error?: CausewayError): void {
    this.finish(error, error === undefined ? 'graceful' : 'status');
  }

  /**
   * Tells the peer its peering was removed here, then ends the call gracefully (a status
   * error could overtake the message on the wire; a graceful end lets it arrive first).
   */
  sayRemoved(reason: string, flushMs = 250): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, flushMs);
      timer.unref();
      try {
        this.options.stream.write({ removed: { reason } }, () => {
          clearTimeout(timer);
          resolve();
        });
      } catch {
        clearTimeout(timer);
        resolve();
      }
      this.finish(new CausewayError(ErrorCodes.PEER_UNKNOWN, reason), 'graceful');
    });
  }

  /** The call ended underneath the session (e.g. cancelled by the peer): nothing to send. */
  lost(error: CausewayError): void {
    this.finish(error, 'none');
  }

  /**
   * `endCall`: 'status' ends the call with the error as its status (we refuse or drop the
   * peer), 'graceful' ends our side normally, 'none' when the call is already over.
   */
  private finish(error: CausewayError | undefined, endCall: 'status' | 'graceful' | 'none' = 'status'): void {
    if (this.done) return;
    this.done = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.pending.clear();
    this.options.logger[endCall === 'status' && error !== undefined ? 'warn' : 'info'](
      { peer: this.options.peer.name, reason: error === undefined ? 'closed locally' : error.message }, 'link ended');
    if (endCall !== 'none') {
      try {
        this.options.terminate(endCall === 'status' ? error : undefined);
      } catch (err) {
        this.options.logger.debug({ reason: describeError(err) }, 'error while ending the link call');
      }
    }
    this.options.onEnd(error);
  }

  private send(message: WireLinkMessage): void {
    if (this.done) return;
    try {
      this.options.stream.write(message);
    } catch (err) {
      this.finish(new CausewayError(ErrorCodes.PEER_UNREACHABLE, `cannot write to the link: ${describeError(err)}`));
    }
  }

  private sendOwnBundle(): void {
    const bundle = this.options.trust.get(this.options.local.trustDomain);
    if (bundle === undefined || (this.lastSentBundle !== undefined && bundlesEqual(bundle, this.lastSentBundle))) return;
    this.lastSentBundle = bundle;
    const seq = this.track('bundle');
    this.send({ bundle: { trustDomain: bundle.trustDomain, spiffeBundleJson: encodeBundle(bundle), seq } });
  }

  private sendRecords(kind: 'snapshot' | 'delta', records: readonly ServiceRecord[]): void {
    const seq = this.track(kind);
    if (kind === 'delta') this.options.stats.sentDeltas += 1;
    // A Delta goes out in the tick its change batch was applied: now is its write time.
    const body: WireRecords = { seq, records: records.map(toWireRecord), ...(kind === 'delta' ? { writtenAtMs: this.options.now() } : {}) };
    this.send(kind === 'snapshot' ? { snapshot: body } : { delta: body });
  }

  private track(kind: 'bundle' | 'snapshot' | 'delta'): number {
    const seq = this.nextSeq++;
    this.pending.set(seq, { sentAt: this.options.now(), kind });
    return seq;
  }

  private receive(m: WireLinkMessage): void {
    if (this.done) return;
    this.lastReceived = this.options.now();
    this.options.stats.lastContactMs = this.lastReceived;
    if (m.msg !== 'hello' && !this.helloAccepted) {
      this.finish(new CausewayError(ErrorCodes.FRAME_INVALID, `the peer sent ${m.msg ?? 'an empty message'} before Hello`));
      return;
    }
    switch (m.msg) {
      case 'hello':
        this.receiveHello(m);
        return;
      case 'bundle':
        this.receiveBundle(m.bundle);
        return;
      case 'snapshot':
      case 'delta':
        this.receiveRecords(m.msg, m[m.msg]);
        return;
      case 'ack': {
        const errors: string[] = [];
        const seq = readLong(m.ack?.seq, 'ack.seq', errors);
        this.receiveAck(seq, m.ack?.errorDetail ?? '');
        return;
      }
      case 'heartbeat':
        return;
      case 'removed': {
        // The peer's words end up in our status and logs: printable, one line, bounded.
        const said = typeof m.removed?.reason === 'string' ? m.removed.reason.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, 200) : '';
        const reason = said === '' ? `${this.options.peer.cluster} removed this peering` : said;
        this.options.onRemoved(reason);
        this.finish(new CausewayError(ErrorCodes.PEER_UNKNOWN, reason), 'graceful');
        return;
      }
      default:
        // A newer peer may send message kinds we do not know; ignoring them keeps the link up.
        this.options.logger.debug({ peer: this.options.peer.name }, 'ignored an unknown link message');
    }
  }

  private receiveHello(m: WireLinkMessage): void {
    const { peer } = this.options;
    const errors: string[] = [];
    const gateway = decodeHello(m.hello, errors);
    if (gateway !== undefined) {
      const authenticated = this.options.peerIdentity();
      if (gateway.identity !== authenticated) {
        errors.push(`hello.gatewayId: "${gateway.identity}" is not the authenticated certificate's SPIFFE ID "${authenticated ?? 'none'}"`);
      }
      if (gateway.trustDomain !== peer.trustDomain) errors.push(`hello.trustDomain: "${gateway.trustDomain}" is not the peer's "${peer.trustDomain}"`);
      if (gateway.cluster !== peer.cluster) errors.push(`hello.cluster: "${gateway.cluster}" is not the peer's "${peer.cluster}"`);
    }
    if (gateway === undefined || errors.length > 0) {
      this.options.stats.rejected += 1;
      this.finish(new CausewayError(ErrorCodes.PEER_REFUSED, `Hello refused: ${errors.join('; ')}`, { details: errors }));
      return;
    }
    this.options.catalog.setGateway(gateway);
    const previous = this.exportPeerValue;
    this.exportPeerValue = { name: peer.name, cluster: peer.cluster, labels: peerLabels(gateway.locality, peer.labels) };
    if (!this.helloAccepted) {
      this.helloAccepted = true;
      this.options.stats.connects += 1;
      this.options.logger.info({ peer: peer.name, gateway: gateway.identity, eastWest: gateway.eastWestAddress }, 'link up');
      this.startReplication();
      this.options.onConnected();
    } else if (previous !== undefined && !sameLabels(previous.labels, this.exportPeerValue.labels)) {
      // A peer that says it moved (cloud or region) may now be admitted to other records: a
      // fresh snapshot sends what it gained and, by leaving them out, withdraws what it lost.
      this.options.logger.info({ peer: peer.name, labels: { ...this.exportPeerValue.labels } }, 'peer labels changed; sending a new snapshot');
      this.sendRecords('snapshot', snapshotRecords(this.options.catalog, this.exportPeerValue));
    }
  }

  /** The snapshot of what the peer may have, then a delta per local change batch. */
  private startReplication(): void {
    const { catalog, local } = this.options;
    // Subscribe in the same tick as the snapshot is taken: no change can fall in between.
    // The export peer is read per batch, so a later Hello's labels apply to the next delta.
    this.sendRecords('snapshot', snapshotRecords(catalog, this.exportPeerValue!));
    this.unsubscribers.push(catalog.onChange((changes) => {
      const peer = this.exportPeerValue;
      if (peer === undefined) return;
      const records = deltaRecords(changes, local.cluster, peer);
      if (records.length > 0) this.sendRecords('delta', records);
    }));
  }

  private receiveBundle(b: WireBundle | null | undefined): void {
    const { peer, trust } = this.options;
    const errors: string[] = [];
    const seq = readLong(b?.seq, 'bundle.seq', errors);
    let applied: TrustBundle | undefined;
    if (b?.trustDomain !== peer.trustDomain) {
      // A peer may only speak for its own trust domain's roots.
      errors.push(`bundle.trustDomain: "${String(b?.trustDomain)}" is not the peer's trust domain "${peer.trustDomain}"`);
    } else {
      try {
        const bundle = decodeBundle(peer.trustDomain, b.spiffeBundleJson);
        if (trust.set(bundle)) applied = bundle;
      } catch (err) {
        errors.push(`bundle: ${describeError(err)}`);
      }
    }
    if (applied !== undefined && b !== null && b !== undefined) {
      this.options.logger.info({ peer: peer.name, trustDomain: peer.trustDomain, sequence: applied.sequence }, 'peer bundle updated');
      this.options.onBundle(b.spiffeBundleJson, applied);
    }
    this.ack(seq, errors);
  }

  private receiveRecords(kind: 'snapshot' | 'delta', body: WireRecords | null | undefined): void {
    const { peer, catalog } = this.options;
    const errors: string[] = [];
    const seq = readLong(body?.seq, `${kind}.seq`, errors);
    const records = decodeRecords(body?.records, peer.cluster, errors);
    // What exactly the peer sent, for an operator (or a test) asking what crossed the link.
    if (this.options.logger.isLevelEnabled('debug')) {
      this.options.logger.debug({
        peer: peer.name, kind, seq, records: records.map((r) => `${serviceKey(r.name, r.namespace)}${r.deleted ? ' (deleted)' : ''}`),
      }, 'link records received');
    }
    if (errors.length === 0) {
      try {
        if (kind === 'snapshot') catalog.applySnapshot(peer.cluster, records);
        else catalog.applyRemote(records);
      } catch (err) {
        errors.push(describeError(err));
      }
    }
    this.ack(seq, errors);
    const written = kind === 'delta' ? readLong(body?.writtenAtMs ?? 0, 'delta.writtenAtMs', []) : undefined;
    const lagMs = written === undefined || written === 0 || errors.length > 0 ? undefined : Math.max(0, this.options.now() - written);
    if (lagMs !== undefined) this.options.stats.lastReplicationLagMs = lagMs;
    this.options.events.publish({
      type: 'peer.records', peer: peer.name, cluster: peer.cluster, kind, records: records.length, accepted: errors.length === 0,
      ...(lagMs === undefined ? {} : { lagMs }),
    });
  }

  private ack(seq: number | undefined, errors: readonly string[]): void {
    if (errors.length > 0) {
      this.options.stats.rejected += 1;
      this.options.logger.warn({ peer: this.options.peer.name, seq, problems: errors.slice(0, 10) }, 'NACKed a link message from the peer');
    }
    const shown = errors.slice(0, MAX_DETAIL_PROBLEMS);
    const more = errors.length - shown.length;
    const detail = shown.join('; ') + (more > 0 ? `; … and ${more} more` : '');
    this.send({ ack: { seq: seq ?? 0, errorDetail: detail } });
  }

  private receiveAck(seq: number | undefined, errorDetail: string): void {
    const sent = seq === undefined ? undefined : this.pending.get(seq);
    if (seq === undefined || sent === undefined) {
      this.options.logger.debug({ peer: this.options.peer.name, seq }, 'ack for nothing outstanding');
      return;
    }
    this.pending.delete(seq);
    this.options.stats.lastAckLagMs = Math.max(0, this.options.now() - sent.sentAt);
    if (errorDetail !== '') {
      this.options.stats.nacks += 1;
      this.options.logger.warn({ peer: this.options.peer.name, seq, kind: sent.kind, errorDetail }, 'the peer NACKed our link message');
    } else if (sent.kind === 'delta') {
      this.options.stats.ackedDeltas += 1;
    }
  }
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/**
 * A stream error as a CausewayError whose message fits a status column: grpc-js prefixes
 * "14 UNAVAILABLE: " and appends the time and the resolved address list to connection
 * failures; the operator needs the reason, and `peer list` shows it.
 */
function asLinkError(err: Error): CausewayError {
  if (err instanceof CausewayError) return err;
  const details = (err as { details?: unknown }).details;
  const text = typeof details === 'string' && details !== '' ? details : err.message;
  return new CausewayError(ErrorCodes.PEER_UNREACHABLE, shortReason(text), { cause: err });
}

function shortReason(text: string): string {
  const reason = text
    .replace(/^\d+ [A-Z_]+: /, '')
    .replace(/^No connection established\. Last error: /, '')
    .replace(/ \(\d{4}-\d\d-\d\dT[^)]*\)/g, '')
    .replace(/\. Resolution note: .*$/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return reason.length > 120 ? `${reason.slice(0, 119)}…` : reason;
}
