import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { describeError, silentLogger, type Logger } from '../../registry/index.js';
import { MtlsServer, isGatewayIdentity, parseSpiffeId, type PeerIdentity, type SvidSource, type TrustReader } from '../../federation/index.js';
import { bridge } from '../dataplane/bridge.js';
import { IdleSweeper } from '../dataplane/idle-sweeper.js';
import { SIDECAR_ALPN, portOfSidecarServerName } from '../dataplane/endpoint-connector.js';
import { connectTcp } from '../dataplane/tcp-connect.js';

export interface AgentInboundOptions {
  svid: SvidSource;
  trust: TrustReader;
  trustDomain: string;
  /** The local ports of the services this agent registered: only these are served. */
  ports: () => ReadonlySet<number>;
  /** Where the services listen on this host. Default 127.0.0.1. */
  localHost?: string;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  logger?: Logger;
}

export interface AgentInboundStats {
  accepted: number;
  refused: number;
  open: number;
}

/**
 * The agent's inbound listener — the sidecar half that faces the mesh (docs/protocol.md,
 * "Agent sidecar hop"). It terminates the mTLS hop a gateway opens to an endpoint with a
 * `sidecarPort`: TLS 1.3 on the shared MtlsServer with the agent's SVID, a client certificate
 * required and chained to our own trust domain, and only gateway identities admitted — the
 * gateway has already decided access and told an HTTP backend the caller in
 * x-forwarded-client-cert, so a workload that skipped the gateway would skip policy. The SNI
 * names the local port; a port this agent did not register is refused before any byte moves.
 */
export class AgentInbound {
  private readonly logger: Logger;
  private readonly mtls: MtlsServer;
  private readonly sweeper = new IdleSweeper();
  private readonly sockets = new Set<TLSSocket>();
  private readonly counters = { accepted: 0, refused: 0 };
  private closed = false;

  constructor(private readonly options: AgentInboundOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'agent-inbound' });
    this.mtls = new MtlsServer({
      svid: options.svid, trust: options.trust, alpn: [SIDECAR_ALPN],
      admit: (peer) => admitGateway(peer, options.trustDomain),
      onConnection: (socket, peer) => this.onConnection(socket, peer),
      logger: this.logger,
      // Idleness is judged on the bridged bytes (below), as for a gateway's tunnels.
      idleTimeoutMs: 0,
      ...(options.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: options.handshakeTimeoutMs }),
    });
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return this.mtls.listen(host, port);
  }

  stats(): AgentInboundStats {
    return { ...this.counters, refused: this.counters.refused + this.mtls.refusals(), open: this.sockets.size };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.mtls.destroy();
    for (const socket of this.sockets) socket.destroy();
    this.sweeper.close();
  }

  private onConnection(socket: TLSSocket, peer: PeerIdentity | undefined): void {
    const port = portOfSidecarServerName(socket.servername);
    const refuse = (reason: string): void => {
      this.counters.refused += 1;
      this.logger.info({ peer: peer?.spiffeId, servername: socket.servername, reason }, 'inbound connection refused');
      socket.destroy();
    };
    if (this.closed || peer === undefined) return refuse('no verified peer');
    if (port === undefined) return refuse(`server name ${String(socket.servername)} does not name a port (port-<n>.sidecar.invalid)`);
    if (!this.options.ports().has(port)) return refuse(`port ${port} is not a port of a service this agent registered`);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', (err) => this.logger.debug({ peer: peer.spiffeId, err: describeError(err) }, 'inbound connection error'));
    socket.pause();
    const host = this.options.localHost ?? '127.0.0.1';
    connectTcp(host, port, this.options.connectTimeoutMs ?? 5000).then((upstream) => {
      if (socket.destroyed) {
        upstream.destroy();
        return;
      }
      this.counters.accepted += 1;
      bridge(socket, upstream, { idleTimeoutMs: this.options.idleTimeoutMs ?? 300_000, sweeper: this.sweeper });
      socket.resume();
    }, (err: unknown) => {
      this.logger.warn({ peer: peer.spiffeId, port, err: describeError(err) }, 'local service did not accept the connection');
      this.counters.refused += 1;
      socket.destroy();
    });
  }
}

/** Only a gateway of our own trust domain may open the sidecar hop. */
function admitGateway(peer: PeerIdentity, trustDomain: string): string | undefined {
  if (peer.trustDomain !== trustDomain) return `${peer.spiffeId} is outside trust domain ${trustDomain}`;
  if (!isGatewayIdentity(parseSpiffeId(peer.spiffeId))) return `${peer.spiffeId} is not a gateway; workloads reach this host through their gateway`;
  return undefined;
}
