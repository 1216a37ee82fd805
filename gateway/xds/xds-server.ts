import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { listenOn, serviceKey, silentLogger, type CatalogChange, type CatalogReader, type Locality, type Logger, type ServiceKey } from '../../registry/index.js';
import { MtlsServer, VerifiedConnections, shutdownGrpcServer, type ConnectionLimits, type PeerIdentity, type SvidSource, type TrustReader } from '../../federation/index.js';
import type { PolicyEngine } from '../policy/policy-engine.js';
import { AdsStream, builtResource, type AdsCall, type AdsClientStatus, type BuiltResource } from './ads-stream.js';
import { DeltaAdsStream, type DeltaCall } from './delta-stream.js';
import { adsService, type ResourceKind } from './xds-protos.js';
import { buildResource, targetOf, type RouteDecision } from './xds-resources.js';
import { serverListenerAddress } from './server-listener.js';
import { certificateProviderOf } from './node-metadata.js';
import type { DiscoveryResponse } from './generated/envoy/service/discovery/v3/DiscoveryResponse.js';

export interface XdsServerOptions {
  svid: SvidSource;
  trust: TrustReader;
  /** A catalog change rebuilds the resources of the services it changed (and of every service split over others). */
  catalog: CatalogReader & { onChange(listener: (changes: readonly CatalogChange[]) => void): () => void };
  engine: PolicyEngine;
  locality: Locality;
  /** Which verified clients this listener serves: the reason to refuse one (workloadCallerRefusal). */
  admit: (peer: PeerIdentity) => string | undefined;
  /**
   * A plaintext client's identity by its source address (design brief, "Who is calling",
   * option 3), for xDS clients that cannot do TLS to their control plane (grpc-js); undefined:
   * plaintext clients are refused.
   */
  plaintextCaller?: (remoteAddress: string) => string | undefined;
  /** host:port of the outbound listener: the endpoint of every remote priority. */
  outbound: () => { host: string; port: number };
  /**
   * Subscribe to everything else that changes what a client sees — policies, gateways, their
   * liveness: each change rebuilds every resource. (The catalog need not be one: the server
   * follows it itself, service by service.)
   */
  triggers: Array<(look: () => void) => () => void>;
  logger?: Logger;
  handshakeTimeoutMs?: number;
  limits?: Partial<ConnectionLimits>;
  /** Changes within this are pushed together. Default 20 ms. */
  debounceMs?: number;
}

/** Who a stream's client is, as far as what it is shown goes. */
interface ClientView {
  /** Key of its builds in `built`: the identity, with the certificate provider when it names one. */
  key: string;
  identity: string;
  certificateProvider: string | undefined;
  /** Whether its first request (with the node) has come. */
  known: boolean;
}

/** TLS record content type "handshake" (RFC 8446 §5.1): the first byte of every TLS connection. */
const TLS_HANDSHAKE = 0x16;

/**
 * The xDS listener (design brief, port 15010): Envoy v3 ADS over gRPC, state of the world, for
 * Envoy and proxyless gRPC clients. Clients authenticate with their SVID over mTLS (the same
 * MtlsServer rules as every listener, and only workloads of this trust domain); a plaintext
 * client is served only where its source address names it. Each sees the listeners, routes,
 * clusters and load assignments of the service ports its access rules let it call, and gets a
 * new version when the catalog, the policies or a gateway's state change what it should hold.
 */
export class XdsServer {
  private readonly server: Server;
  private readonly grpcServer: grpc.Server;
  private readonly injector: grpc.ConnectionInjector;
  private readonly mtls: MtlsServer;
  private readonly logger: Logger;
  private readonly verified = new VerifiedConnections();
  private readonly streams = new Set<AdsStream | DeltaAdsStream>();
  private readonly sockets = new Set<Socket>();
  private readonly unsubscribers: Array<() => void> = [];
  private readonly nacks: Array<{ at: string; identity: string; typeUrl: string; version: string; error: string }> = [];
  private nextId = 1;
  /**
   * The resources as built for each caller, by kind and name (undefined: the name does not
   * exist for that caller), kept until what they are made of changes: a catalog change drops
   * those of the services it changed, any other trigger drops all. Clients of one identity
   * share each build — 1,000 of them cost one build of a name, not 1,000 — and a push rebuilds
   * only what changed. A caller's entries go with its last stream.
   */
  private readonly built = new Map<string, Map<ResourceKind, Map<string, BuiltResource | undefined>>>();
  /** The names held in `built`, by service: what a change of that service drops. */
  private readonly namesByService = new Map<ServiceKey, Set<string>>();
  /** Each view's route decisions by name (xds-resources.ts), dropped with the names' resources. */
  private readonly decisions = new Map<string, Map<string, RouteDecision | undefined>>();
  /** Server listener names held in `built` (server-listener.ts): any catalog change may move an endpoint to or from their address. */
  private readonly serverListenerNames = new Set<string>();
  /** Every name of the catalog (wildcard subscriptions), until the catalog changes. */
  private allNamesHeld: string[] | undefined;
  /** Names whose resources were dropped since the last push; undefined: all were. */
  private dirty: Set<string> | undefined = new Set();
  private readonly callers = new Map<string, number>();
  private readonly encode: (response: DiscoveryResponse) => Buffer;
  private pending: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: XdsServerOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'xds' });
    this.grpcServer = new grpc.Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
    const service = adsService();
    const sotw = service.StreamAggregatedResources!;
    this.encode = (response) => sotw.responseSerialize(response);
    // A state-of-the-world response comes as bytes, put together from resources encoded once (AdsStream's write).
    const passBytes: grpc.ServiceDefinition = {
      ...service,
      StreamAggregatedResources: { ...sotw, responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : sotw.responseSerialize(value)) },
    };
    this.grpcServer.addService(passBytes, {
      StreamAggregatedResources: (call: AdsCall) => this.onStream(call, 'sotw'),
      DeltaAggregatedResources: (call: DeltaCall) => this.onStream(call, 'delta'),
    });
    this.injector = this.grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    this.mtls = new MtlsServer({
      svid: options.svid, trust: options.trust, alpn: ['h2'], admit: options.admit,
      idleTimeoutMs: 0, handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000, limits: options.limits ?? {}, logger: this.logger,
      onConnection: (socket, peer) => this.onSecureConnection(socket, peer),
    });
    this.server = createServer({ noDelay: true }, (socket) => this.onConnection(socket));
    this.unsubscribers.push(options.catalog.onChange((changes) => this.catalogChanged(changes)));
    for (const trigger of options.triggers) {
      this.unsubscribers.push(trigger(() => {
        this.dropAll();
        this.changed();
      }));
    }
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return listenOn(this.server, host, port);
  }

  address(): AddressInfo | undefined {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address : undefined;
  }

  /** Every connected client: identity, node, and per type what was sent, ACKed and NACKed. */
  clients(): AdsClientStatus[] {
    return [...this.streams].map((s) => s.status());
  }

  /** The latest NACKs, newest first. */
  recentNacks(): ReadonlyArray<{ at: string; identity: string; typeUrl: string; version: string; error: string }> {
    return this.nacks;
  }

  close(graceMs = 1000): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.pending);
      for (const off of this.unsubscribers.splice(0)) off();
      await shutdownGrpcServer(this.grpcServer, graceMs);
      this.injector.destroy();
      for (const socket of this.sockets) socket.destroy();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
      await this.mtls.close(0);
    })();
    return this.closing;
  }

  private onConnection(socket: Socket): void {
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // A client that says nothing within the handshake timeout is closed.
    socket.setTimeout(this.options.handshakeTimeoutMs ?? 10_000, () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.setTimeout(0);
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE) {
        this.mtls.accept(socket);
        return;
      }
      // Plaintext: served only when the source address names a workload (option 3 of "Who is calling").
      if (this.options.plaintextCaller?.(socket.remoteAddress ?? '') === undefined) {
        this.logger.info({ remote: socket.remoteAddress }, 'xDS plaintext client refused: no identity for its address');
        socket.destroy();
        return;
      }
      // Left paused: the HTTP/2 session reads the handle natively and takes what was buffered.
      this.injector.injectConnection(socket);
    });
  }

  private onSecureConnection(socket: TLSSocket, peer: PeerIdentity | undefined): void {
    if (this.closing !== undefined || peer === undefined) {
      socket.destroy();
      return;
    }
    this.verified.hold(socket, peer);
    this.injector.injectConnection(socket);
  }

  /** The verified SVID of a TLS client (by the fingerprint verified at accept), else the identity of its source address. */
  private identityOf(call: AdsCall): string | undefined {
    if (call.getAuthContext()?.sslPeerCertificate?.raw !== undefined) return this.verified.identityOf(call)?.spiffeId;
    const peer = call.getPeer();
    const host = peer.replace(/^ipv[46]:/, '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    return this.options.plaintextCaller?.(host);
  }

  private onStream(call: AdsCall | DeltaCall, protocol: 'sotw' | 'delta'): void {
    const identity = this.identityOf(call as AdsCall);
    if (identity === undefined) {
      call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'xDS needs the client\'s SVID (mTLS), or a source address that names a workload' });
      return;
    }
    // What the client is shown depends on its identity and, for server listeners, on the
    // certificate provider its node metadata names: streams alike share builds (`built`).
    const view: ClientView = { key: identity, identity, certificateProvider: undefined, known: false };
    const shared = {
      id: this.nextId++, identity, logger: this.logger,
      build: (kind: ResourceKind, name: string) => this.build(view, kind, name),
      all: (kind: ResourceKind) => this.allNames(kind),
      onNack: (nack: { identity: string; typeUrl: string; version: string; error: string }) => {
        this.nacks.unshift({ at: new Date().toISOString(), ...nack });
        if (this.nacks.length > 50) this.nacks.pop();
      },
    };
    const stream = protocol === 'sotw' ? new AdsStream({ ...shared, call: call as AdsCall, encode: this.encode }) : new DeltaAdsStream({ ...shared, call: call as DeltaCall });
    this.streams.add(stream);
    this.logger.info({ client: identity, stream: stream.id, protocol }, 'xDS client connected');
    call.on('data', (request: unknown) => {
      if (!view.known) {
        // The node is in the first request of a stream (xDS protocol, "Node"): the view is fixed then.
        view.known = true;
        view.certificateProvider = certificateProviderOf((request as { node?: unknown }).node);
        if (view.certificateProvider !== undefined) view.key = `${identity}\u0000${view.certificateProvider}`;
        this.callers.set(view.key, (this.callers.get(view.key) ?? 0) + 1);
      }
      try {
        // The stream's own request type: each call was handed to the stream of its protocol.
        stream.receive(request as never);
      } catch (err) {
        this.logger.warn({ client: identity, err: String(err) }, 'xDS request failed');
        call.emit('error', { code: grpc.status.INTERNAL, details: String(err) });
      }
    });
    const end = (): void => {
      if (!this.streams.delete(stream) || !view.known) return;
      const left = (this.callers.get(view.key) ?? 1) - 1;
      if (left > 0) this.callers.set(view.key, left);
      else {
        this.callers.delete(view.key);
        this.built.delete(view.key);
        this.decisions.delete(view.key);
      }
      this.logger.info({ client: identity, stream: stream.id }, 'xDS client gone');
    };
    call.on('end', () => {
      end();
      call.end();
    });
    call.on('error', end);
    call.on('close', end);
    call.on('cancelled', end);
  }

  /** Every `<service>:<port>` of the catalog: what a wildcard subscription covers (each then filtered by access). */
  private allNames(_kind: ResourceKind): string[] {
    const { catalog } = this.options;
    this.allNamesHeld ??= catalog.serviceKeys().flatMap((key) => (catalog.resolve(key)?.ports ?? []).map((p) => `${key}:${p.port}`));
    return this.allNamesHeld;
  }

  /** The resource `name` of `kind` as `caller` may see it: as built last, unless what it is made of changed since. */
  private build(view: ClientView, kind: ResourceKind, name: string): BuiltResource | undefined {
    let byKind = this.built.get(view.key);
    if (byKind === undefined) this.built.set(view.key, byKind = new Map());
    let byName = byKind.get(kind);
    if (byName === undefined) byKind.set(kind, byName = new Map());
    if (byName.has(name)) return byName.get(name);
    // Noted before the build: a build that throws is tried again when its service changes. A
    // name that is no service's never exists: nothing drops it.
    const service = targetOf(name)?.key;
    if (service === undefined && serverListenerAddress(name) !== undefined) this.serverListenerNames.add(name);
    if (service !== undefined) {
      let names = this.namesByService.get(service);
      if (names === undefined) this.namesByService.set(service, names = new Set());
      names.add(name);
    }
    const { catalog, engine, locality } = this.options;
    let decisions = this.decisions.get(view.key);
    if (decisions === undefined) this.decisions.set(view.key, decisions = new Map());
    const resource = buildResource(kind, name, {
      catalog, engine, caller: view.identity, locality, outbound: this.options.outbound(), certificateProvider: view.certificateProvider, decisions,
    });
    const made = resource === undefined ? undefined : builtResource(resource);
    byName.set(name, made);
    return made;
  }

  private catalogChanged(changes: readonly CatalogChange[]): void {
    const services = new Set(changes.map((c) => serviceKey(c.record.name, c.record.namespace)));
    // A TrafficSplit's service is decided over its backends too: any catalog change may change it.
    for (const split of this.options.engine.policies().splits.keys()) services.add(split);
    for (const name of this.serverListenerNames) {
      for (const byKind of this.built.values()) byKind.get('listener')?.delete(name);
      this.dirty?.add(name);
    }
    this.serverListenerNames.clear();
    for (const service of services) {
      const names = this.namesByService.get(service);
      if (names === undefined) continue;
      this.namesByService.delete(service);
      for (const byKind of this.built.values()) for (const byName of byKind.values()) for (const name of names) byName.delete(name);
      for (const byName of this.decisions.values()) for (const name of names) byName.delete(name);
      for (const name of names) this.dirty?.add(name);
    }
    this.allNamesHeld = undefined;
    this.changed();
  }

  private dropAll(): void {
    this.built.clear();
    this.decisions.clear();
    this.serverListenerNames.clear();
    this.namesByService.clear();
    this.allNamesHeld = undefined;
    this.dirty = undefined;
  }

  private changed(): void {
    if (this.pending !== undefined || this.closing !== undefined) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      const dirty = this.dirty;
      this.dirty = new Set();
      for (const stream of this.streams) {
        // A client holding none of the names whose resources changed gets nothing new: not rebuilt.
        if (dirty !== undefined && !stream.concerns(dirty)) continue;
        try {
          stream.refresh();
        } catch (err) {
          this.logger.warn({ stream: stream.id, err: String(err) }, 'xDS push failed');
        }
      }
    }, this.options.debounceMs ?? 20);
    this.pending.unref();
  }
}
