import { SocketAdapter } from './socket-adapter.js';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  CausewayError, ErrorCodes, describeError, listenOn, silentLogger, type CatalogReader, type Locality, type Logger,
} from '../../registry/index.js';
import { bridge } from './bridge.js';
import { PriorityPicker, type EndpointPicker } from './endpoint-picker.js';
import { CAUSEWAY_ERROR, CAUSEWAY_ROUTE } from './headers.js';
import { forwardableHeaders, headerSafe, rawErrorResponse } from './http-forward.js';
import { parseMeshHost, formatIpAddress, type MeshAuthority } from './mesh-address.js';
import { OutlierTracker } from './outlier-tracker.js';
import { RouteDialer, statusForCode, type DialedRoute } from './route-dialer.js';
import type { TunnelOpener } from './tunnel-client.js';

/** One proxied request or tunnel, for telemetry, the status API and the demo. */
export interface RequestRecord {
  /** When the request arrived (ISO 8601). */
  at: string;
  /** The HTTP method, or CONNECT for a tunnel. */
  method: string;
  /** The mesh name as asked for (a service key when it is one). */
  service: string;
  port: number;
  /** `local <ip:port>` / `remote <cluster> via <gateway> -> <endpoint>`; undefined when nothing was reached. */
  route: string | undefined;
  /** Status answered to the caller (200 for an established tunnel). */
  status: number;
  /** The CW_* code of a refusal or failure. */
  code?: string;
  /** Until the response finished (absolute-form) or the tunnel was established (CONNECT). */
  durationMs: number;
  /** The caller's SPIFFE ID, or "anonymous". */
  source: string;
}

export interface OutboundProxyOptions {
  catalog: CatalogReader;
  tunnels: TunnelOpener;
  /** Locality of this gateway. */
  locality: Locality;
  picker?: EndpointPicker;
  outliers?: OutlierTracker;
  /** Who is calling (design brief, "Who is calling"); undefined = anonymous (the default). */
  callerIdentity?: (remoteAddress: string, socket: Socket) => string | undefined;
  onRequest?: (record: RequestRecord) => void;
  logger?: Logger;
  /** Per candidate. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** No bytes either way on a tunnel, or no progress of an upstream response, for this long. Default 300000 ms. */
  idleTimeoutMs?: number;
  /** A client must send its request headers within this. Default 30000 ms. */
  headersTimeoutMs?: number;
}

/**
 * The local outbound listener (design brief, port 15001): an HTTP proxy that takes
 * absolute-form requests (`GET http://echo.demo:8080/x`, RFC 9112 §3.2.2 — what `curl -x`
 * sends) and CONNECT (`CONNECT echo.demo:8080`, RFC 9110 §9.3.6 — `curl -p -x` and TCP
 * clients). The host is a service key of the federated catalog and nothing else: it is never
 * resolved through DNS, and a host that is not in the catalog is answered 502.
 */
export class OutboundProxy {
  private readonly options: OutboundProxyOptions;
  private readonly logger: Logger;
  private readonly server: Server;
  private readonly dialer: RouteDialer;
  private readonly sockets = new Set<Duplex>();
  private closing: Promise<void> | undefined;

  constructor(options: OutboundProxyOptions) {
    this.options = options;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'outbound' });
    this.dialer = new RouteDialer({
      catalog: options.catalog,
      picker: options.picker ?? new PriorityPicker(),
      outliers: options.outliers ?? new OutlierTracker({ logger: this.logger }),
      tunnels: options.tunnels,
      locality: options.locality,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      logger: this.logger,
    });
    this.server = createServer({ headersTimeout: options.headersTimeoutMs ?? 30_000, requestTimeout: 0 });
    // The handlers catch what they expect; anything else is a bug, answered 500 and logged
    // rather than left as an unhandled rejection.
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.onRequest(req, res).catch((err: unknown) => {
        this.logger.error({ err: describeError(err) }, 'outbound request handler failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json', [CAUSEWAY_ERROR]: ErrorCodes.INTERNAL });
        res.end(JSON.stringify({ code: ErrorCodes.INTERNAL, message: describeError(err) }));
      });
    });
    this.server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.onConnect(req, socket, head).catch((err: unknown) => {
        this.logger.error({ err: describeError(err) }, 'outbound tunnel handler failed');
        socket.destroy();
      });
    });
    this.server.on('connection', (socket: Socket) => this.track(socket));
    this.server.on('clientError', (err: Error, socket: Duplex) => {
      this.logger.debug({ err: describeError(err) }, 'malformed request from a local client');
      if (socket.writable) socket.end(rawErrorResponse(400, ErrorCodes.REQUEST_INVALID, 'malformed HTTP request'));
      else socket.destroy();
    });
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    if (this.closing !== undefined) return Promise.reject(new CausewayError(ErrorCodes.CLOSED, 'outbound proxy is closed'));
    return listenOn(this.server, host, port).then((address) => {
      this.logger.info({ address: formatIpAddress(address.address, address.port) }, 'outbound proxy listening');
      return address;
    });
  }

  address(): AddressInfo | undefined {
    const address = this.server.address();
    return address === null || typeof address === 'string' ? undefined : address;
  }

  /** Stops listening and ends every client connection and tunnel at once. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (!this.server.listening) {
        resolve();
      } else {
        this.server.close(() => resolve());
      }
      for (const socket of this.sockets) socket.destroy();
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  private track(socket: Duplex): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    if (this.closing !== undefined) socket.destroy();
  }

  private caller(socket: Socket): string | undefined {
    try {
      return this.options.callerIdentity?.(socket.remoteAddress ?? '', socket);
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'caller identity lookup failed; treating the caller as anonymous');
      return undefined;
    }
  }

  private emit(record: RequestRecord): void {
    try {
      this.options.onRequest?.(record);
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'onRequest listener threw');
    }
  }

  /** Absolute-form: forward one HTTP request over the chosen byte stream. */
  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const source = this.caller(req.socket);
    const base = { at: new Date().toISOString(), method: req.method ?? 'GET', source: source ?? 'anonymous' };
    const fail = (status: number, err: CausewayError, service: string, port: number): void => {
      this.logger.info({ source: base.source, service: `${service}:${port}`, status, code: err.code, reason: err.message }, 'outbound request refused');
      if (!res.headersSent) {
        res.writeHead(status, { 'content-type': 'application/json', [CAUSEWAY_ERROR]: err.code });
        res.end(JSON.stringify({ code: err.code, message: err.message }));
      } else {
        res.destroy();
      }
      this.emit({ ...base, service, port, route: undefined, status, code: err.code, durationMs: performance.now() - started });
    };

    const raw = req.url ?? '';
    let url: URL | undefined;
    try {
      url = /^http:\/\//i.test(raw) ? new URL(raw) : undefined;
    } catch {
      url = undefined;
    }
    if (url === undefined) {
      const err = new CausewayError(ErrorCodes.REQUEST_INVALID,
        `"${raw.slice(0, 200)}" is not an absolute-form http:// request; send GET http://<service>.<namespace>:<port>/path or CONNECT`);
      return fail(400, err, '', 0);
    }
    const port = url.port === '' ? 80 : Number(url.port);
    const target = parseMeshHost(url.hostname, port);
    if (typeof target === 'string') return fail(502, new CausewayError(ErrorCodes.SERVICE_UNKNOWN, `${target}; nothing is looked up in DNS`), url.hostname, port);

    let dialed: DialedRoute;
    try {
      dialed = await this.dialer.dial(target, source);
    } catch (err) {
      const e = asCausewayError(err);
      return fail(statusForCode(e.code), e, target.key, port);
    }
    if (res.destroyed || res.writableEnded) {
      dialed.stream.destroy();
      return;
    }
    this.forward(req, res, url, target, dialed, () => performance.now() - started, base);
  }

  private forward(
    req: IncomingMessage, res: ServerResponse, url: URL, target: MeshAuthority, dialed: DialedRoute,
    elapsed: () => number, base: Pick<RequestRecord, 'at' | 'method' | 'source'>,
  ): void {
    const headers = forwardableHeaders(req.headers, 'request');
    headers.host = req.headers.host ?? url.host; // the mesh name stays the Host (RFC 9110 §7.2)
    // No agent and our own createConnection: ClientRequest never opens a socket (or does a
    // lookup) of its own; it writes the request onto the dialed stream and, with no agent,
    // sends `Connection: close` and ends the stream after the response.
    const upstream = httpRequest({
      createConnection: () => new SocketAdapter(dialed.stream) as unknown as Socket,
      method: req.method,
      path: `${url.pathname}${url.search}`,
      headers,
      timeout: this.options.idleTimeoutMs ?? 300_000,
    });
    let status = 0;
    const record = (code?: string): void =>
      this.emit({ ...base, service: target.key, port: target.port, route: dialed.route, status, ...(code === undefined ? {} : { code }), durationMs: elapsed() });

    upstream.on('timeout', () => upstream.destroy(new CausewayError(ErrorCodes.UPSTREAM_CONNECT, `no progress from ${dialed.route} within ${this.options.idleTimeoutMs ?? 300_000} ms`)));
    let callerGone = false;
    upstream.on('error', (err) => {
      // A caller hanging up says nothing about the upstream's health.
      if (!callerGone) dialed.settle(false);
      if (!res.headersSent) {
        status = 502;
        res.writeHead(502, { 'content-type': 'application/json', [CAUSEWAY_ERROR]: ErrorCodes.UPSTREAM_CONNECT, [CAUSEWAY_ROUTE]: headerSafe(dialed.route) });
        res.end(JSON.stringify({ code: ErrorCodes.UPSTREAM_CONNECT, message: `${dialed.route}: ${describeError(err)}` }));
        record(ErrorCodes.UPSTREAM_CONNECT);
      } else {
        res.destroy();
      }
      this.logger.info({ source: base.source, service: `${target.key}:${target.port}`, route: dialed.route, err: describeError(err) }, 'upstream request failed');
    });
    upstream.on('response', (answer: IncomingMessage) => {
      status = answer.statusCode ?? 502;
      // Design brief: outlier detection counts connect errors and 5xx answers.
      dialed.settle(status < 500);
      const out = forwardableHeaders(answer.headers, 'response');
      out[CAUSEWAY_ROUTE] = headerSafe(dialed.route);
      res.writeHead(status, answer.statusMessage, out);
      answer.pipe(res);
      answer.on('error', () => res.destroy());
      // The upstream was asked for `Connection: close`; if it keeps its side open anyway, the
      // exchange is over once the response ended, so the stream does not linger.
      answer.once('end', () => {
        const linger = setTimeout(() => dialed.stream.destroy(), 5000);
        linger.unref();
        dialed.stream.once('close', () => clearTimeout(linger));
      });
      res.once('finish', () => record());
      this.logger.debug({ source: base.source, service: `${target.key}:${target.port}`, route: dialed.route, status }, 'outbound request answered');
    });
    // The caller went away: drop the upstream exchange too.
    res.once('close', () => {
      if (res.writableFinished) return;
      callerGone = true;
      upstream.destroy();
    });
    req.pipe(upstream);
  }

  /** CONNECT: answer 200 once a byte stream to the service exists, then splice the two. */
  private async onConnect(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.track(socket);
    socket.on('error', (err) => this.logger.debug({ err: describeError(err) }, 'outbound tunnel client error'));
    const started = performance.now();
    const source = this.caller(req.socket);
    const base = { at: new Date().toISOString(), method: 'CONNECT', source: source ?? 'anonymous' };
    const authority = req.url ?? '';
    const fail = (status: number, err: CausewayError, service: string, port: number): void => {
      this.logger.info({ source: base.source, service: authority, status, code: err.code, reason: err.message }, 'outbound tunnel refused');
      if (socket.writable) socket.end(rawErrorResponse(status, err.code, err.message));
      else socket.destroy();
      this.emit({ ...base, service, port, route: undefined, status, code: err.code, durationMs: performance.now() - started });
    };

    // RFC 9110 §9.3.6: the CONNECT target is authority-form, host and port.
    const shape = /^([^:/?#\s]+):(\d{1,5})$/.exec(authority);
    if (shape === null) {
      return fail(400, new CausewayError(ErrorCodes.REQUEST_INVALID, `CONNECT target "${authority.slice(0, 200)}" is not <service>.<namespace>:<port>`), authority, 0);
    }
    const port = Number(shape[2]);
    const target = parseMeshHost((shape[1] ?? '').toLowerCase(), port);
    if (typeof target === 'string') return fail(502, new CausewayError(ErrorCodes.SERVICE_UNKNOWN, `${target}; nothing is looked up in DNS`), shape[1] ?? '', port);

    let dialed: DialedRoute;
    try {
      dialed = await this.dialer.dial(target, source);
    } catch (err) {
      const e = asCausewayError(err);
      return fail(statusForCode(e.code), e, target.key, port);
    }
    if (socket.destroyed || !socket.writable) {
      dialed.stream.destroy();
      dialed.settle(true);
      return;
    }
    dialed.settle(true);
    socket.write(`HTTP/1.1 200 Connection Established\r\n${CAUSEWAY_ROUTE}: ${headerSafe(dialed.route)}\r\n\r\n`);
    if (head.length > 0) dialed.stream.write(head);
    this.emit({ ...base, service: target.key, port, route: dialed.route, status: 200, durationMs: performance.now() - started });
    this.logger.debug({ source: base.source, service: `${target.key}:${port}`, route: dialed.route }, 'outbound tunnel open');
    bridge(socket, dialed.stream, {
      idleTimeoutMs: this.options.idleTimeoutMs ?? 300_000,
      onEnd: ({ error, bytesFromA, bytesFromB }) => {
        this.logger.debug({ service: `${target.key}:${port}`, route: dialed.route, bytesOut: bytesFromA, bytesIn: bytesFromB, err: error?.message }, 'outbound tunnel closed');
      },
    });
  }
}

function asCausewayError(err: unknown): CausewayError {
  return err instanceof CausewayError ? err : new CausewayError(ErrorCodes.INTERNAL, describeError(err), { cause: err });
}
