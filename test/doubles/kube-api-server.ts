// A test double of the Kubernetes API server (HTTPS with a self-signed certificate, bearer tokens),
// faithful to what Causeway's Kubernetes source and client-node 1.4.0 informers depend on:
//   LIST and WATCH of core/v1 services, pods, nodes (cluster-scoped), secrets, events;
//   discovery.k8s.io/v1 endpointslices; multicluster.x-k8s.io/v1alpha1 serviceexports and
//   serviceimports (custom resources with a status subresource) — both the all-namespaces paths
//   (/api/v1/services) and the namespaced ones (/api/v1/namespaces/{ns}/services);
//   GET, POST, PUT, PATCH (json-patch, merge-patch, ...) and DELETE of single objects, and of /status;
//   discovery (/api, /apis, /api/v1, /apis/{group}/{version}), /version, /healthz|/readyz|/livez, and
//   the service-account issuer's /openid/v1/jwks and /.well-known/openid-configuration.
// Semantics follow https://kubernetes.io/docs/reference/using-api/api-concepts/: one cluster-wide
// resourceVersion (kube-store.ts), lists as `{kind: XList, apiVersion, metadata: {resourceVersion}, items}`
// whose items carry no kind/apiVersion (custom resources' do: they are served unstructured), label and
// field selectors, limit/continue, watches with bookmarks, 410 Gone and timeouts (kube-watch.ts), and
// v1 Status failures (kube-status.ts). Tests drive it with a JS API (apply/delete/object), can take it
// down and up, end or expire watches, and read a request log to check that a client lists once and
// then watches rather than polls.
// Left out: protobuf and CBOR, Table output, deletecollection, dry runs, managed fields, admission,
// graceful pod deletion, namespaces as objects (any namespace exists).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { applyPatch, decodePatch, PATCH_TYPES } from './kube-patch.js';
import { parsePath, RESOURCE_TYPES, resourceType, type KubeObject, type KubeResource, type ResourcePath, type ResourceType } from './kube-resources.js';
import { parseFieldSelector, parseLabelSelector, type FieldRequirement } from './kube-selectors.js';
import { KubeStatusError, statusErrors } from './kube-status.js';
import { fullJson, KubeStore, parseResourceVersion, type StoredObject } from './kube-store.js';
import { WatchHub } from './kube-watch.js';

export type { KubeMetadata, KubeObject, KubeResource } from './kube-resources.js';
export { KubeStatusError, type KubeStatus } from './kube-status.js';

export interface KubeApiDoubleOptions {
  /** How many changes the history keeps (the watch window); a watch from before it is 410 Gone. Default 10,000. */
  historyLimit?: number;
  /** How often watches that allowed bookmarks get one; 0 = only on `bookmark()`. Default 60 s (kube-apiserver's ~1 min). */
  bookmarkIntervalMs?: number;
  /** A watch without timeoutSeconds ends after a random time in [this, 2 x this) seconds. Default 1800 (--min-request-timeout). */
  minRequestTimeoutSeconds?: number;
  /**
   * How a watch from a revision older than the history is refused: `status`, an HTTP 410 with a Status
   * body (default); `event`, a 200 whose only event is an ERROR with that Status (the watch cache's way).
   */
  expiredWatch?: 'status' | 'event';
  /** The user the token authenticates as, named in 403 texts. */
  user?: string;
  /** The resource types served; the others answer 404 as an absent CRD does. Default all. */
  resources?: KubeResource[];
}

export type KubeVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'other';

export interface KubeRequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The Kubernetes verb (RBAC's): a GET is get, list or watch. */
  verb: KubeVerb;
  resource: string | undefined;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  watch: boolean;
  /** The HTTP status (200 for a watch once it streams); 0 while unanswered or when the connection went first. */
  status: number;
  /** Watch events sent on this request, bookmarks included. */
  events: number;
  bookmarks: number;
  startedAt: number;
  endedAt: number | undefined;
}

const DEFAULT_USER = 'system:serviceaccount:causeway:causeway-gateway';
const MAX_BODY = 3 * 1024 * 1024;

/** A self-signed serving certificate for 127.0.0.1, made by openssl (as kubeadm's would be). */
function servingCertificate(): { cert: string; key: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kube-double-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=kube-apiserver', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    return { cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'), key: readFileSync(path.join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A boolean query parameter as apimachinery converts it: absent, "0" and "false" are false; anything else true. */
function boolParam(url: URL, name: string): boolean {
  const v = url.searchParams.get(name);
  return v !== null && v !== '0' && v.toLowerCase() !== 'false';
}

function intParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw statusErrors.badRequest(`strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

/** The Kubernetes verb of a request on a resource path (RBAC's): a GET is get, list or watch. */
function verbOf(method: string, name: string | undefined, watch: boolean): KubeVerb {
  switch (method) {
    case 'GET': return watch ? 'watch' : name === undefined ? 'list' : 'get';
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return 'delete';
    default: return 'other';
  }
}

const mediaType = (req: IncomingMessage): string => (req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? '';

/**
 * The Kubernetes API server double. `new KubeApiDouble(token)`, `await start()` (the https URL),
 * `kubeconfig()` for clients; `apply`/`delete`/`object` to change and read objects; `compact`,
 * `bookmark`, `dropWatches`, `down`/`up` to make the situations a client must survive.
 */
export class KubeApiDouble {
  private readonly server: Server;
  private readonly store: KubeStore;
  private readonly hub: WatchHub;
  private readonly log: KubeRequestRecord[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly served: ReadonlySet<KubeResource>;
  private readonly denied = new Set<string>();
  private readonly user: string;
  private readonly tls = servingCertificate();
  private state: 'up' | 'refusing' | 'unavailable' = 'up';
  private port = 0;
  private jwks: unknown;
  private closing: Promise<void> | undefined;
  /** `METHOD url` of every request, in order (kept for the tests written against the first double). */
  readonly requests: string[] = [];
  /** Namespaces the token may not read or write in (403 Forbidden, RBAC's text). */
  readonly forbiddenNamespaces = new Set<string>();

  constructor(private readonly token: string, options: KubeApiDoubleOptions = {}) {
    this.user = options.user ?? DEFAULT_USER;
    this.served = new Set(options.resources ?? RESOURCE_TYPES.keys());
    this.store = new KubeStore(options.historyLimit ?? 10_000, (ev) => this.hub.publish(ev));
    this.hub = new WatchHub(this.store, {
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
      minRequestTimeoutSeconds: options.minRequestTimeoutSeconds ?? 1800,
      expiredWatch: options.expiredWatch ?? 'status',
    });
    this.server = createServer({ cert: this.tls.cert, key: this.tls.key }, (req, res) => void this.handle(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('tlsClientError', (_err: Error, socket: { destroy(): void }) => socket.destroy());
  }

  /** Listens on 127.0.0.1 on a free port; resolves to the server URL (`https://127.0.0.1:port`). */
  async start(): Promise<string> {
    await this.listen(0);
    this.port = (this.server.address() as AddressInfo).port;
    return this.url;
  }

  get url(): string {
    if (this.port === 0) throw new Error('KubeApiDouble: start() first');
    return `https://127.0.0.1:${this.port}`;
  }

  /** The serving certificate (PEM), which is its own CA. */
  get caPem(): string {
    return this.tls.cert;
  }

  /** The cluster's current resourceVersion (the revision of the last write). */
  get revision(): number {
    return this.store.revision;
  }

  // ---- objects -------------------------------------------------------------------------------

  /**
   * Creates or replaces an object as a controller would (status included, no resourceVersion check),
   * filling metadata (uid, creationTimestamp, resourceVersion, generation; namespace `default` when a
   * namespaced object names none) and the kind's defaults. Returns the object as a GET would serve it.
   * Throws the server's KubeStatusError (422 Invalid...) for an object the API would refuse.
   */
  apply(resource: KubeResource, object: Omit<KubeObject, 'metadata'> & { metadata: KubeObject['metadata'] }): KubeObject {
    const rt = this.type(resource);
    const input = structuredClone(object) as KubeObject;
    if (rt.namespaced) input.metadata.namespace ||= 'default';
    const existing = input.metadata.name === undefined ? undefined : this.store.get(rt, input.metadata.namespace, input.metadata.name);
    const stored = existing === undefined ? this.store.create(rt, input, 'all') : this.store.update(rt, input, 'all', { precondition: false });
    return JSON.parse(fullJson(stored)) as KubeObject;
  }

  /** Reads an object, lets `change` edit it (or return a replacement), and applies the result. */
  modify(resource: KubeResource, namespace: string | undefined, name: string, change: (o: KubeObject) => KubeObject | void): KubeObject {
    const current = this.object(resource, namespace, name);
    if (current === undefined) throw statusErrors.notFound(this.type(resource), name);
    return this.apply(resource, change(current) ?? current);
  }

  /**
   * Deletes an object (`namespace` undefined for a cluster-scoped kind): gone at once, or only marked
   * with a deletionTimestamp while it has finalizers. Returns its last state, or undefined when absent.
   */
  delete(resource: KubeResource, namespace: string | undefined, name: string): KubeObject | undefined {
    const rt = this.type(resource);
    if (this.store.get(rt, namespace, name) === undefined) return undefined;
    return JSON.parse(fullJson(this.store.delete(rt, namespace, name).object)) as KubeObject;
  }

  /** An object as a GET serves it (a copy), or undefined. */
  object(resource: KubeResource, namespace: string | undefined, name: string): KubeObject | undefined {
    const s = this.store.get(this.type(resource), namespace, name);
    return s === undefined ? undefined : JSON.parse(fullJson(s)) as KubeObject;
  }

  /** Every object of a kind (in one namespace, or all), in the API's order, as GETs serve them. */
  list(resource: KubeResource, namespace?: string): KubeObject[] {
    return this.store.all(this.type(resource), namespace).map((s) => JSON.parse(fullJson(s)) as KubeObject);
  }

  /** Sets a Secret's data (plain text values; stored base64 as the API does), type kubernetes.io/tls. */
  putSecret(namespace: string, name: string, data: Record<string, string>): void {
    this.apply('secrets', {
      metadata: { namespace, name }, type: 'kubernetes.io/tls',
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    });
  }

  /** The service-account issuer's key set served at /openid/v1/jwks (404 until set, as without an issuer). */
  setServiceAccountJwks(jwks: { keys: unknown[] } | undefined): void {
    this.jwks = jwks;
  }

  // ---- watches -------------------------------------------------------------------------------

  /**
   * etcd compaction passing every open watch: the history up to `revision` (default: all of it) goes,
   * and every open watch gets an ERROR event with a 410 Expired Status, then its response ends —
   * what the API server sends a watcher whose position was compacted away. Returns how many watches.
   */
  compact(revision?: number): number {
    this.store.compact(revision);
    return this.hub.expire();
  }

  /** A BOOKMARK (the current resourceVersion) now, to every watch that sent allowWatchBookmarks=true. */
  bookmark(resource?: KubeResource): number {
    return this.hub.bookmark(resource);
  }

  /**
   * Ends every open watch (of one kind, or all): gracefully, as at a server-side timeout (the client
   * resumes from its last resourceVersion), or `abrupt`ly by destroying the connection. Returns how many.
   */
  dropWatches(options: { abrupt?: boolean; resource?: KubeResource } = {}): number {
    return this.hub.drop(options.abrupt ?? false, options.resource);
  }

  /** Watches streaming right now (of one kind, or all). */
  openWatches(resource?: KubeResource): number {
    return this.hub.count(resource);
  }

  // ---- availability and authorization ---------------------------------------------------------

  /**
   * Takes the API server down: `refuse` stops listening and resets every connection (watches
   * included) — new connections are refused (ECONNREFUSED); `unavailable` keeps listening but
   * answers every request 503 ServiceUnavailable and ends the open watches.
   */
  async down(mode: 'refuse' | 'unavailable' = 'refuse'): Promise<void> {
    if (mode === 'unavailable') {
      if (this.state === 'refusing') await this.up();
      this.state = 'unavailable';
      this.hub.drop(false);
      return;
    }
    if (this.state === 'refusing') return;
    this.state = 'refusing';
    this.hub.drop(true);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  /** Brings the API server back (on the same port). */
  async up(): Promise<void> {
    if (this.state === 'refusing') await this.listen(this.port);
    this.state = 'up';
  }

  /** RBAC without the grant: `verb` (get, list, watch, create, update, patch, delete) on `resource` or `resource/status` is 403. */
  forbid(verb: KubeVerb, resource: KubeResource | `${KubeResource}/status`): void {
    this.denied.add(`${verb} ${resource}`);
  }

  allow(verb: KubeVerb, resource: KubeResource | `${KubeResource}/status`): void {
    this.denied.delete(`${verb} ${resource}`);
  }

  // ---- the request log -----------------------------------------------------------------------

  /** Every request so far (copies), oldest first; a watch's record is there while it streams. */
  requestLog(filter?: { resource?: string; verb?: KubeVerb }): KubeRequestRecord[] {
    return this.log
      .filter((r) => (filter?.resource === undefined || r.resource === filter.resource) && (filter?.verb === undefined || r.verb === filter.verb))
      .map((r) => ({ ...r, query: { ...r.query } }));
  }

  clearRequestLog(): void {
    this.log.length = 0;
    this.requests.length = 0;
  }

  // ---- client configuration ------------------------------------------------------------------

  /** A kubeconfig (YAML) pointing at this double with its bearer token (or another one). */
  kubeconfig(server: string = this.url, token = this.token): string {
    return [
      'apiVersion: v1', 'kind: Config', 'current-context: test',
      'clusters:', '- name: test', '  cluster:', `    server: ${server}`,
      `    certificate-authority-data: ${Buffer.from(this.tls.cert).toString('base64')}`,
      'users:', '- name: test', '  user:', `    token: ${token}`,
      'contexts:', '- name: test', '  context:', '    cluster: test', '    user: test',
    ].join('\n');
  }

  /** Writes the kubeconfig to `file` (for KubeConfig.loadFromFile) and returns the path. */
  writeKubeconfig(file: string, token = this.token): string {
    writeFileSync(file, this.kubeconfig(this.url, token), { mode: 0o600 });
    return file;
  }

  /** A client-node KubeConfig for this double. */
  kubeConfig(token = this.token): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromString(this.kubeconfig(this.url, token));
    return kc;
  }

  /** Ends every watch, stops listening and drops every connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.hub.close();
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
    return this.closing;
  }

  // ---- serving -------------------------------------------------------------------------------

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** A served kind (the JS API refuses one left out by `options.resources`, as there would be no CRD to hold it). */
  private type(resource: KubeResource): ResourceType {
    if (!this.served.has(resource)) throw new Error(`KubeApiDouble: "${resource}" is not served (options.resources)`);
    return resourceType(resource);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubernetes.default.svc');
    const record: KubeRequestRecord = {
      method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), verb: 'other',
      resource: undefined, namespace: undefined, name: undefined, subresource: undefined, watch: false,
      status: 0, events: 0, bookmarks: 0, startedAt: Date.now(), endedAt: undefined,
    };
    this.log.push(record);
    this.requests.push(`${req.method ?? 'GET'} ${req.url ?? '/'}`);
    const parsed = parsePath(url.pathname);
    if (parsed?.type === 'resource') {
      const p = parsed.path;
      const watch = record.method === 'GET' && (p.watchPath || boolParam(url, 'watch'));
      Object.assign(record, { verb: verbOf(record.method, p.name, watch), resource: p.resource, namespace: p.namespace, name: p.name, subresource: p.subresource, watch });
    }
    res.on('close', () => {
      record.endedAt ??= Date.now();
      if (record.status === 0 && res.headersSent) record.status = res.statusCode;
    });
    try {
      if (this.state === 'unavailable') throw statusErrors.unavailable();
      if (['/healthz', '/readyz', '/livez'].includes(url.pathname)) return this.send(res, record, 200, 'ok', 'text/plain; charset=utf-8');
      if (req.headers.authorization !== `Bearer ${this.token}`) throw statusErrors.unauthorized();
      await this.route(req, res, url, record);
    } catch (err) {
      if (res.headersSent || res.destroyed) return;
      const e = err instanceof KubeStatusError ? err : statusErrors.internal((err as Error).message);
      this.send(res, record, e.code, JSON.stringify(e.toStatus()));
    }
  }

  private send(res: ServerResponse, record: KubeRequestRecord, code: number, body: string, contentType = 'application/json'): void {
    record.status = code;
    res.writeHead(code, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, record: KubeRequestRecord): Promise<void> {
    const method = req.method ?? 'GET';
    if (method === 'GET' && this.special(res, url, record)) return;
    const parsed = parsePath(url.pathname);
    if (parsed === undefined) throw statusErrors.pathNotFound();
    if (parsed.type === 'discovery') {
      if (method !== 'GET') throw statusErrors.methodNotAllowed(method);
      return this.send(res, record, 200, JSON.stringify(this.discovery(parsed.group, parsed.version)));
    }
    const p = parsed.path;
    const rt = this.lookup(p);
    const { verb } = record;
    const allowed = verb === 'list' || verb === 'watch' ? p.subresource === undefined
      : verb === 'get' || verb === 'update' || verb === 'patch' ? p.name !== undefined
        : verb === 'create' ? p.name === undefined && (!rt.namespaced || p.namespace !== undefined)
          : verb === 'delete' ? p.name !== undefined && p.subresource === undefined : false;
    if (!allowed) throw statusErrors.methodNotAllowed(method);
    this.authorize(verb, rt, p);
    switch (verb) {
      case 'list': return this.serveList(res, url, record, rt, p);
      case 'watch': return this.serveWatch(res, url, record, rt, p);
      case 'get': {
        const s = this.store.get(rt, p.namespace, p.name ?? '');
        if (s === undefined) throw statusErrors.notFound(rt, p.name ?? '');
        return this.send(res, record, 200, fullJson(s));
      }
      case 'create': {
        const body = this.decodeObject(rt, await readBody(req, mediaType(req)));
        this.checkNamespace(rt, p, body);
        return this.send(res, record, 201, fullJson(this.store.create(rt, body, 'main')));
      }
      case 'update': {
        const body = this.decodeObject(rt, await readBody(req, mediaType(req)));
        this.checkNamespace(rt, p, body);
        this.checkName(p, body);
        return this.send(res, record, 200, fullJson(this.store.update(rt, body, p.subresource === 'status' ? 'status' : 'main')));
      }
      case 'patch': return this.servePatch(req, res, url, record, rt, p);
      case 'delete': {
        const { object, gone } = this.store.delete(rt, p.namespace, p.name ?? '');
        return this.send(res, record, gone ? 200 : 202, fullJson(object));
      }
    }
  }

  /** Paths outside the resource tree: version, the issuer's discovery documents. */
  private special(res: ServerResponse, url: URL, record: KubeRequestRecord): boolean {
    if (url.pathname === '/version') {
      this.send(res, record, 200, JSON.stringify({ major: '1', minor: '31', gitVersion: 'v1.31.0', platform: 'linux/amd64' }));
      return true;
    }
    if (url.pathname === '/openid/v1/jwks' || url.pathname === '/.well-known/openid-configuration') {
      if (this.jwks === undefined) throw statusErrors.pathNotFound();
      const body = url.pathname === '/openid/v1/jwks' ? this.jwks : {
        issuer: 'https://kubernetes.default.svc.cluster.local', jwks_uri: `${this.url}/openid/v1/jwks`,
        response_types_supported: ['id_token'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'],
      };
      this.send(res, record, 200, JSON.stringify(body), url.pathname === '/openid/v1/jwks' ? 'application/jwk-set+json' : 'application/json');
      return true;
    }
    return false;
  }

  private lookup(p: ResourcePath): ResourceType {
    const rt = RESOURCE_TYPES.get(p.resource as KubeResource);
    if (rt === undefined || !this.served.has(rt.resource) || rt.group !== p.group || rt.version !== p.version) throw statusErrors.pathNotFound();
    // A cluster-scoped kind has no namespaced path; a namespaced object is named only inside its namespace.
    if (p.namespace !== undefined && !rt.namespaced) throw statusErrors.pathNotFound();
    if (p.name !== undefined && rt.namespaced && p.namespace === undefined) throw statusErrors.pathNotFound();
    if (p.subresource !== undefined && !(p.subresource === 'status' && rt.statusSubresource)) throw statusErrors.pathNotFound();
    return rt;
  }

  private authorize(verb: KubeVerb, rt: ResourceType, p: ResourcePath): void {
    const denied = (p.namespace !== undefined && this.forbiddenNamespaces.has(p.namespace))
      || this.denied.has(`${verb} ${rt.resource}${p.subresource === undefined ? '' : `/${p.subresource}`}`);
    if (denied) throw statusErrors.forbidden(this.user, verb, rt, p.name, p.namespace, p.subresource);
  }

  private selectors(url: URL, rt: ResourceType, p: ResourcePath): { label: ReturnType<typeof parseLabelSelector>; field: FieldRequirement[] } {
    const label = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
    const field = parseFieldSelector(url.searchParams.get('fieldSelector') ?? '', new Set(rt.fields.keys()), rt.custom);
    // The deprecated watch of one named object is a watch with metadata.name=<name>.
    if (p.name !== undefined) field.push({ field: 'metadata.name', value: p.name, negate: false });
    return { label, field };
  }

  private serveList(res: ServerResponse, url: URL, record: KubeRequestRecord, rt: ResourceType, p: ResourcePath): void {
    const page = this.store.list(rt, {
      namespace: p.namespace, ...this.selectors(url, rt, p), limit: intParam(url, 'limit'),
      continueToken: url.searchParams.get('continue') ?? undefined,
      resourceVersion: url.searchParams.get('resourceVersion') ?? undefined,
      resourceVersionMatch: url.searchParams.get('resourceVersionMatch') ?? undefined,
    });
    const metadata = {
      resourceVersion: String(page.resourceVersion),
      ...(page.continue === undefined ? {} : { continue: page.continue }),
      ...(page.remainingItemCount === undefined ? {} : { remainingItemCount: page.remainingItemCount }),
    };
    // Items of built-in kinds have no kind/apiVersion in a list; custom resources are stored and served whole.
    const items = page.items.map((s: StoredObject) => (rt.custom ? fullJson(s) : s.body)).join(',');
    this.send(res, record, 200, `{"kind":"${rt.listKind}","apiVersion":"${rt.apiVersion}","metadata":${JSON.stringify(metadata)},"items":[${items}]}`);
  }

  private serveWatch(res: ServerResponse, url: URL, record: KubeRequestRecord, rt: ResourceType, p: ResourcePath): void {
    const resourceVersion = parseResourceVersion(url.searchParams.get('resourceVersion') ?? undefined);
    const bookmarks = boolParam(url, 'allowWatchBookmarks');
    const sendInitialEvents = boolParam(url, 'sendInitialEvents');
    if (sendInitialEvents && (!bookmarks || url.searchParams.get('resourceVersionMatch') !== 'NotOlderThan')) {
      throw statusErrors.invalid('ListOptions', 'meta.k8s.io', '', [{ field: 'sendInitialEvents', type: 'FieldValueInvalid',
        detail: 'Forbidden: sendInitialEvents is forbidden for watch unless allowWatchBookmarks=true and resourceVersionMatch=NotOlderThan' }]);
    }
    const timeoutSeconds = intParam(url, 'timeoutSeconds');
    this.hub.serve({
      rt, namespace: p.namespace, ...this.selectors(url, rt, p), resourceVersion: sendInitialEvents ? undefined : resourceVersion,
      bookmarks, sendInitialEvents, timeoutSeconds: timeoutSeconds !== undefined && timeoutSeconds > 0 ? timeoutSeconds : undefined,
    }, res, record);
  }

  private async servePatch(req: IncomingMessage, res: ServerResponse, url: URL, record: KubeRequestRecord, rt: ResourceType, p: ResourcePath): Promise<void> {
    const type = PATCH_TYPES[mediaType(req)];
    const accepted = Object.keys(PATCH_TYPES).filter((t) => !(rt.custom && PATCH_TYPES[t] === 'strategic'));
    if (type === undefined || (type === 'strategic' && rt.custom)) throw statusErrors.unsupportedMediaType(accepted);
    if (type === 'apply' && (url.searchParams.get('fieldManager') ?? '') === '') {
      throw statusErrors.invalid('PatchOptions', 'meta.k8s.io', '', [{ field: 'fieldManager', type: 'FieldValueRequired', detail: 'Required value: is required for apply patch' }]);
    }
    const patch = decodePatch(type, (await readBody(req, undefined)).text);
    const mode = p.subresource === 'status' ? 'status' : 'main';
    const existing = this.store.get(rt, p.namespace, p.name ?? '');
    if (existing === undefined) {
      // Server-side apply creates; every other patch needs the object.
      if (type !== 'apply' || mode === 'status') throw statusErrors.notFound(rt, p.name ?? '');
      const body = this.asObject(rt, patch);
      this.checkNamespace(rt, p, body);
      this.checkName(p, body);
      return this.send(res, record, 201, fullJson(this.store.create(rt, body, 'main')));
    }
    const patched = this.asObject(rt, applyPatch(type, JSON.parse(fullJson(existing)), patch));
    this.checkNamespace(rt, p, patched);
    this.checkName(p, patched);
    this.send(res, record, 200, fullJson(this.store.update(rt, patched, mode)));
  }

  /** A create or update body: JSON (or YAML) of one object of the URL's kind. */
  private decodeObject(rt: ResourceType, raw: { text: string; yaml: boolean }): KubeObject {
    let value: unknown;
    try {
      value = raw.yaml ? parseYaml(raw.text) : JSON.parse(raw.text);
    } catch (err) {
      throw statusErrors.badRequest(`the object provided is unrecognized (must be of type ${rt.kind}): couldn't get version/kind; json parse error: ${(err as Error).message}`);
    }
    return this.asObject(rt, value);
  }

  private asObject(rt: ResourceType, value: unknown): KubeObject {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw statusErrors.badRequest(`the object provided is unrecognized (must be of type ${rt.kind}): couldn't get version/kind; json parse error: json: cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value} into Go value of type struct`);
    }
    const o = value as KubeObject;
    if (o.kind !== undefined && o.kind !== rt.kind) throw statusErrors.badRequest(`the kind in the request body (${String(o.kind)}) does not match the kind of the resource (${rt.kind})`);
    if (o.apiVersion !== undefined && o.apiVersion !== rt.apiVersion) {
      throw statusErrors.badRequest(`the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${rt.apiVersion})`);
    }
    if (o.metadata === undefined) o.metadata = {};
    if (typeof o.metadata !== 'object' || o.metadata === null || Array.isArray(o.metadata)) throw statusErrors.badRequest('metadata: must be an object');
    return o;
  }

  private checkNamespace(rt: ResourceType, p: ResourcePath, o: KubeObject): void {
    if (!rt.namespaced) return;
    if ((o.metadata.namespace ?? '') !== '' && o.metadata.namespace !== p.namespace) {
      throw statusErrors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    o.metadata.namespace = p.namespace;
  }

  private checkName(p: ResourcePath, o: KubeObject): void {
    if ((o.metadata.name ?? '') === '') o.metadata.name = p.name;
    if (o.metadata.name !== p.name) throw statusErrors.badRequest(`the name of the object (${String(o.metadata.name)}) does not match the name on the URL (${p.name ?? ''})`);
  }

  /** /api, /apis, /apis/{group}, /api/v1, /apis/{group}/{version}: what kubectl and client discovery read. */
  private discovery(group: string | undefined, version: string | undefined): unknown {
    const types = [...RESOURCE_TYPES.values()].filter((rt) => this.served.has(rt.resource));
    const groups = [...new Set(types.filter((t) => t.group !== '').map((t) => t.group))];
    const gv = (g: string) => {
      const v = types.find((t) => t.group === g)?.version ?? 'v1';
      return { groupVersion: `${g}/${v}`, version: v };
    };
    if (group === undefined) {
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map((g) => ({ name: g, versions: [gv(g)], preferredVersion: gv(g) })) };
    }
    if (group === '' && version === undefined) {
      return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }] };
    }
    if (version === undefined) {
      if (!groups.includes(group)) throw statusErrors.pathNotFound();
      return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions: [gv(group)], preferredVersion: gv(group) };
    }
    const here = types.filter((t) => t.group === group && t.version === version);
    if (here.length === 0) throw statusErrors.pathNotFound();
    const verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
    return {
      kind: 'APIResourceList', apiVersion: 'v1', groupVersion: here[0]?.apiVersion,
      resources: here.flatMap((t) => [
        { name: t.resource, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind, verbs },
        ...(t.statusSubresource ? [{ name: `${t.resource}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] }] : []),
      ]),
    };
  }
}

/** A request body up to the API server's 3 MiB limit (413 beyond); for POST/PUT the media type must be JSON or YAML (415). */
function readBody(req: IncomingMessage, media: string | undefined): Promise<{ text: string; yaml: boolean }> {
  if (media !== undefined && !['application/json', 'application/yaml'].includes(media)) {
    return Promise.reject(statusErrors.unsupportedMediaType(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Past the limit the rest is read and dropped, so the 413 reaches the client.
      if (size > MAX_BODY) reject(statusErrors.tooLarge());
      else chunks.push(c);
    });
    req.on('end', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), yaml: media === 'application/yaml' }));
    req.on('error', reject);
  });
}
