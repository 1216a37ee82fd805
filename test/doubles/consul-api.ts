// A test double of the Consul HTTP API (HTTP or HTTPS on 127.0.0.1, one datacenter), faithful to the
// part Causeway's Consul catalog bridge uses, so that the bridge can be driven through the real
// `consul` client:
//   GET /v1/catalog/services            https://developer.hashicorp.com/consul/api-docs/catalog#list-services
//   GET /v1/health/service/:service     https://developer.hashicorp.com/consul/api-docs/health#list-service-instances-for-service
//   GET /v1/health/state/:state         https://developer.hashicorp.com/consul/api-docs/health#list-checks-in-state
//   GET /v1/catalog/node/:node          https://developer.hashicorp.com/consul/api-docs/catalog#list-services-for-node
//   PUT /v1/catalog/register|deregister https://developer.hashicorp.com/consul/api-docs/catalog#register-entity
// Reads are blocking queries (https://developer.hashicorp.com/consul/api-docs/features/blocking):
// `?index=N` with N > 0 hangs while the resource's index is still <= N, up to `?wait=` (default 5 min,
// capped at 10 min) plus a random stagger of up to wait/16, then answers the current body and index.
// Connections are limited per client IP like `limits.http_max_conns_per_client` (consul-listener.ts);
// HTTPS with an optional client-certificate requirement is Consul's `tls.https` with `verify_incoming`.
// What is left out: other endpoints (404), namespaces/partitions, `filter`, `near`, hash-based
// blocking, consistency modes (every answer is the leader's, X-Consul-LastContact 0).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { CatalogState, type CheckStatus } from './consul-catalog-state.js';
import { DEFAULT_MAX_CONNS_PER_CLIENT, LimitedListener, type ListenerTls } from './consul-listener.js';
import { ConsulHttpError, decodeDeregistration, decodeRegistration } from './consul-register-body.js';

export type { CheckServiceNode, CheckStatus, ConsulCheck } from './consul-catalog-state.js';
export { DEFAULT_MAX_CONNS_PER_CLIENT, TOO_MANY_CONNS_RESPONSE, type ListenerTls } from './consul-listener.js';

/** Consul's defaults for blocking queries (agent/consul/rpc.go: defaultQueryTime, maxQueryTime, jitterFraction). */
export const DEFAULT_WAIT_MS = 5 * 60_000;
export const MAX_WAIT_MS = 10 * 60_000;
export const JITTER_FRACTION = 16;

export interface ConsulApiDoubleOptions {
  /** The agent's datacenter; `?dc=` naming another gets Consul's "No path to datacenter". Default `dc1`. */
  datacenter?: string;
  /** When set, ACLs are on with default-deny: every request needs this token (X-Consul-Token, Bearer, or ?token=). */
  token?: string;
  /**
   * The stagger added to a blocking query's wait, given its maximum (wait/16). Default: uniform random
   * in [0, max), as Consul's lib.RandomStagger. Pass `false` for none (exact timeouts in tests).
   */
  jitter?: false | ((maxMs: number) => number);
  /** Register the server's own `consul` service, as every real catalog lists it. Default true. */
  consulService?: boolean;
  /** `limits.http_max_conns_per_client`: concurrent connections one client IP may hold; 0 = no limit. Default 200, as Consul. */
  maxConnsPerClient?: number;
  /** Serve HTTPS (Consul's `ports.https` with `tls.https`) with this key and certificate instead of HTTP. */
  tls?: ListenerTls;
}

export interface ConsulRequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The `index` the client asked with, if any. */
  index: number | undefined;
  /** True when the request waited for a change (asked index not yet passed); false when answered at once. */
  blocked: boolean;
  durationMs: number;
  /** The HTTP status, or 0 when the client went away before an answer. */
  status: number;
  /** X-Consul-Index of the answer, when it had one. */
  responseIndex: number | undefined;
}

export interface RegisterServiceInput {
  node: string;
  /** The node's address; default 127.0.0.1. */
  address?: string;
  nodeMeta?: Record<string, string>;
  service: string;
  /** Instance ID; default the service name. */
  id?: string;
  tags?: string[];
  /** The instance's own address ("" = use the node's, as in Consul). */
  serviceAddress?: string;
  port?: number;
  meta?: Record<string, string>;
  /** Service checks; default one passing check `service:<id>`. */
  checks?: Array<{ checkId?: string; name?: string; status: CheckStatus }>;
}

type Waiter = (reason: 'change' | 'abandon') => void;

export class ConsulApiDouble {
  private readonly server: Server;
  private readonly listener: LimitedListener;
  private readonly state: CatalogState;
  private readonly token: string | undefined;
  private readonly jitter: (maxMs: number) => number;
  private readonly waiters = new Set<Waiter>();
  private readonly log: ConsulRequestRecord[] = [];
  private closed: Promise<void> | undefined;

  constructor(options: ConsulApiDoubleOptions = {}) {
    this.state = new CatalogState(options.datacenter ?? 'dc1');
    this.token = options.token;
    const jitter = options.jitter ?? ((max: number) => Math.random() * max);
    this.jitter = jitter === false ? () => 0 : jitter;
    if (options.consulService ?? true) {
      this.state.register({
        node: 'consul-server-1', address: '127.0.0.1',
        service: { id: 'consul', service: 'consul', tags: [], address: '', port: 8300, meta: {} },
        checks: [{ checkId: 'serfHealth', name: 'Serf Health Status', status: 'passing', serviceId: '', notes: '' }],
      });
    }
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    const tls = options.tls;
    // The HTTP(S) server never listens itself: the listener accepts, applies the connection limit
    // and hands it the connections it keeps.
    this.server = tls === undefined ? createServer(handler) : createHttpsServer({
      key: tls.key, cert: tls.cert, ...(tls.ca === undefined ? {} : { ca: tls.ca }),
      requestCert: tls.verifyIncoming === true, rejectUnauthorized: tls.verifyIncoming === true,
    }, handler);
    this.server.on('tlsClientError', (_err: Error, socket: { destroy(): void }) => socket.destroy());
    this.listener = new LimitedListener(this.server, options.maxConnsPerClient ?? DEFAULT_MAX_CONNS_PER_CLIENT, tls);
  }

  /** Listens on 127.0.0.1 on a free port. */
  start(): Promise<{ host: string; port: number }> {
    return this.listener.listen();
  }

  /** The current raft index of the double (the highest index any write took). */
  get index(): number {
    return this.state.index;
  }

  registerService(input: RegisterServiceInput): string {
    const id = input.id ?? input.service;
    this.state.register({
      node: input.node, address: input.address ?? '127.0.0.1',
      ...(input.nodeMeta === undefined ? {} : { nodeMeta: input.nodeMeta }),
      service: { id, service: input.service, tags: input.tags ?? [], address: input.serviceAddress ?? '', port: input.port ?? 0, meta: input.meta ?? {} },
      checks: (input.checks ?? [{ status: 'passing' }]).map((c, i) => {
        const checkId = c.checkId ?? (i === 0 ? `service:${id}` : `service:${id}:${i + 1}`);
        return { checkId, name: c.name ?? `Service '${input.service}' check`, status: c.status, serviceId: id, notes: '' };
      }),
    });
    this.wake('change');
    return id;
  }

  setCheckStatus(node: string, checkId: string, status: CheckStatus): void {
    if (!this.state.setCheckStatus(node, checkId, status)) throw new Error(`no check ${checkId} on node ${node}`);
    this.wake('change');
  }

  /** Rewrites a check's output alone (an agent's `check_update_interval` sync): a check write, no health change. */
  setCheckOutput(node: string, checkId: string, output: string): void {
    if (!this.state.setCheckOutput(node, checkId, output)) throw new Error(`no check ${checkId} on node ${node}`);
    this.wake('change');
  }

  /** Removes a service instance (or, without `serviceId`, the node and all it carries). */
  deregister(node: string, serviceId?: string): void {
    this.state.deregister(node, serviceId === undefined ? {} : { serviceId });
    this.wake('change');
  }

  /**
   * Makes the index go backwards, as after a snapshot restore or a new leader with an older state.
   * Like Consul, the restore abandons every blocked query, which then answers with the lower index;
   * clients must restart from index 0 (the documented reset rule).
   */
  resetIndex(n: number): void {
    this.state.resetIndex(n);
    this.wake('abandon');
  }

  /** How many blocking queries are parked right now (a test waits on this before making a change race-free). */
  get blockedQueries(): number {
    return this.waiters.size;
  }

  /** Connections refused by the per-client limit since the start (each got Consul's 429 and was closed). */
  get refusedConnections(): number {
    return this.listener.refused;
  }

  /** Connections open now, per client IP. */
  openConnections(): Record<string, number> {
    return this.listener.openConnections();
  }

  requestLog(): readonly ConsulRequestRecord[] {
    return this.log.map((r) => ({ ...r, query: { ...r.query } }));
  }

  /** Stops listening, answers nothing more, and drops every connection (blocked queries included). Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.wake('abandon');
      await this.listener.close();
    })();
    return this.closed;
  }

  private wake(reason: 'change' | 'abandon'): void {
    for (const w of [...this.waiters]) w(reason);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://consul');
    const query = Object.fromEntries(url.searchParams);
    const record: ConsulRequestRecord = {
      method: req.method ?? 'GET', path: url.pathname, query, index: undefined, blocked: false, durationMs: 0, status: 0, responseIndex: undefined,
    };
    res.on('close', () => {
      record.durationMs = performance.now() - started;
      record.status = res.headersSent ? res.statusCode : 0;
      this.log.push(record);
    });
    try {
      this.authorize(req, url);
      const dc = url.searchParams.get('dc');
      if (dc !== null && dc !== '' && dc !== this.state.datacenter) throw new ConsulHttpError(500, 'No path to datacenter');
      const health = /^\/v1\/health\/service\/([^/]+)$/.exec(url.pathname);
      const checks = /^\/v1\/health\/state\/([^/]*)$/.exec(url.pathname);
      const node = /^\/v1\/catalog\/node\/([^/]*)$/.exec(url.pathname);
      if (req.method === 'GET' && url.pathname === '/v1/catalog/services') {
        await this.blocking(res, url, record, () => this.state.catalogServices());
      } else if (req.method === 'GET' && checks !== null) {
        // agent/health_endpoint.go HealthChecksInState: only an empty state is refused here.
        const state = decodeURIComponent(checks[1] ?? '');
        if (state === '') throw new ConsulHttpError(400, 'Missing check state');
        await this.blocking(res, url, record, () => this.state.healthState(state));
      } else if (req.method === 'GET' && node !== null) {
        const name = decodeURIComponent(node[1] ?? '');
        if (name === '') throw new ConsulHttpError(400, 'Missing node name');
        await this.blocking(res, url, record, () => this.state.catalogNode(name));
      } else if (req.method === 'GET' && health !== null) {
        const name = decodeURIComponent(health[1] ?? '');
        const passing = parseBool(url.searchParams, 'passing');
        const tag = url.searchParams.get('tag') ?? undefined;
        await this.blocking(res, url, record, () => this.state.healthService(name, { passing, ...(tag === undefined ? {} : { tag }) }));
      } else if (req.method === 'PUT' && url.pathname === '/v1/catalog/register') {
        const reg = decodeRegistration(await readBody(req), this.state.datacenter);
        for (const c of reg.checks ?? []) {
          if (c.serviceId !== '' && c.serviceId !== reg.service?.id && !this.state.hasService(reg.node, c.serviceId)) {
            throw new ConsulHttpError(400, `Unknown service ID '${c.serviceId}' for check ID '${c.checkId}'`);
          }
        }
        this.state.register(reg);
        this.wake('change');
        json(res, 200, true);
      } else if (req.method === 'PUT' && url.pathname === '/v1/catalog/deregister') {
        const d = decodeDeregistration(await readBody(req), this.state.datacenter);
        this.state.deregister(d.node, d);
        this.wake('change');
        json(res, 200, true);
      } else if (['/v1/catalog/services', '/v1/catalog/register', '/v1/catalog/deregister'].includes(url.pathname) || health !== null || checks !== null || node !== null) {
        throw new ConsulHttpError(405, `method ${req.method ?? ''} not allowed`);
      } else {
        throw new ConsulHttpError(404, '');
      }
    } catch (err) {
      if (res.headersSent || res.destroyed) return;
      const e = err instanceof ConsulHttpError ? err : new ConsulHttpError(500, (err as Error).message);
      res.writeHead(e.status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(e.message);
    }
  }

  /**
   * ACLs with default-deny. The token comes from X-Consul-Token, `Authorization: Bearer`, or `?token=`
   * (https://developer.hashicorp.com/consul/api-docs/api-structure#authentication). Without one the
   * request runs as the anonymous token and is refused "Permission denied"; an unknown secret is
   * "ACL not found" — both 403, Consul's texts. (A real agent filters list reads for the anonymous
   * token instead of refusing them; the double refuses, which is the stricter case for the bridge.)
   */
  private authorize(req: IncomingMessage, url: URL): void {
    if (this.token === undefined) return;
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const header = req.headers['x-consul-token'];
    const given = (typeof header === 'string' && header !== '' ? header : undefined) ?? bearer ?? (url.searchParams.get('token') || undefined);
    if (given === undefined) throw new ConsulHttpError(403, 'Permission denied');
    if (given !== this.token) throw new ConsulHttpError(403, 'ACL not found');
  }

  private async blocking(
    res: ServerResponse, url: URL, record: ConsulRequestRecord,
    read: () => { index: number; body: unknown },
  ): Promise<void> {
    const minIndex = parseIndex(url.searchParams.get('index'));
    const waitMs = parseWait(url.searchParams.get('wait'));
    record.index = minIndex;
    let answer = read();
    // Consul blocks only for an index > 0 that the resource has not passed yet (agent/consul/rpc.go blockingQuery).
    if (minIndex !== undefined && minIndex > 0 && answer.index <= minIndex) {
      record.blocked = true;
      const budget = waitMs + this.jitter(waitMs / JITTER_FRACTION);
      const deadline = performance.now() + budget;
      for (;;) {
        const reason = await this.nextChange(deadline - performance.now(), res);
        if (reason === 'gone') return;
        answer = read();
        if (reason !== 'change' || answer.index > minIndex) break;
      }
    }
    record.responseIndex = Math.max(answer.index, 1);
    res.writeHead(200, {
      'content-type': 'application/json',
      // Consul never answers index 0 (a client would spin); it clamps to 1.
      'x-consul-index': String(record.responseIndex),
      'x-consul-knownleader': 'true',
      'x-consul-lastcontact': '0',
    });
    res.end(JSON.stringify(answer.body));
  }

  /** Resolves at the next write ('change'), restore or close ('abandon'), the deadline ('timeout'), or the client leaving ('gone'). */
  private nextChange(ms: number, res: ServerResponse): Promise<'change' | 'abandon' | 'timeout' | 'gone'> {
    return new Promise((resolve) => {
      const done = (reason: 'change' | 'abandon' | 'timeout' | 'gone'): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        res.off('close', onClose);
        resolve(this.closed !== undefined && reason !== 'gone' ? 'gone' : reason);
      };
      const waiter: Waiter = (reason) => done(reason);
      const onClose = (): void => done('gone');
      const timer = setTimeout(() => done('timeout'), Math.max(0, ms));
      timer.unref();
      this.waiters.add(waiter);
      res.once('close', onClose);
    });
  }
}

function parseIndex(raw: string | null): number | undefined {
  if (raw === null || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new ConsulHttpError(400, 'Invalid index');
  return Number(raw);
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `?wait=` as a Go duration ("10s", "1m30s", "250ms"); default 5 min, capped at 10 min as in Consul. */
function parseWait(raw: string | null): number {
  if (raw === null || raw === '') return DEFAULT_WAIT_MS;
  const parts = [...raw.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== raw) throw new ConsulHttpError(400, 'Invalid wait time');
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] ?? ''] ?? 0), 0);
  return ms <= 0 ? DEFAULT_WAIT_MS : Math.min(ms, MAX_WAIT_MS);
}

/** A boolean query parameter as Consul reads it: present and empty means true (`?passing`). */
function parseBool(params: URLSearchParams, name: string): boolean {
  const v = params.get(name);
  if (v === null) return false;
  if (v === '' || /^(1|t|true)$/i.test(v)) return true;
  if (/^(0|f|false)$/i.test(v)) return false;
  throw new ConsulHttpError(400, `Invalid value for ?${name}`);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
