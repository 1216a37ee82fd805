import { createHash } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { KIND_OF_TYPE_URL, TYPE_URLS, type ResourceKind } from './xds-protos.js';
import type { AnyResource } from './xds-resources.js';
import type { AdsClientStatus, AdsStreamOptions, TypeStatus } from './ads-stream.js';
import type { DeltaDiscoveryRequest__Output } from './generated/envoy/service/discovery/v3/DeltaDiscoveryRequest.js';
import type { DeltaDiscoveryResponse } from './generated/envoy/service/discovery/v3/DeltaDiscoveryResponse.js';

export type DeltaCall = grpc.ServerDuplexStream<DeltaDiscoveryRequest__Output, DeltaDiscoveryResponse>;

interface DeltaTypeState {
  names: Set<string>;
  wildcard: boolean;
  /** What the client holds (as far as we know), by name: the version of each resource. */
  held: Map<string, string>;
  /** Responses not yet ACKed or NACKed, by nonce: the versions each one sent. */
  pending: Map<string, Map<string, string | undefined>>;
  sent?: TypeStatus['sent'];
  acked?: string;
  nacked?: TypeStatus['nacked'];
}

const WILDCARD_KINDS: ReadonlySet<ResourceKind> = new Set(['listener', 'cluster']);

/**
 * One client's incremental ADS stream (xDS protocol, "Incremental xDS"): the client
 * subscribes and unsubscribes by name, and each response carries only the resources whose
 * version changed and the names that went away — an endpoint change sends one
 * ClusterLoadAssignment, not every one the client holds. After a reconnect the client's
 * `initial_resource_versions` say what it still holds, and only what differs is sent. A NACK
 * is recorded with the client's error; the resources it rejected are not sent again until
 * they change (the client keeps what it had).
 */
export class DeltaAdsStream {
  private readonly types = new Map<ResourceKind, DeltaTypeState>();
  private nonce = 0;
  private node = '';
  readonly connectedAt = new Date().toISOString();

  constructor(private readonly options: Omit<AdsStreamOptions, 'call'> & { call: DeltaCall }) {}

  get id(): number {
    return this.options.id;
  }

  receive(request: DeltaDiscoveryRequest__Output): void {
    if (this.node === '' && request.node?.id !== undefined) this.node = request.node.id;
    const kind = KIND_OF_TYPE_URL.get(request.typeUrl);
    if (kind === undefined) return;
    const first = !this.types.has(kind);
    const state: DeltaTypeState = this.types.get(kind) ?? { names: new Set(), wildcard: false, held: new Map(), pending: new Map() };
    this.types.set(kind, state);
    if (first) for (const [name, version] of Object.entries(request.initialResourceVersions)) state.held.set(name, version);
    if (request.responseNonce !== '') {
      const sent = state.pending.get(request.responseNonce);
      state.pending.delete(request.responseNonce);
      if (sent !== undefined) {
        if (request.errorDetail !== null && request.errorDetail.message !== '') {
          state.nacked = { version: request.responseNonce, error: request.errorDetail.message, at: new Date().toISOString() };
          this.options.logger.warn({ client: this.options.identity, typeUrl: request.typeUrl, nonce: request.responseNonce, error: request.errorDetail.message }, 'xDS client rejected a delta (NACK)');
          this.options.onNack({ identity: this.options.identity, typeUrl: request.typeUrl, version: request.responseNonce, error: request.errorDetail.message });
          // Kept as "held" so the rejected versions are not resent until they change; the client keeps what it had.
        } else {
          state.acked = request.responseNonce;
          delete state.nacked;
        }
      }
    }
    if (request.resourceNamesSubscribe.includes('*') || (first && request.resourceNamesSubscribe.length === 0 && WILDCARD_KINDS.has(kind))) state.wildcard = true;
    if (request.resourceNamesUnsubscribe.includes('*')) state.wildcard = false;
    const fresh = new Set<string>();
    for (const name of request.resourceNamesSubscribe) {
      if (name === '*') continue;
      if (!state.names.has(name)) fresh.add(name);
      state.names.add(name);
    }
    for (const name of request.resourceNamesUnsubscribe) {
      state.names.delete(name);
      state.held.delete(name);
    }
    this.push(kind, fresh);
  }

  refresh(): void {
    for (const kind of this.types.keys()) this.push(kind, new Set());
  }

  /** Whether a change of the resources named `names` can change what this client should hold. */
  concerns(names: ReadonlySet<string>): boolean {
    for (const state of this.types.values()) {
      if (state.wildcard) return true;
      for (const name of state.names) if (names.has(name)) return true;
      for (const name of state.held.keys()) if (names.has(name)) return true;
    }
    return false;
  }

  status(): AdsClientStatus {
    return {
      id: this.options.id, identity: this.options.identity, node: this.node, connectedAt: this.connectedAt,
      types: [...this.types].map(([kind, s]) => ({
        typeUrl: TYPE_URLS[kind], names: [...s.names].sort(), wildcard: s.wildcard,
        ...(s.sent === undefined ? {} : { sent: s.sent }), ...(s.acked === undefined ? {} : { acked: s.acked }),
        ...(s.nacked === undefined ? {} : { nacked: s.nacked }),
      })),
    };
  }

  /** `fresh`: names just subscribed to; one that does not exist is said to be removed, so the client stops waiting for it. */
  private push(kind: ResourceKind, fresh: ReadonlySet<string>): void {
    const state = this.types.get(kind);
    if (state === undefined) return;
    const names = new Set(state.wildcard ? [...this.options.all(kind), ...state.names] : state.names);
    const changed: Array<{ name: string; version: string; resource: AnyResource }> = [];
    const removed: string[] = [];
    for (const name of [...names].sort()) {
      const built = this.options.build(kind, name);
      if (built === undefined) {
        if (state.held.has(name) || fresh.has(name)) removed.push(name);
        continue;
      }
      // A resource's version is a digest of what it is, so equal resources compare equal across restarts.
      if (state.held.get(name) !== built.version) changed.push({ name, version: built.version, resource: built.resource });
    }
    // Held but no longer covered (a wildcard whose service went away).
    for (const name of state.held.keys()) if (!names.has(name) && !removed.includes(name)) removed.push(name);
    if (changed.length === 0 && removed.length === 0 && state.sent !== undefined) return;
    for (const { name, version } of changed) state.held.set(name, version);
    for (const name of removed) state.held.delete(name);
    this.nonce += 1;
    const nonce = String(this.nonce);
    state.pending.set(nonce, new Map(changed.map((c) => [c.name, c.version])));
    const systemVersionInfo = createHash('sha256').update([...state.held].sort().join(',')).digest('hex').slice(0, 16);
    state.sent = { version: systemVersionInfo, nonce, resources: changed.length, at: new Date().toISOString() };
    this.options.call.write({
      systemVersionInfo, typeUrl: TYPE_URLS[kind], nonce,
      resources: changed.map((c) => ({ name: c.name, version: c.version, resource: c.resource as never })),
      removedResources: removed,
    });
  }
}
