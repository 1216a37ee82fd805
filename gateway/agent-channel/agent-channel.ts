import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  CausewayError, ErrorCodes, describeError, silentLogger, type AgentSource, type Locality, type Logger,
} from '../../registry/index.js';
import { parseSpiffeId, peerChainOf, verifyPeerChain, type PeerIdentity, type TrustReader } from '../../federation/index.js';
import { ackFrame, errorFrame, parseAgentFrame } from './agent-frames.js';

export const AGENT_CHANNEL_PATH = '/v1/agent';

export interface AgentChannelOptions {
  trustDomain: string;
  trust: TrustReader;
  agents: AgentSource;
  /** The gateway's locality; agents' endpoints are in its cluster. */
  locality: Locality;
  logger?: Logger;
  /** A frame larger than this is refused with CW_FRAME_TOO_LARGE (default 64 KiB). */
  maxFrameBytes?: number;
  /** Ping interval; a channel that misses two pongs is closed and its lease starts (default 5 s). */
  pingIntervalMs?: number;
  /** The gateway's outbound listener (host:port), told to agents in the register ack: where the host's apps' calls go. */
  outbound?: () => string | undefined;
}

/** WebSocket close codes of the channel (4000-4999: private use, RFC 6455 §7.4.2). */
export const CLOSE_REPLACED = 4001;

/**
 * The agent control channel (design brief port 15017, on the identity listener):
 * `GET /v1/agent` upgraded to a WebSocket, allowed only with a client certificate that is an
 * SVID of our own trust domain — the one the agent obtained by join token and CSR, its key
 * never having left the host. Frames (agent-frames.ts) are handled one at a time per agent,
 * in order; a refused frame is answered with an error frame and changes nothing, and never
 * touches another agent's channel. One channel per agent identity: a newer one replaces the
 * older (an agent reconnecting before the gateway saw the old socket die).
 */
export class AgentChannel {
  private readonly wss: WebSocketServer;
  private readonly logger: Logger;
  private readonly maxFrameBytes: number;
  private readonly channels = new Map<string, WebSocket>();
  private readonly pinger: NodeJS.Timeout;
  private readonly alive = new WeakSet<WebSocket>();
  private closed = false;

  constructor(private readonly options: AgentChannelOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'agent-channel' });
    this.maxFrameBytes = options.maxFrameBytes ?? 64 * 1024;
    // ws drops a connection past maxPayload (close 1009) without a word; frames up to 4× the
    // cap are read, so an oversized one can be refused with a code and the channel kept.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.maxFrameBytes * 4, perMessageDeflate: false });
    this.pinger = setInterval(() => this.ping(), options.pingIntervalMs ?? 5000);
    this.pinger.unref();
  }

  /** The identity listener's upgrade handler: authenticates, then opens the channel. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'https://identity.invalid');
    if (this.closed) return refuse(socket, 503, ErrorCodes.CLOSED, 'the gateway is shutting down');
    if (url.pathname !== AGENT_CHANNEL_PATH) return refuse(socket, 404, ErrorCodes.NOT_FOUND, `no WebSocket endpoint ${url.pathname}`);
    let peer: PeerIdentity;
    try {
      peer = this.authenticate(socket as TLSSocket);
    } catch (err) {
      const e = err as CausewayError;
      this.logger.info({ remote: (socket as TLSSocket).remoteAddress, reason: e.message }, 'agent refused');
      return refuse(socket, e.code === ErrorCodes.IDENTITY_REFUSED ? 401 : 403, e.code, e.message);
    }
    // The identity listener's idle timeout is for HTTP requests; the channel lives on pings.
    (socket as TLSSocket).setTimeout(0);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, peer.spiffeId, (socket as TLSSocket).remoteAddress ?? ''));
  }

  /** Agents with an open channel (status API). */
  connectedAgents(): string[] {
    return [...this.channels.keys()].sort();
  }

  /** Closes every channel (1001 going away) WITHOUT deregistering: agents keep their lease. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pinger);
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  /** The rule of the channel's door: an SVID of our trust domain, not a gateway's. */
  private authenticate(socket: TLSSocket): PeerIdentity {
    const chain = peerChainOf(socket);
    if (chain.length === 0) {
      throw new CausewayError(ErrorCodes.IDENTITY_REFUSED, 'the agent channel needs the agent\'s SVID as client certificate (join with a token first: POST /v1/svid)');
    }
    let peer: PeerIdentity;
    try {
      peer = verifyPeerChain(chain, this.options.trust);
    } catch (err) {
      throw new CausewayError(ErrorCodes.IDENTITY_REFUSED, `the client certificate is not accepted: ${describeError(err)}`);
    }
    if (peer.trustDomain !== this.options.trustDomain) {
      throw new CausewayError(ErrorCodes.IDENTITY_NOT_GRANTED, `${peer.spiffeId} is not of trust domain ${this.options.trustDomain}; an agent joins the gateway that issued its SVID`);
    }
    if (parseSpiffeId(peer.spiffeId).path.startsWith('/gateway/')) {
      throw new CausewayError(ErrorCodes.IDENTITY_NOT_GRANTED, `${peer.spiffeId} is a gateway identity, not an agent's`);
    }
    return peer;
  }

  private open(ws: WebSocket, agent: string, remoteAddress: string): void {
    const previous = this.channels.get(agent);
    this.channels.set(agent, ws);
    previous?.close(CLOSE_REPLACED, 'replaced by a newer channel of the same agent');
    this.alive.add(ws);
    ws.on('pong', () => this.alive.add(ws));
    const log = this.logger.child({ agent });
    log.info({ remote: remoteAddress }, 'agent connected');
    this.options.agents.connected(agent);
    let registered = false;
    let queue: Promise<void> = Promise.resolve();
    ws.on('message', (data: RawData, isBinary: boolean) => {
      // One frame at a time, in arrival order: a health report never overtakes its register.
      queue = queue.then(async () => {
        const bytes = size(data);
        if (bytes > this.maxFrameBytes) throw new CausewayError(ErrorCodes.FRAME_TOO_LARGE, `the frame is ${bytes} bytes; the limit is ${this.maxFrameBytes}`);
        if (isBinary) throw new CausewayError(ErrorCodes.FRAME_INVALID, 'frames are JSON text messages, not binary');
        const frame = parseAgentFrame(rawText(data), { agentId: agent, locality: this.options.locality, remoteAddress });
        if (frame.type === 'heartbeat') {
          ws.send(ackFrame('heartbeat'));
          return;
        }
        if (frame.type === 'register') {
          await this.options.agents.register(agent, frame.declarations, frame.host);
          registered = true;
          const outbound = this.options.outbound?.();
          ws.send(ackFrame('register', { services: frame.declarations.map((d) => `${d.name}.${d.namespace}`), ...(outbound === undefined ? {} : { outbound }) }));
          return;
        }
        if (!registered) throw new CausewayError(ErrorCodes.FRAME_INVALID, `a ${frame.type} frame before this channel's register frame is out of order`);
        if (frame.type === 'health') {
          await this.options.agents.setHealth(agent, frame.service, frame.health);
          ws.send(ackFrame('health', { service: frame.service }));
          return;
        }
        await this.options.agents.deregister(agent);
        registered = false;
        ws.send(ackFrame('deregister'));
        ws.close(1000, 'deregistered');
      }).catch((err: unknown) => {
        const e = err instanceof CausewayError ? err : new CausewayError(ErrorCodes.INTERNAL, describeError(err));
        log.info({ code: e.code, reason: e.message }, 'agent frame refused');
        if (ws.readyState === ws.OPEN) ws.send(errorFrame(e.code, e.message, e.details));
      });
    });
    ws.on('error', (err) => log.debug({ reason: err.message }, 'agent channel error'));
    ws.on('close', () => {
      if (this.channels.get(agent) !== ws) return;
      this.channels.delete(agent);
      log.info('agent disconnected');
      // After the last frame: a deregister in flight finishes before the lease could start.
      void queue.then(() => this.options.agents.disconnected(agent));
    });
  }

  private ping(): void {
    for (const ws of this.wss.clients) {
      if (!this.alive.has(ws)) {
        ws.terminate();
        continue;
      }
      this.alive.delete(ws);
      ws.ping();
    }
  }
}

function size(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}

/** An HTTP refusal on the raw socket, before any upgrade: `{"error": {code, message}}`. */
function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
