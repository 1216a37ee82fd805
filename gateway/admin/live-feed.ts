import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { CausewayError, ErrorCodes, describeError, silentLogger, type Logger } from '../../registry/index.js';
import { statusFor } from './http-json.js';

export interface LiveFeedOptions {
  /** The message every client is sent: built once per tick, for all of them. */
  read: () => unknown;
  /** Default /v1/live. */
  path?: string;
  /** Default 1 s. */
  intervalMs?: number;
  /** Default 64; one more is closed with 1013 (try again later). */
  maxClients?: number;
  /** A client with more than this still queued is skipped for a tick; default 1 MiB. */
  maxBufferedBytes?: number;
  /** A ping this often; a client that did not answer the last one is dropped. Default 15 s. */
  pingIntervalMs?: number;
  logger?: Logger;
}

/** RFC 6455 §7.4.1 going away (the gateway stops); RFC 6455 registry 1013 try again later (the feed is full). */
const CLOSE_GOING_AWAY = 1001;
const CLOSE_TRY_AGAIN_LATER = 1013;
/** How long a closing client gets to answer our close frame before its socket is cut. */
const CLOSE_GRACE_MS = 1_000;

/**
 * The dashboard's live feed: WebSockets upgraded from the admin listener at /v1/live, each sent
 * the same update at once and then every interval. One timer serves every client; it runs only
 * while one is connected. Clients only listen: what they send is dropped, and a frame over 4 KiB
 * closes them.
 */
export class LiveFeed {
  private readonly wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: 4096 });
  /** Each client, and whether it answered the last ping. */
  private readonly clients = new Map<WebSocket, { alive: boolean }>();
  private readonly logger: Logger;
  private readonly settings: Required<Omit<LiveFeedOptions, 'logger'>>;
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private closed = false;

  constructor(private readonly server: Server, options: LiveFeedOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'live-feed' });
    this.settings = { path: '/v1/live', intervalMs: 1_000, maxClients: 64, maxBufferedBytes: 1024 * 1024, pingIntervalMs: 15_000, ...options };
    server.on('upgrade', this.onUpgrade);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Closes every client (1001) and stops the timer; later upgrades are refused by the HTTP server. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.server.off('upgrade', this.onUpgrade);
    this.stopTimer();
    await Promise.all([...this.clients.keys()].map((ws) => closeWithin(ws, CLOSE_GOING_AWAY, 'the gateway is shutting down')));
    this.wss.close();
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const pathname = urlOf(req.url ?? '/', 'http://admin.invalid')?.pathname ?? req.url;
    if (pathname !== this.settings.path) {
      refuse(socket, new CausewayError(ErrorCodes.NOT_FOUND, `no route ${req.method ?? 'GET'} ${pathname} (the live feed is ${this.settings.path})`));
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && hostOf(origin) !== req.headers.host) {
      refuse(socket, new CausewayError(ErrorCodes.ORIGIN_REFUSED, `a page of ${origin} may not read this gateway's live feed`));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.clients.size >= this.settings.maxClients) {
        this.logger.warn({ clients: this.clients.size }, 'live feed full: a client was refused');
        ws.close(CLOSE_TRY_AGAIN_LATER, `the live feed is full (${this.settings.maxClients} clients)`);
        return;
      }
      this.join(ws);
    });
  };

  private join(ws: WebSocket): void {
    const client = { alive: true };
    this.clients.set(ws, client);
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('error', (err) => {
      this.logger.debug({ err: describeError(err) }, 'live feed client failed');
      ws.terminate();
    });
    ws.once('close', () => this.leave(ws));
    const message = this.message();
    if (message !== undefined) ws.send(message);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), this.settings.intervalMs);
      this.timer.unref();
    }
    this.logger.debug({ clients: this.clients.size }, 'live feed client joined');
  }

  private leave(ws: WebSocket): void {
    this.clients.delete(ws);
    if (this.clients.size === 0) this.stopTimer();
  }

  private tick(): void {
    this.ticks += 1;
    const pingNow = this.ticks % Math.max(1, Math.round(this.settings.pingIntervalMs / this.settings.intervalMs)) === 0;
    const message = this.message();
    for (const [ws, client] of this.clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (pingNow) {
        if (!client.alive) {
          ws.terminate();
          continue;
        }
        client.alive = false;
        ws.ping();
      }
      // A reader that cannot keep up misses updates instead of the gateway queueing them for it.
      if (message !== undefined && ws.bufferedAmount <= this.settings.maxBufferedBytes) ws.send(message);
    }
  }

  /** The update as JSON text, or undefined (logged) when it cannot be built this time. */
  private message(): string | undefined {
    try {
      return JSON.stringify(this.settings.read());
    } catch (err) {
      this.logger.error({ err: describeError(err) }, 'live feed update failed');
      return undefined;
    }
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The `host[:port]` of an Origin header (RFC 6454 §7), or undefined for "null" and garbage. */
function hostOf(origin: string): string | undefined {
  return urlOf(origin)?.host;
}

/** `new URL`, or undefined for what does not parse (URL.parse is newer than Node 20.0). */
function urlOf(text: string, base?: string): URL | undefined {
  try {
    return new URL(text, base);
  } catch {
    return undefined;
  }
}

/** Answers an upgrade request that will not become a WebSocket, with the admin API's error body, and closes it. */
function refuse(socket: Duplex, err: CausewayError): void {
  const status = statusFor(err);
  const body = `${JSON.stringify({ error: err.toJSON() })}\n`;
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/** Closes `ws` with `code`, and cuts its socket if the close handshake has not finished within the grace. */
function closeWithin(ws: WebSocket, code: number, reason: string): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const cut = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    cut.unref();
    ws.once('close', () => {
      clearTimeout(cut);
      resolve();
    });
    ws.close(code, reason);
  });
}
