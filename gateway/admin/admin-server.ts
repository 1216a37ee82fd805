import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CausewayError, ErrorCodes, describeError, listenOn, silentLogger, validatePeerLabels, type Logger } from '../../registry/index.js';
import type { Gateway } from '../gateway.js';
import { bearerMatches } from './admin-token.js';
import { serveDashboard } from './dashboard-routes.js';
import { explain } from '../policy/explain.js';
import { decodePath, readJsonObject, sendError, sendJson } from './http-json.js';
import { LiveFeed } from './live-feed.js';
import { servePolicies } from './policy-routes.js';
import { buildBundles, buildLiveUpdate, buildServices, buildStatus } from './status.js';

export interface AdminServerOptions {
  gateway: Gateway;
  adminToken: string;
  logger?: Logger;
  /** Per-request socket timeout; admin clients are short-lived. */
  requestTimeoutMs?: number;
}

const MAX_TOKEN_TTL_SECONDS = 7 * 86400;

/**
 * The admin listener (design brief port 15000): /healthz, /readyz, the JSON status API, the
 * dashboard and its live feed, and the peering operations the CLI drives. Reads are open
 * (they carry no secrets); every mutation needs the bearer token from `<dataDir>/admin.token`.
 */
export class AdminServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly logger: Logger;
  /** The dashboard's WebSocket at /v1/live. */
  private readonly liveFeed: LiveFeed;
  private closed = false;

  constructor(private readonly options: AdminServerOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'admin' });
    this.server = createServer({ requestTimeout: options.requestTimeoutMs ?? 30_000, headersTimeout: 10_000 }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.setTimeout(options.requestTimeoutMs ?? 30_000, () => socket.destroy());
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.liveFeed = new LiveFeed(this.server, { read: () => buildLiveUpdate(options.gateway), logger: this.logger });
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return listenOn(this.server, host, port);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.liveFeed.close();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      for (const socket of this.sockets) socket.destroy();
    });
  }

  private fail(res: ServerResponse, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof CausewayError) {
      sendError(res, err);
      return;
    }
    this.logger.error({ err }, 'admin request failed');
    sendJson(res, 500, { error: { code: ErrorCodes.INTERNAL, message: describeError(err) } });
  }

  private requireAuth(req: IncomingMessage): void {
    if (!bearerMatches(req.headers.authorization, this.options.adminToken)) {
      throw new CausewayError(ErrorCodes.ADMIN_UNAUTHORIZED, 'missing or wrong admin token (see <dataDir>/admin.token)');
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { gateway } = this.options;
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    // Refuse a malformed percent-encoding up front (400), whichever route it was meant for.
    const segments = decodePath(url.pathname);
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    switch (route) {
      case 'GET /healthz':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      case 'GET /readyz':
        res.writeHead(gateway.isReady() ? 200 : 503, { 'content-type': 'text/plain' }).end(gateway.isReady() ? 'ready\n' : 'not ready\n');
        return;
      case 'GET /metrics': {
        // Prometheus text exposition; open like the other reads (no label carries a secret).
        const { contentType, body } = await gateway.metrics.exposition();
        res.writeHead(200, { 'content-type': contentType }).end(body);
        return;
      }
      case 'GET /v1/status':
        sendJson(res, 200, buildStatus(gateway));
        return;
      case 'GET /v1/services':
        sendJson(res, 200, { services: buildServices(gateway) });
        return;
      case 'GET /v1/explain': {
        // Open like the other reads: it shows what the status API shows, from one caller's view.
        const query = (name: string): string | undefined => url.searchParams.get(name) ?? undefined;
        const from = query('from');
        const to = query('to');
        if (from === undefined) throw new CausewayError(ErrorCodes.BODY_INVALID, 'from: is required (a SPIFFE ID, or anonymous)');
        if (to === undefined) throw new CausewayError(ErrorCodes.BODY_INVALID, 'to: is required (<service>.<namespace>[:<port>])');
        sendJson(res, 200, explain(gateway.engine, { from, to, method: query('method'), path: query('path') }));
        return;
      }
      case 'GET /v1/agents':
        // Agents that registered services here: connected, within their lease, or expired.
        sendJson(res, 200, {
          agents: gateway.agents.status().map(({ agent, state, host, services, health, leaseExpiresAtMs }) => ({
            agent, state, host, services, health, leaseExpires: leaseExpiresAtMs === undefined ? undefined : new Date(leaseExpiresAtMs).toISOString(),
          })),
        });
        return;
      case 'GET /v1/xds':
        // Each xDS client: identity, node, and per resource type what was sent, ACKed and NACKed.
        sendJson(res, 200, gateway.xds === undefined
          ? { enabled: false, clients: [], recentNacks: [] }
          : { enabled: true, address: gateway.listeners.xds, clients: gateway.xds.clients(), recentNacks: gateway.xds.recentNacks() });
        return;
      case 'GET /v1/traffic':
        // Live traffic per edge over the last seconds, and the latest failovers, denials and ejections.
        sendJson(res, 200, gateway.traffic.snapshot());
        return;
      case 'GET /v1/peers':
        sendJson(res, 200, { peers: gateway.peers.list() });
        return;
      case 'POST /v1/peering/token': {
        this.requireAuth(req);
        const body = await readJsonObject(req);
        const ttlSeconds = body.ttlSeconds ?? 900;
        if (typeof ttlSeconds !== 'number' || !Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
          throw new CausewayError(ErrorCodes.BODY_INVALID, `ttlSeconds: must be an integer from 1 to ${MAX_TOKEN_TTL_SECONDS}`);
        }
        const peerName = body.peerName;
        if (peerName !== undefined && typeof peerName !== 'string') throw new CausewayError(ErrorCodes.BODY_INVALID, 'peerName: must be a string');
        const labels = peerLabelsOf(body);
        const token = await gateway.peers.createToken({
          ttlSeconds, ...(peerName === undefined ? {} : { peerName }), ...(labels === undefined ? {} : { labels }),
        });
        this.logger.info({ ttlSeconds, peerName, labels }, 'peering token created');
        sendJson(res, 201, { token, expiresInSeconds: ttlSeconds });
        return;
      }
      case 'POST /v1/peers': {
        this.requireAuth(req);
        const body = await readJsonObject(req);
        if (typeof body.token !== 'string' || body.token === '') throw new CausewayError(ErrorCodes.BODY_INVALID, 'token: is required');
        if (body.name !== undefined && typeof body.name !== 'string') throw new CausewayError(ErrorCodes.BODY_INVALID, 'name: must be a string');
        const labels = peerLabelsOf(body);
        const peer = await gateway.peers.addPeer(body.token, {
          ...(body.name === undefined ? {} : { name: body.name as string }), ...(labels === undefined ? {} : { labels }),
        });
        sendJson(res, 201, { peer });
        return;
      }
      case 'GET /v1/trust':
        sendJson(res, 200, { ca: gateway.ca.status(), sources: gateway.trustSources(), bundles: buildBundles(gateway) });
        return;
      case 'POST /v1/trust/rotate': {
        this.requireAuth(req);
        const status = await gateway.ca.rotate();
        this.logger.info({ sequence: status.sequence }, 'CA rotation started');
        sendJson(res, 202, status);
        return;
      }
      case 'POST /v1/join-tokens': {
        this.requireAuth(req);
        const body = await readJsonObject(req);
        for (const key of Object.keys(body)) {
          if (!['identity', 'ttlSeconds', 'agent'].includes(key)) throw new CausewayError(ErrorCodes.BODY_INVALID, `${key}: unknown field (expected identity, ttlSeconds, agent)`);
        }
        if (typeof body.identity !== 'string') throw new CausewayError(ErrorCodes.BODY_INVALID, 'identity: is required (a SPIFFE ID or a pattern ending in /*)');
        const ttlSeconds = body.ttlSeconds ?? 3600;
        if (typeof ttlSeconds !== 'number') throw new CausewayError(ErrorCodes.BODY_INVALID, 'ttlSeconds: must be a number');
        if (body.agent !== undefined && typeof body.agent !== 'string') throw new CausewayError(ErrorCodes.BODY_INVALID, 'agent: must be the host name of the agent');
        sendJson(res, 201, await gateway.issuer.createJoinToken({ identity: body.identity, ttlSeconds, ...(body.agent === undefined ? {} : { agent: body.agent as string }) }));
        return;
      }
      case 'POST /v1/reload': {
        this.requireAuth(req);
        sendJson(res, 200, await gateway.reload());
        return;
      }
      default:
        break;
    }
    if (await servePolicies(req, res, segments, gateway.policies, () => this.requireAuth(req))) return;
    if (segments.length === 3 && segments[0] === 'v1' && segments[1] === 'peers' && segments[2] !== '' && req.method === 'DELETE') {
      this.requireAuth(req);
      await gateway.peers.removePeer(segments[2] ?? '');
      res.writeHead(204).end();
      return;
    }
    if (await serveDashboard(req, res, segments)) return;
    sendJson(res, 404, { error: { code: ErrorCodes.NOT_FOUND, message: `no route ${route}` } });
  }
}

/** A body's `labels` for a peering (`{"env": "prod"}`), validated; undefined when absent. */
function peerLabelsOf(body: Record<string, unknown>): Record<string, string> | undefined {
  if (body.labels === undefined) return undefined;
  const errors: string[] = [];
  const labels = validatePeerLabels(body.labels, 'labels', errors);
  if (labels === undefined) throw new CausewayError(ErrorCodes.BODY_INVALID, errors[0] ?? 'labels: invalid', { details: errors });
  return labels;
}
