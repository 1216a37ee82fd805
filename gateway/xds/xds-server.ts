import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { listenOn, silentLogger, type CatalogReader, type Locality, type Logger } from '../../registry/index.js';
import { MtlsServer, type ConnectionLimits, type PeerIdentity, type SvidSource, type TrustReader } from '../../federation/index.js';
import type { PolicyEngine } from '../policy/policy-engine.js';
import { AdsStream, type AdsCall, type AdsClientStatus } from './ads-stream.js';
import { DeltaAdsStream, type DeltaCall } from './delta-stream.js';
import { adsService, TYPE_URLS, type ResourceKind } from './xds-protos.js';
import { buildResource, type AnyResource } from './xds-resources.js';
import type { ClusterLoadAssignment } from './generated/envoy/config/endpoint/v3/ClusterLoadAssignment.js';
import type { LbEndpoint } from './generated/envoy/config/endpoint/v3/LbEndpoint.js';

export interface XdsServerOptions {
  svid: SvidSource;
  trust: TrustReader;
  catalog: CatalogReader & { onChange(listener: () => void): () => void };
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
  /** Subscribe to everything that changes what a client sees: catalog, policies, gateway liveness. */
  triggers: Array<(look: () => void) => () => void>;
  logger?: Logger;
  handshakeTimeoutMs?: number;
  limits?: Partial<ConnectionLimits>;
  /** Changes within this are pushed together. Default 20 ms. */
  debounceMs?: number;
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
  private readonly verified = new Map<string, { identity: PeerIdentity; sockets: number }>();
  private readonly streams = new Set<AdsStream | DeltaAdsStream>();
  private readonly sockets = new Set<Socket>();
  private readonly unsubscribers: Array<() => void> = [];
  private readonly nacks: Array<{ at: string; identity: string; typeUrl: string; version: string; error: string }> = [];
  private nextId = 1;
  private pending: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: XdsServerOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'xds' });
    this.grpcServer = new grpc.Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
    this.grpcServer.addService(adsService(), {
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
    for (const trigger of options.triggers) this.unsubscribers.push(trigger(() => this.changed()));
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
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.grpcServer.forceShutdown();
          resolve();
        }, graceMs);
        timer.unref();
        this.grpcServer.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
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
    const entry = this.verified.get(peer.fingerprint) ?? { identity: peer, sockets: 0 };
    entry.sockets += 1;
    this.verified.set(peer.fingerprint, entry);
    socket.once('close', () => {
      entry.sockets -= 1;
      if (entry.sockets <= 0) this.verified.delete(peer.fingerprint);
    });
    this.injector.injectConnection(socket);
  }

  /** The verified SVID of a TLS client (by the fingerprint verified at accept), else the identity of its source address. */
  private identityOf(call: AdsCall): string | undefined {
    const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
    if (raw !== undefined) return this.verified.get(createHash('sha256').update(raw).digest('hex'))?.identity.spiffeId;
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
    const context = { catalog: this.options.catalog, engine: this.options.engine, caller: identity, locality: this.options.locality, outbound: this.options.outbound() };
    const shared = {
      id: this.nextId++, identity, logger: this.logger,
      build: (kind: ResourceKind, name: string) => inStableOrder(buildResource(kind, name, { ...context, outbound: this.options.outbound() })),
      all: (kind: ResourceKind) => this.allNames(kind),
      onNack: (nack: { identity: string; typeUrl: string; version: string; error: string }) => {
        this.nacks.unshift({ at: new Date().toISOString(), ...nack });
        if (this.nacks.length > 50) this.nacks.pop();
      },
    };
    const stream = protocol === 'sotw' ? new AdsStream({ ...shared, call: call as AdsCall }) : new DeltaAdsStream({ ...shared, call: call as DeltaCall });
    this.streams.add(stream);
    this.logger.info({ client: identity, stream: stream.id, protocol }, 'xDS client connected');
    call.on('data', (request: unknown) => {
      try {
        // The stream's own request type: each call was handed to the stream of its protocol.
        stream.receive(request as never);
      } catch (err) {
        this.logger.warn({ client: identity, err: String(err) }, 'xDS request failed');
        call.emit('error', { code: grpc.status.INTERNAL, details: String(err) });
      }
    });
    const end = (): void => {
      if (!this.streams.delete(stream)) return;
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
    return catalog.serviceKeys().flatMap((key) => (catalog.resolve(key)?.ports ?? []).map((p) => `${key}:${p.port}`));
  }

  private changed(): void {
    if (this.pending !== undefined || this.closing !== undefined) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      for (const stream of this.streams) {
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

/**
 * A load assignment with each locality's endpoints in address order. The route decision lists
 * local endpoints in a weighted shuffle, so that the data plane spreads its load; an xDS client
 * balances by itself, and in shuffled order each build of the same endpoints would be a new
 * version: pushed again after every ACK, without end.
 */
function inStableOrder(resource: AnyResource | undefined): AnyResource | undefined {
  if (resource?.['@type'] !== TYPE_URLS.endpoints) return resource;
  const key = (e: LbEndpoint): string => {
    const socket = e.endpoint?.address?.socketAddress;
    return `${socket?.address ?? ''}|${String(socket?.portValue ?? 0).padStart(5, '0')}`;
  };
  for (const locality of (resource as unknown as ClusterLoadAssignment).endpoints ?? []) {
    locality.lbEndpoints?.sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
  }
  return resource;
}
