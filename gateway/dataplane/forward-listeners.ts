import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { CausewayError, ErrorCodes, describeError, listenOn, silentLogger, type Logger } from '../../registry/index.js';
import { formatIpAddress, formatMeshAuthority, type MeshAuthority } from './mesh-address.js';

/** One fixed local forward port: every connection to `listen` is a tunnel to `service`. */
export interface ForwardRule {
  listen: { host: string; port: number };
  service: MeshAuthority;
}

/** What serves a forwarded connection (OutboundProxy.forward). */
export interface ForwardHandler {
  forward(socket: Socket, target: MeshAuthority, via: string): void;
}

export interface ForwardListenersOptions {
  handler: ForwardHandler;
  /**
   * Connections all the forward ports hold together; beyond it a new one is closed as it
   * arrives (limits.maxConnections), so a flood on them cannot take the gateway's descriptors.
   */
  maxConnections?: number;
  logger?: Logger;
}

/** A forward port as status shows it. */
export interface ForwardStatus {
  /** The bound address, `ip:port`. */
  listen: string;
  /** `<service>.<namespace>:<port>`. */
  service: string;
  /** Connections open now. */
  connections: number;
}

interface Forward {
  server: Server;
  service: MeshAuthority;
  sockets: Set<Socket>;
}

/**
 * The fixed local forward ports of a gateway (`outbound.forward`, and the ports the Consul
 * publisher gives each published service): one node:net server per port, each connection
 * handed at once to the handler as a tunnel to the port's one service. The handler owns the
 * connection from then on, with the outbound listener's timeouts (connect per candidate,
 * headers and keep-alive for HTTP, idle for tunnels); this class only binds, counts, caps and
 * closes. Ports can be added and removed while the gateway runs (the publisher does).
 */
export class ForwardListeners {
  private readonly forwards = new Map<string, Forward>();
  private readonly logger: Logger;
  private open = 0;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: ForwardListenersOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'forward' });
  }

  /**
   * Binds `rule.listen` and serves it. Rejects CW_LISTEN_FAILED when the address cannot be
   * bound (in use, not local), naming it; CW_CLOSED once closed. Resolves to the bound address.
   */
  async add(rule: ForwardRule): Promise<AddressInfo> {
    if (this.closing !== undefined) throw new CausewayError(ErrorCodes.CLOSED, 'forward listeners are closed');
    const wanted = formatIpAddress(rule.listen.host, rule.listen.port);
    const service = formatMeshAuthority(rule.service);
    const sockets = new Set<Socket>();
    let via = `forward ${wanted}`;
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket, sockets, rule.service, via));
    server.on('error', (err) => this.logger.warn({ listen: via, err: describeError(err) }, 'forward listener error'));
    let address: AddressInfo;
    try {
      address = await listenOn(server, rule.listen.host, rule.listen.port);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'the address is already in use' : describeError(err);
      throw new CausewayError(ErrorCodes.LISTEN_FAILED, `forward to ${service}: cannot listen on ${wanted}: ${reason}`, { cause: err });
    }
    const bound = formatIpAddress(address.address, address.port);
    via = `forward ${bound}`;
    if (this.closing !== undefined || this.forwards.has(bound)) {
      server.close();
      throw new CausewayError(this.closing === undefined ? ErrorCodes.LISTEN_FAILED : ErrorCodes.CLOSED, `forward to ${service}: ${bound} is already a forward port`);
    }
    this.forwards.set(bound, { server, service: rule.service, sockets });
    this.logger.info({ listen: bound, service }, 'forward port listening');
    return address;
  }

  /** Stops serving the forward port bound at `listen` (`ip:port`) and closes its connections. */
  async remove(listen: string): Promise<void> {
    const forward = this.forwards.get(listen);
    if (forward === undefined) return;
    this.forwards.delete(listen);
    await stop(forward);
    this.logger.info({ listen, service: formatMeshAuthority(forward.service) }, 'forward port closed');
  }

  has(listen: string): boolean {
    return this.forwards.has(listen);
  }

  list(): ForwardStatus[] {
    return [...this.forwards].map(([listen, f]) => ({ listen, service: formatMeshAuthority(f.service), connections: f.sockets.size }));
  }

  /** Stops every forward port and closes their connections. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const all = [...this.forwards.values()];
      this.forwards.clear();
      await Promise.all(all.map(stop));
    })();
    return this.closing;
  }

  private accept(socket: Socket, sockets: Set<Socket>, service: MeshAuthority, via: string): void {
    const max = this.options.maxConnections;
    if (this.closing !== undefined || (max !== undefined && this.open >= max)) {
      if (this.closing === undefined) this.logger.warn({ listen: via, maxConnections: max }, 'forward ports hold their maximum of connections; closing a new one');
      socket.destroy();
      return;
    }
    this.open += 1;
    sockets.add(socket);
    socket.once('close', () => {
      this.open -= 1;
      sockets.delete(socket);
    });
    try {
      this.options.handler.forward(socket, service, via);
    } catch (err) {
      this.logger.error({ listen: via, err: describeError(err) }, 'forward handler failed');
      socket.destroy();
    }
  }
}

function stop(forward: Forward): Promise<void> {
  return new Promise((resolve) => {
    forward.server.close(() => resolve());
    for (const socket of forward.sockets) socket.destroy();
  });
}

/** Opens the configured forward ports in order; a failure names the entry (`outbound.forward[1]: ...`). */
export async function addForwards(listeners: ForwardListeners, rules: readonly ForwardRule[], path: string): Promise<void> {
  for (const [i, rule] of rules.entries()) {
    try {
      await listeners.add(rule);
    } catch (err) {
      if (!(err instanceof CausewayError)) throw err;
      throw new CausewayError(err.code, `${path}[${i}]: ${err.message}`, { cause: err });
    }
  }
}
