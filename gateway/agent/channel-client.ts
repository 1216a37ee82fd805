import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import { describeError, silentLogger, type Logger } from '../../registry/index.js';
import type { SvidSource, TrustReader } from '../../federation/index.js';
import { checkGatewayCertificate } from './check-gateway.js';
import { parseHostPort, formatHostPort } from '../config/address.js';
import { refuseLookup } from '../dataplane/tcp-connect.js';

/** The agent channel path on the gateway's identity listener (gateway/agent-channel). */
const CHANNEL_PATH = '/v1/agent';

export interface ChannelClientOptions {
  /** host:port of the gateway's identity listener. */
  address: () => string;
  trustDomain: string;
  svid: SvidSource;
  trust: TrustReader;
  /** The register frame to send on every (re)connection: the host's services as they are now. */
  registration: () => Record<string, unknown>;
  /** First reconnect delay; doubles per failure up to maxBackoffMs, with jitter. Default 250 ms. */
  minBackoffMs?: number;
  /** Default 15 000 ms. */
  maxBackoffMs?: number;
  /** Ping the gateway this often; no pong for two intervals closes the channel. Default 5000 ms. */
  pingIntervalMs?: number;
  connectTimeoutMs?: number;
  logger?: Logger;
  /** Told after every register acknowledged (a test waits on it; the agent logs it). */
  onRegistered?: (services: readonly string[]) => void;
  /** Told the gateway's outbound listener from each register ack. */
  onOutbound?: (address: string) => void;
}

interface Pending {
  of: string;
  resolve: (answer: Record<string, unknown>) => void;
  reject: (err: Error) => void;
}

/**
 * The agent's end of the agent control channel (docs/protocol.md, "Agent control channel"):
 * `wss://<identity listener>/v1/agent` with the agent's SVID as client certificate, the
 * gateway checked by SPIFFE ID against our own bundle. On every connection it registers the
 * host's services first (a gateway restarted, or the lease ran, so nothing is assumed kept),
 * then sends health changes. Each frame gets exactly one answer, in order — an ack or an error
 * frame. A dropped channel is reopened with capped exponential backoff and full jitter (so a
 * restarted gateway is not met by every agent at once).
 */
export class ChannelClient {
  private readonly logger: Logger;
  private ws: WebSocket | undefined;
  private readonly pending: Pending[] = [];
  private registered = false;
  /** The connection the last register frame went out on. */
  private registerSentOn: WebSocket | undefined;
  private failures = 0;
  private connections = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: ChannelClientOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'agent-channel-client' });
  }

  start(): void {
    this.connect();
  }

  /**
   * Reports a health change. Once this connection's register frame is sent it goes at once,
   * even before the ack: the gateway takes frames in order, so it lands after the register (a
   * change between sending the register and its ack would otherwise be lost). Before that, the
   * register frame itself carries the health of the moment.
   */
  health(service: string, health: 'healthy' | 'unhealthy'): void {
    const ws = this.ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN || this.registerSentOn !== ws) return;
    this.send(ws, { v: 1, type: 'health', service, health }).catch((err: unknown) => {
      this.logger.warn({ service, err: describeError(err) }, 'health report refused');
    });
  }

  /**
   * Clean shutdown (SIGTERM): deregister and wait for the gateway's ack (bounded), so the
   * endpoints go at once instead of after the lease; then close for good.
   */
  async deregister(timeoutMs = 3000): Promise<boolean> {
    const ws = this.ws;
    let done = false;
    // Stopping: a channel that drops now is not reopened.
    this.closed = true;
    if (ws !== undefined && ws.readyState === WebSocket.OPEN && this.registered) {
      const acked = this.send(ws, { v: 1, type: 'deregister' }).then(() => true, () => false);
      const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
      done = await Promise.race([acked, timeout]);
    }
    this.close();
    return done;
  }

  close(): void {
    this.closed = true;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    if (this.pinger !== undefined) clearInterval(this.pinger);
    this.ws?.terminate();
    this.ws = undefined;
    this.failPending(new Error('channel closed'));
  }

  private connect(): void {
    if (this.closed) return;
    const address = parseHostPort(this.options.address());
    if (typeof address === 'string') {
      this.logger.error({ err: `gateway address: ${address}` }, 'cannot connect the agent channel');
      return;
    }
    const svid = this.options.svid.current();
    const roots = this.options.trust.get(this.options.trustDomain)?.rootsPem ?? [];
    // ws hands these options to tls.connect, whose checkServerIdentity returns an Error (or
    // undefined) — @types/ws declares a boolean-returning one it never calls; hence the cast.
    const tlsOptions: ConnectionOptions = {
      cert: svid.certChainPem, key: svid.keyPem, ca: [...roots], minVersion: 'TLSv1.3',
      checkServerIdentity: (_host: string, cert: PeerCertificate) => checkGatewayCertificate(cert, this.options.trustDomain),
    };
    const ws = new WebSocket(`wss://${formatHostPort(address)}${CHANNEL_PATH}`, {
      ...(tlsOptions as unknown as ClientOptions), lookup: refuseLookup,
      handshakeTimeout: this.options.connectTimeoutMs ?? 10_000,
      perMessageDeflate: false,
      maxPayload: 1 << 20,
    });
    this.ws = ws;
    let alive = true;
    ws.on('open', () => {
      this.connections += 1;
      this.logger.info({ gateway: formatHostPort(address), connection: this.connections }, 'agent channel open');
      this.pinger = setInterval(() => {
        if (!alive) {
          this.logger.warn('no pong from the gateway for two intervals; reconnecting');
          ws.terminate();
          return;
        }
        alive = false;
        ws.ping();
      }, this.options.pingIntervalMs ?? 5000);
      this.pinger.unref();
      this.register(ws);
    });
    ws.on('pong', () => { alive = true; });
    ws.on('ping', () => { alive = true; });
    ws.on('message', (data: RawData) => this.onMessage(data));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk.slice(0, 4096); });
      res.on('end', () => {
        this.logger.warn({ status: res.statusCode, body: body.slice(0, 300) }, 'the gateway refused the agent channel');
      });
      ws.terminate();
    });
    ws.on('error', (err) => {
      this.logger.debug({ err: describeError(err) }, 'agent channel error');
    });
    ws.on('close', (code, reason) => {
      if (this.pinger !== undefined) clearInterval(this.pinger);
      if (this.ws !== ws) return;
      this.ws = undefined;
      const wasRegistered = this.registered;
      this.registered = false;
      this.failPending(new Error(`channel closed (${code} ${reason.toString()})`));
      if (this.closed) return;
      if (wasRegistered) this.failures = 0;
      const delay = this.backoff();
      this.failures += 1;
      this.logger.info({ code, reason: reason.toString(), retryInMs: Math.round(delay) }, 'agent channel closed; reconnecting');
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
      this.reconnectTimer.unref();
    });
  }

  /** Full-jitter exponential backoff (a random delay up to the capped exponential). */
  private backoff(): number {
    const min = this.options.minBackoffMs ?? 250;
    const cap = Math.min(this.options.maxBackoffMs ?? 15_000, min * 2 ** this.failures);
    return min + Math.random() * Math.max(0, cap - min);
  }

  private register(ws: WebSocket): void {
    const frame = { v: 1, type: 'register', ...this.options.registration() };
    const sent = this.send(ws, frame);
    this.registerSentOn = ws;
    sent.then((ack) => {
      this.registered = true;
      const services = Array.isArray(ack.services) ? ack.services.filter((s): s is string => typeof s === 'string') : [];
      if (typeof ack.outbound === 'string') this.options.onOutbound?.(ack.outbound);
      this.logger.info({ services }, 'services registered');
      this.options.onRegistered?.(services);
    }, (err: unknown) => {
      this.logger.error({ err: describeError(err) }, 'the gateway refused the registration');
    });
  }

  private send(ws: WebSocket, frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const entry: Pending = { of: String(frame.type), resolve, reject };
      this.pending.push(entry);
      ws.send(JSON.stringify(frame), (err) => {
        if (err === undefined || err === null) return;
        const at = this.pending.indexOf(entry);
        if (at >= 0) this.pending.splice(at, 1);
        reject(err);
      });
    });
  }

  /** The answer to the oldest frame still waiting: the gateway handles frames one at a time, in order. */
  private onMessage(data: RawData): void {
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8')) as Record<string, unknown>;
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'the gateway sent a frame that is not JSON; ignored');
      return;
    }
    const entry = this.pending.shift();
    if (entry === undefined) {
      this.logger.debug({ type: frame.type }, 'unsolicited frame from the gateway; ignored');
      return;
    }
    if (frame.type === 'ack') entry.resolve(frame);
    else entry.reject(new Error(`${String(frame.code)}: ${String(frame.message)} (${entry.of} frame)`));
  }

  private failPending(err: Error): void {
    for (const entry of this.pending.splice(0)) entry.reject(err);
  }
}
