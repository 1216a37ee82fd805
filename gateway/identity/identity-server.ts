import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { CausewayError, ErrorCodes, describeError, silentLogger, listenOn, type Logger } from '../../registry/index.js';
import {
  DEFAULT_CONNECTION_LIMITS, RateLimitedError, encodeBundle, guardHandshakes, type ConnectionLimits, peerChainOf, verifyPeerChain, type IssuanceCredential, type PeerIdentity, type SvidSource, type TrustReader, type WorkloadIssuer,
} from '../../federation/index.js';
import { readJsonObject, sendJson } from '../admin/http-json.js';

export interface IdentityServerOptions {
  trustDomain: string;
  svid: SvidSource;
  trust: TrustReader;
  issuer: WorkloadIssuer;
  logger?: Logger;
  /** Per-request deadline, and the idle timeout of a kept-alive HTTP/1.1 connection (default 30 s). */
  requestTimeoutMs?: number;
  /** A connection that has not completed its TLS handshake this long is closed (default 10 s). */
  handshakeTimeoutMs?: number;
  /** Pending-handshake and connection caps (defaults: DEFAULT_CONNECTION_LIMITS). */
  limits?: Partial<ConnectionLimits>;
  /** WebSocket upgrades (the agent control channel); without it an upgrade is refused. */
  onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

export const BUNDLE_PATH = '/.well-known/spiffe-bundle';

/** HTTP status for the issuance API's error codes. */
function statusOf(err: CausewayError): number {
  switch (err.code) {
    case ErrorCodes.BODY_INVALID:
    case ErrorCodes.CSR_INVALID:
    case ErrorCodes.USAGE:
    case ErrorCodes.SPIFFE_ID_INVALID:
    case ErrorCodes.TOKEN_MALFORMED:
      return 400;
    case ErrorCodes.TOKEN_TAMPERED:
    case ErrorCodes.TOKEN_EXPIRED:
    case ErrorCodes.TOKEN_USED:
    case ErrorCodes.TOKEN_UNKNOWN:
    case ErrorCodes.SA_TOKEN_INVALID:
      return 401;
    case ErrorCodes.IDENTITY_NOT_GRANTED:
      return 403;
    case ErrorCodes.RATE_LIMITED:
      return 429;
    case ErrorCodes.SA_JWKS_UNAVAILABLE:
      return 503;
    default:
      return 500;
  }
}

/**
 * The identity listener (design brief port 15017; the agent's WebSocket channel will join
 * it). HTTPS, TLS 1.3, served with the gateway's SVID; a client certificate is optional.
 * - GET /.well-known/spiffe-bundle: our trust domain's bundle, the `https_spiffe` profile
 *   of the SPIFFE Trust Domain and Bundle spec §5: the endpoint authenticates with an SVID
 *   of its trust domain; consumers re-fetch after `spiffe_refresh_hint`.
 * - POST /v1/svid: CSR issuance (federation/identity/workload-issuer.ts), authorised by
 *   `Authorization: Bearer <join token | service account token>` or by the caller's SVID.
 */
export class IdentityServer {
  private readonly server: Server;
  private readonly logger: Logger;
  private readonly sockets = new Set<TLSSocket>();
  private readonly unsubscribe: Array<() => void> = [];
  private closed = false;

  constructor(private readonly options: IdentityServerOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'identity' });
    const timeout = options.requestTimeoutMs ?? 30_000;
    this.server = createServer({
      ...this.context(), requestCert: true, rejectUnauthorized: false, requestTimeout: timeout, headersTimeout: 10_000,
      // node:https defaults to 120 s, long enough for a slowloris client to pile up descriptors.
      handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
    }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    });
    // The same caps as the mTLS listeners; a failed or timed-out handshake closes the socket.
    guardHandshakes(this.server, { ...DEFAULT_CONNECTION_LIMITS, ...options.limits }, {
      onRefuse: (remote, reason) => this.logger.debug({ remote, reason }, 'connection refused'),
      onClientError: (err) => this.logger.debug({ reason: err.message }, 'TLS handshake failed'),
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (options.onUpgrade === undefined) socket.destroy();
      else options.onUpgrade(req, socket, head);
    });
    this.server.on('secureConnection', (socket: TLSSocket) => {
      this.sockets.add(socket);
      socket.setTimeout(timeout, () => socket.destroy());
      socket.once('close', () => this.sockets.delete(socket));
    });
    const refresh = (): void => {
      try {
        this.server.setSecureContext(this.context());
      } catch (err) {
        this.logger.error({ reason: describeError(err) }, 'cannot update TLS context; keeping the previous one');
      }
    };
    this.unsubscribe.push(options.svid.onRotate(refresh), options.trust.onChange(refresh));
  }

  private context(): { cert: string; key: string; ca: string[]; minVersion: 'TLSv1.3'; ALPNProtocols: string[] } {
    const svid = this.options.svid.current();
    // Only our own domain's roots: renewal by SVID is for workloads we issued.
    const own = this.options.trust.get(this.options.trustDomain);
    return { cert: svid.certChainPem, key: svid.keyPem, ca: [...(own?.rootsPem ?? [])], minVersion: 'TLSv1.3', ALPNProtocols: ['http/1.1'] };
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return listenOn(this.server, host, port);
  }

  address(): AddressInfo | undefined {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address : undefined;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const off of this.unsubscribe) off();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      for (const socket of this.sockets) socket.destroy();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://identity.invalid');
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    if (route === `GET ${BUNDLE_PATH}`) {
      const bundle = this.options.trust.get(this.options.trustDomain);
      if (bundle === undefined) throw new CausewayError(ErrorCodes.INTERNAL, 'no bundle for our own trust domain');
      const text = encodeBundle(bundle);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': `max-age=${bundle.refreshHintSeconds}` });
      res.end(text);
      return;
    }
    if (route === 'POST /v1/svid') {
      const socket = req.socket as TLSSocket;
      const client = socket.remoteAddress ?? 'unknown';
      // The rate limit comes first: before any credential, chain or body is looked at.
      this.options.issuer.admit(client);
      const credential = this.credentialOf(req, socket);
      const body = await readJsonObject(req);
      for (const key of Object.keys(body)) {
        if (!['csr', 'spiffeId', 'ttlSeconds'].includes(key)) throw new CausewayError(ErrorCodes.BODY_INVALID, `${key}: unknown field (expected csr, spiffeId, ttlSeconds)`);
      }
      if (typeof body.csr !== 'string' || body.csr === '') throw new CausewayError(ErrorCodes.BODY_INVALID, 'csr: is required (a PEM CERTIFICATE REQUEST)');
      if (body.spiffeId !== undefined && typeof body.spiffeId !== 'string') throw new CausewayError(ErrorCodes.BODY_INVALID, 'spiffeId: must be a string');
      if (body.ttlSeconds !== undefined && typeof body.ttlSeconds !== 'number') throw new CausewayError(ErrorCodes.BODY_INVALID, 'ttlSeconds: must be a number');
      const issued = await this.options.issuer.issue({
        csrPem: body.csr, credential, client,
        ...(body.spiffeId === undefined ? {} : { spiffeId: body.spiffeId as string }),
        ...(body.ttlSeconds === undefined ? {} : { ttlSeconds: body.ttlSeconds as number }),
      });
      sendJson(res, 201, issued);
      return;
    }
    sendJson(res, 404, { error: { code: ErrorCodes.NOT_FOUND, message: `no route ${route}` } });
  }

  /** Bearer join token (`cwjt1.`), bearer service account JWT, or the client certificate. */
  private credentialOf(req: IncomingMessage, socket: TLSSocket): IssuanceCredential {
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(auth);
      if (match === null) throw new CausewayError(ErrorCodes.TOKEN_MALFORMED, 'Authorization must be "Bearer <join token or service account token>"');
      const token = match[1] ?? '';
      return token.startsWith('cwjt1.') ? { kind: 'join-token', token } : { kind: 'service-account', jwt: token };
    }
    const chain = peerChainOf(socket);
    if (chain.length === 0) {
      throw new CausewayError(ErrorCodes.TOKEN_UNKNOWN, 'no credential: send "Authorization: Bearer <join token>" or present your current SVID');
    }
    let peer: PeerIdentity;
    try {
      peer = verifyPeerChain(chain, this.options.trust);
    } catch (err) {
      throw new CausewayError(ErrorCodes.IDENTITY_NOT_GRANTED, `the client certificate is not accepted: ${describeError(err)}`);
    }
    return { kind: 'svid', peer };
  }

  private fail(res: ServerResponse, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof CausewayError) {
      const status = statusOf(err);
      if (err instanceof RateLimitedError) res.setHeader('retry-after', String(err.retryAfterSeconds));
      if (status >= 500) this.logger.error({ reason: err.message }, 'identity request failed');
      sendJson(res, status, { error: err.toJSON() });
      return;
    }
    this.logger.error({ reason: describeError(err) }, 'identity request failed');
    sendJson(res, 500, { error: { code: ErrorCodes.INTERNAL, message: 'internal error' } });
  }
}
