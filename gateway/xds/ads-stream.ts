import { createHash } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../registry/index.js';
import { KIND_OF_TYPE_URL, TYPE_URLS, type ResourceKind } from './xds-protos.js';
import type { AnyResource } from './xds-resources.js';
import type { DiscoveryRequest__Output } from './generated/envoy/service/discovery/v3/DiscoveryRequest.js';
import type { DiscoveryResponse } from './generated/envoy/service/discovery/v3/DiscoveryResponse.js';

export type AdsCall = grpc.ServerDuplexStream<DiscoveryRequest__Output, DiscoveryResponse>;

/** What one client holds of one resource type, for the status API and `causeway proxy-status`. */
export interface TypeStatus {
  typeUrl: string;
  /** Names subscribed to; empty with `wildcard` for LDS/CDS asked for everything. */
  names: string[];
  wildcard: boolean;
  /** The version last sent, and its nonce. */
  sent?: { version: string; nonce: string; resources: number; at: string };
  /** The version the client last acknowledged: what is in force there. */
  acked?: string;
  /** The last version the client rejected, with its error (xDS NACK), until it acknowledges one. */
  nacked?: { version: string; error: string; at: string };
}

export interface AdsClientStatus {
  id: number;
  identity: string;
  node: string;
  connectedAt: string;
  types: TypeStatus[];
}

/** What the stream keeps per type: the status, with the names as a set. */
type TypeState = Omit<TypeStatus, 'typeUrl' | 'names'> & { names: Set<string> };

/** A resource as built for one caller, with its version: made once, however many streams hold it. */
export interface BuiltResource {
  resource: AnyResource;
  /** A digest of what it is (sha256 of its JSON, 16 hex digits): equal resources compare equal across restarts. */
  version: string;
  /** The resource as one `resources` entry of an encoded DiscoveryResponse: encoded once, for every client sent it. */
  encoded?: Buffer;
}

export function builtResource(resource: AnyResource): BuiltResource {
  return { resource, version: createHash('sha256').update(JSON.stringify(resource)).digest('hex').slice(0, 16) };
}

export interface AdsStreamOptions {
  id: number;
  identity: string;
  call: AdsCall;
  /** The resource of `kind` named `name` for this client, or undefined when it does not exist for it. */
  build(kind: ResourceKind, name: string): BuiltResource | undefined;
  /** Every name of `kind` this client may see (a wildcard LDS or CDS subscription). */
  all(kind: ResourceKind): string[];
  /**
   * The ADS method's DiscoveryResponse serializer. With it, a response is written as bytes
   * put together from each resource's encoding (made once per resource however many clients
   * hold it), the call's serializer passing bytes through; without it, as a message.
   */
  encode?(response: DiscoveryResponse): Buffer;
  logger: Logger;
  /** A client rejected a version (the previous one stays in force there). */
  onNack(status: { identity: string; typeUrl: string; version: string; error: string }): void;
}

/** Kinds where an empty subscription means "everything" (xDS protocol, "wildcard"). */
const WILDCARD_KINDS: ReadonlySet<ResourceKind> = new Set(['listener', 'cluster']);

/**
 * One client's state-of-the-world ADS stream (xDS protocol, "ACK and NACK semantics"). Per
 * resource type: the names subscribed, the version and nonce last sent, the version the
 * client acknowledged, and the last one it rejected with its error. A request whose nonce is
 * not the latest sent is stale and only updates nothing; one that echoes the latest nonce
 * ACKs (no error_detail) or NACKs it — after a NACK the same version is not sent again, and
 * the client keeps the version it had. A response is sent when what the client should hold
 * changed: its version is a digest of the resources, so an unchanged set is never resent.
 */
export class AdsStream {
  private readonly types = new Map<ResourceKind, TypeState>();
  private nonce = 0;
  private node = '';
  readonly connectedAt = new Date().toISOString();

  constructor(private readonly options: AdsStreamOptions) {}

  get id(): number {
    return this.options.id;
  }

  receive(request: DiscoveryRequest__Output): void {
    if (this.node === '' && request.node?.id !== undefined) this.node = request.node.id;
    const kind = KIND_OF_TYPE_URL.get(request.typeUrl);
    if (kind === undefined) {
      this.options.logger.debug({ client: this.options.identity, typeUrl: request.typeUrl }, 'xDS request for a type not served');
      return;
    }
    const first = !this.types.has(kind);
    const state = this.types.get(kind) ?? { names: new Set<string>(), wildcard: false };
    this.types.set(kind, state);
    if (request.responseNonce !== '') {
      if (request.responseNonce !== state.sent?.nonce) return; // stale: answers an older response
      if (request.errorDetail !== null && request.errorDetail.message !== '') {
        state.nacked = { version: state.sent.version, error: request.errorDetail.message, at: new Date().toISOString() };
        this.options.logger.warn({ client: this.options.identity, typeUrl: request.typeUrl, version: state.sent.version, error: request.errorDetail.message }, 'xDS client rejected a version (NACK)');
        this.options.onNack({ identity: this.options.identity, typeUrl: request.typeUrl, version: state.sent.version, error: request.errorDetail.message });
      } else {
        state.acked = request.versionInfo;
        delete state.nacked;
      }
    }
    // Wildcard (xDS protocol, "How the client specifies what resources to return"): `*`; or no
    // names in the first request of a type, and still none after (legacy wildcard). A client
    // that named resources and then names none has unsubscribed from everything.
    const none = request.resourceNames.length === 0;
    state.wildcard = WILDCARD_KINDS.has(kind) && (request.resourceNames.includes('*') || (none && (first || state.wildcard)));
    state.names = new Set(request.resourceNames.filter((n) => n !== '*'));
    this.push(kind);
  }

  /** Sends every subscribed type whose resources changed (the catalog or the policies did). */
  refresh(): void {
    for (const kind of this.types.keys()) this.push(kind);
  }

  /** Whether a change of the resources named `names` can change what this client should hold. */
  concerns(names: ReadonlySet<string>): boolean {
    for (const state of this.types.values()) {
      if (state.wildcard) return true;
      for (const name of state.names) if (names.has(name)) return true;
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

  private push(kind: ResourceKind): void {
    const state = this.types.get(kind);
    if (state === undefined) return;
    const names = state.wildcard ? [...this.options.all(kind)] : [...state.names];
    const resources: BuiltResource[] = [];
    const digested: string[] = [];
    for (const name of names.sort()) {
      const built = this.options.build(kind, name);
      if (built === undefined) continue;
      resources.push(built);
      digested.push(name, built.version);
    }
    // A digest of the resources: of each one's name and version (itself a digest of what it is).
    const version = createHash('sha256').update(digested.join('\u0000')).digest('hex').slice(0, 16);
    // Unchanged since the last response; or the very set the client rejected (a NACK follows a send).
    if (state.sent !== undefined && (state.sent.version === version || state.nacked?.version === version)) return;
    this.nonce += 1;
    const nonce = String(this.nonce);
    state.sent = { version, nonce, resources: resources.length, at: new Date().toISOString() };
    this.write({ versionInfo: version, typeUrl: TYPE_URLS[kind], nonce }, resources);
  }

  private write(head: { versionInfo: string; typeUrl: string; nonce: string }, resources: BuiltResource[]): void {
    const { encode } = this.options;
    if (encode === undefined) {
      this.options.call.write({ ...head, resources: resources.map((r) => r.resource) as never });
      return;
    }
    // Protobuf fields concatenate: version_info (1), each resource (2), type_url (4), nonce (5)
    // — the order protobufjs writes them in, so the bytes of the message encoded whole.
    const parts = [
      encode({ versionInfo: head.versionInfo }),
      ...resources.map((r) => (r.encoded ??= encode({ resources: [r.resource as never] }))),
      encode({ typeUrl: head.typeUrl, nonce: head.nonce }),
    ];
    this.options.call.write(Buffer.concat(parts) as never);
  }
}
