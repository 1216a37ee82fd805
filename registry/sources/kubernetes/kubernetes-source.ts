import {
  CoreV1Api, CustomObjectsApi, DiscoveryV1Api, KubeConfig, makeInformer,
  type Informer, type KubernetesListObject, type KubernetesObject, type ObjectCache,
  type V1EndpointSlice, type V1Node, type V1Pod, type V1Service,
} from '@kubernetes/client-node';
import { describeError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log.js';
import type { Locality, ServiceDeclaration, ServiceKey } from '../../model.js';
import type { Source, SourceSink } from '../../catalog-types.js';
import { EXPORT_ANNOTATION, SERVICE_NAME_LABEL, declarationOf, exportOf, type TranslateContext } from './translate.js';
import { ExportStatusWriter } from './export-status.js';

export interface KubernetesSourceOptions {
  name: string;
  /** The client configuration: in-cluster, a kubeconfig file, or one built by a test. */
  kubeConfig: KubeConfig;
  trustDomain: string;
  /** The gateway's locality (its cluster is the endpoints' cluster). */
  locality: Locality;
  /** Follow MCS ServiceExports (multicluster.x-k8s.io/v1alpha1). Default true; a cluster without the CRD is fine. */
  serviceExports?: boolean;
  /** First retry of a failed list or watch; doubles to maxBackoffMs. Default 1000 ms. */
  minBackoffMs?: number;
  /** Default 30 000 ms. */
  maxBackoffMs?: number;
  /** Write export outcomes back: ServiceExport conditions, Warning Events for refused annotations. Default true. */
  writeStatus?: boolean;
  logger?: Logger;
}

type Cached<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

const MCS_GROUP = 'multicluster.x-k8s.io';
const MCS_VERSION = 'v1alpha1';
/** Services translated per turn of the event loop. */
const FLUSH_CHUNK = 250;

/**
 * A Kubernetes cluster's Services as a registry source (design brief: the gateway watches its
 * own API server only, never a remote one). Informers (client-node ListWatch: list, then
 * watch from its resourceVersion; `410 Gone`, as an HTTP status or an in-stream ERROR event,
 * re-lists — https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes)
 * follow Services and discovery.k8s.io/v1 EndpointSlices, plus Pods (only for their service
 * account: the endpoint identity) and Nodes (only for their region and zone labels), and MCS
 * ServiceExports. client-node's informer stops on any other error; this source restarts it
 * with capped exponential backoff and shows the error in its status meanwhile. The first sync
 * is pushed only after every initial list, so restored services are not swept early.
 *
 * Every event marks the services it touches; marked services are translated (translate.ts)
 * and pushed together on the next turn, so a burst — a Deployment rolled, a relist after
 * 410 — costs one declaration per service, not one per event.
 */
export class KubernetesSource implements Source {
  readonly kind = 'kubernetes';
  private readonly logger: Logger;
  private sink: SourceSink | undefined;
  private readonly informers: Array<{ what: string; informer: Cached<KubernetesObject>; required: boolean }> = [];
  private services!: Cached<V1Service>;
  private slices!: Cached<V1EndpointSlice>;
  private pods!: Cached<V1Pod>;
  private nodes!: Cached<V1Node>;
  private exports: Cached<KubernetesObject> | undefined;
  private readonly dirty = new Set<ServiceKey>();
  private readonly declared = new Set<ServiceKey>();
  /** Which services an endpoint of a pod / a node appears in, so a pod or node event marks only those. */
  private readonly byPod = new Map<string, Set<ServiceKey>>();
  private readonly byNode = new Map<string, Set<ServiceKey>>();
  /** Per service, the pods and nodes it was indexed under (so re-indexing one service touches only its own). */
  private readonly refsOf = new Map<ServiceKey, { pods: string[]; nodes: string[] }>();
  private draining: Promise<void> | undefined;
  /** Per service, the names of the EndpointSlices labelled with it; per slice, that service. */
  private readonly slicesOf = new Map<ServiceKey, Set<string>>();
  private readonly serviceOfSlice = new Map<string, ServiceKey>();
  private readonly errors = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  /** Who waits for an informer's first successful list (start). */
  private readonly waiting = new Map<string, Array<() => void>>();
  private synced = false;
  private closed = false;
  private status: ExportStatusWriter | undefined;

  constructor(private readonly options: KubernetesSourceOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'kubernetes-source', source: options.name });
  }

  get name(): string {
    return this.options.name;
  }

  lastError(): string | undefined {
    const problems = [...this.errors.entries()].map(([what, err]) => `${what}: ${err}`);
    return problems.length === 0 ? undefined : problems.join('; ');
  }

  async start(sink: SourceSink): Promise<void> {
    this.sink = sink;
    const config = this.options.kubeConfig;
    if (this.options.writeStatus ?? true) this.status = new ExportStatusWriter(config, this.logger);
    const core = config.makeApiClient(CoreV1Api);
    const discovery = config.makeApiClient(DiscoveryV1Api);
    this.services = this.informer('services', '/api/v1/services', () => core.listServiceForAllNamespaces(), true) as Cached<V1Service>;
    this.slices = this.informer('endpointslices', '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces(), true) as Cached<V1EndpointSlice>;
    this.pods = this.informer('pods', '/api/v1/pods', () => core.listPodForAllNamespaces(), true) as Cached<V1Pod>;
    this.nodes = this.informer('nodes', '/api/v1/nodes', () => core.listNode(), true) as Cached<V1Node>;
    if (this.options.serviceExports ?? true) {
      const custom = config.makeApiClient(CustomObjectsApi);
      this.exports = this.informer('serviceexports', `/apis/${MCS_GROUP}/${MCS_VERSION}/serviceexports`,
        () => custom.listClusterCustomObject({ group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceexports' }) as Promise<KubernetesListObject<KubernetesObject>>, false);
    }
    this.services.on('add', (s) => this.markService(s));
    this.services.on('update', (s) => this.markService(s));
    this.services.on('delete', (s) => this.markService(s));
    this.slices.on('add', (slice) => this.indexSlice(slice, false));
    this.slices.on('update', (slice) => this.indexSlice(slice, false));
    this.slices.on('delete', (slice) => this.indexSlice(slice, true));
    for (const verb of ['add', 'update', 'delete'] as const) {
      this.pods.on(verb, (pod) => this.markAll(this.byPod.get(`${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`)));
      this.nodes.on(verb, (node) => this.markAll(this.byNode.get(node.metadata?.name ?? '')));
      this.exports?.on(verb, (e) => this.markKey(`${e.metadata?.name ?? ''}.${e.metadata?.namespace ?? ''}`));
    }
    // Every initial list, in parallel; a required informer that fails keeps being retried and
    // this start resolves only once all have listed (the gateway does not wait for it).
    await Promise.all(this.informers.map((entry) => this.startInformer(entry.what, entry.informer, entry.required)));
    if (this.closed) return;
    this.synced = true;
    for (const service of this.services.list()) this.dirty.add(keyOf(service));
    await this.drain();
    this.logger.info({ services: this.declared.size }, 'Kubernetes synced');
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(this.informers.map(({ informer }) => informer.stop().catch(() => undefined)));
    this.sink = undefined;
  }

  private informer<T extends KubernetesObject>(what: string, path: string, list: () => Promise<KubernetesListObject<T>>, required: boolean): Cached<T> {
    const informer = makeInformer<T>(this.options.kubeConfig, path, list) as unknown as Cached<KubernetesObject>;
    this.informers.push({ what, informer, required });
    // client-node reports a failed list or watch to 'error' and stops the informer (a 410
    // alone it handles by re-listing): restart it after a backoff.
    informer.on('error', (err: unknown) => {
      if (this.closed) return;
      this.noteError(what, err);
      this.schedule(() => void this.attempt(what, informer), this.backoff(what));
    });
    return informer as unknown as Cached<T>;
  }

  /** (Re)starts one informer; when it has listed, its error clears and its first-list waiters go. */
  private async attempt(what: string, informer: Cached<KubernetesObject>): Promise<void> {
    await informer.start().catch((err: unknown) => this.noteError(what, err));
    // start() resolves after a failed list as well (the failure went to 'error'): only a
    // resourceVersion says the list succeeded.
    if (resourceVersionOf(informer) === '') return;
    this.failures.delete(what);
    if (this.errors.delete(what)) this.logger.info({ what }, 'Kubernetes list and watch restored');
    for (const listed of this.waiting.get(what)?.splice(0) ?? []) listed();
  }

  /** The first list of one informer: resolves once it has listed; at once for an optional one (the MCS CRD may be absent). */
  private startInformer(what: string, informer: Cached<KubernetesObject>, required: boolean): Promise<void> {
    const listed = new Promise<void>((resolve) => {
      const waiters = this.waiting.get(what) ?? [];
      waiters.push(resolve);
      this.waiting.set(what, waiters);
    });
    const first = this.attempt(what, informer);
    return required ? listed : first;
  }

  private noteError(what: string, err: unknown): void {
    const text = describeKubeError(err);
    this.errors.set(what, text);
    this.logger.warn({ what, err: text }, 'Kubernetes list or watch failed; retrying with backoff');
  }

  private backoff(what: string): number {
    const n = (this.failures.get(what) ?? 0) + 1;
    this.failures.set(what, n);
    const min = this.options.minBackoffMs ?? 1000;
    return Math.min(this.options.maxBackoffMs ?? 30_000, min * 2 ** (n - 1));
  }

  private schedule(run: () => void, ms: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) run();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private markService(service: V1Service): void {
    this.markKey(keyOf(service));
  }

  /** Keeps slicesOf current (a slice may be relabelled to another Service) and marks the services it touches. */
  private indexSlice(slice: V1EndpointSlice, deleted: boolean): void {
    const namespace = slice.metadata?.namespace ?? '';
    const id = `${namespace}/${slice.metadata?.name ?? ''}`;
    const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    const next = deleted || service === undefined ? undefined : `${service}.${namespace}`;
    const previous = this.serviceOfSlice.get(id);
    if (previous !== undefined && previous !== next) {
      drop(this.slicesOf, previous, slice.metadata?.name ?? '');
      this.serviceOfSlice.delete(id);
      this.markKey(previous);
    }
    if (next !== undefined) {
      add(this.slicesOf, next, slice.metadata?.name ?? '');
      this.serviceOfSlice.set(id, next);
      this.markKey(next);
    }
  }

  private markAll(keys: ReadonlySet<ServiceKey> | undefined): void {
    for (const key of keys ?? []) this.markKey(key);
  }

  private markKey(key: ServiceKey): void {
    this.dirty.add(key);
    if (!this.synced || this.draining !== undefined) return;
    void this.drain();
  }

  /**
   * Translates and pushes the marked services, FLUSH_CHUNK at a time with a turn of the event
   * loop between chunks: a first sync of thousands of Services must not stop the gateway from
   * answering its probes, peers and callers meanwhile. Resolves when nothing is marked.
   */
  private drain(): Promise<void> {
    this.draining ??= (async () => {
      try {
        while (this.dirty.size > 0 && !this.closed) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          this.flush();
        }
      } finally {
        this.draining = undefined;
      }
    })();
    return this.draining;
  }

  private flush(): void {
    if (this.closed || this.sink === undefined) return;
    const context: TranslateContext = {
      trustDomain: this.options.trustDomain, locality: this.options.locality,
      pod: (namespace, name) => this.pods.get(name, namespace),
      node: (name) => this.nodes.get(name),
      serviceExport: (namespace, name) => this.exports?.get(name, namespace) !== undefined,
    };
    const keys: ServiceKey[] = [];
    for (const key of this.dirty) {
      keys.push(key);
      if (keys.length === FLUSH_CHUNK) break;
    }
    for (const key of keys) this.dirty.delete(key);
    for (const key of keys) {
      const dot = key.indexOf('.');
      const name = key.slice(0, dot);
      const namespace = key.slice(dot + 1);
      const service = this.services.get(name, namespace);
      const slices = service === undefined ? [] : [...(this.slicesOf.get(key) ?? [])].flatMap((slice) => {
        const found = this.slices.get(slice, namespace);
        return found === undefined ? [] : [found];
      });
      // One export decision per service: it shapes the declaration and what the owner is told.
      const decision = service === undefined ? undefined : exportOf(service, context);
      const declaration = service === undefined ? undefined : declarationOf(service, slices, context, decision);
      this.index(key, slices);
      const asked = service !== undefined && (service.metadata?.annotations?.[EXPORT_ANNOTATION] !== undefined || context.serviceExport(namespace, name));
      const exportProblem = decision !== undefined && 'problem' in decision ? decision.problem
        : asked && declaration === undefined ? 'the Service has no TCP port the mesh can carry' : undefined;
      this.status?.update({
        namespace, name, hasServiceExport: context.serviceExport(namespace, name), serviceExists: service !== undefined,
        exported: declaration?.exported ?? false, to: declaration?.exportTo, problem: exportProblem,
      });
      if (exportProblem !== undefined) {
        this.errors.set(`service ${key}`, `not exported: ${exportProblem}`);
        this.logger.warn({ service: key, err: exportProblem }, 'export annotation refused; the service is not exported');
      } else {
        this.errors.delete(`service ${key}`);
      }
      if (declaration === undefined) {
        if (this.declared.delete(key)) this.sink.remove(this.options.name, key);
        continue;
      }
      this.push(key, declaration);
    }
  }

  private push(key: ServiceKey, declaration: ServiceDeclaration): void {
    try {
      this.sink?.upsert(this.options.name, declaration);
      this.declared.add(key);
      if (this.errors.delete(`import ${key}`)) this.logger.info({ service: key }, 'service accepted again');
    } catch (err) {
      this.errors.set(`import ${key}`, describeError(err));
      this.logger.warn({ service: key, err: describeError(err) }, 'Kubernetes service not imported');
    }
  }

  /** Remembers which pods and nodes back `key`'s endpoints (their events re-translate it). */
  private index(key: ServiceKey, slices: readonly V1EndpointSlice[]): void {
    const held = this.refsOf.get(key);
    if (held !== undefined) {
      for (const pod of held.pods) drop(this.byPod, pod, key);
      for (const node of held.nodes) drop(this.byNode, node, key);
    }
    const refs = { pods: [] as string[], nodes: [] as string[] };
    for (const slice of slices) {
      for (const endpoint of slice.endpoints ?? []) {
        const ref = endpoint.targetRef;
        if (ref?.kind === 'Pod' && ref.name !== undefined) refs.pods.push(`${ref.namespace ?? slice.metadata?.namespace ?? ''}/${ref.name}`);
        if (endpoint.nodeName !== undefined) refs.nodes.push(endpoint.nodeName);
      }
    }
    for (const pod of refs.pods) add(this.byPod, pod, key);
    for (const node of refs.nodes) add(this.byNode, node, key);
    if (refs.pods.length === 0 && refs.nodes.length === 0) this.refsOf.delete(key);
    else this.refsOf.set(key, refs);
  }
}

function drop(map: Map<string, Set<ServiceKey>>, ref: string, key: ServiceKey): void {
  const keys = map.get(ref);
  if (keys === undefined) return;
  keys.delete(key);
  if (keys.size === 0) map.delete(ref);
}

function add(map: Map<string, Set<ServiceKey>>, ref: string, key: ServiceKey): void {
  const keys = map.get(ref) ?? new Set<ServiceKey>();
  keys.add(key);
  map.set(ref, keys);
}

function resourceVersionOf(informer: unknown): string {
  const latest = (informer as { latestResourceVersion?: () => string }).latestResourceVersion;
  return typeof latest === 'function' ? latest.call(informer) : '';
}

function keyOf(object: KubernetesObject): ServiceKey {
  return `${object.metadata?.name ?? ''}.${object.metadata?.namespace ?? ''}`;
}

/** client-node's errors: an ApiException (code, body), a watch's HTTP status, or a socket error. */
function describeKubeError(err: unknown): string {
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; message?: unknown } | undefined;
  const status = typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  let reason = describeError(err);
  if (typeof e?.body === 'string') {
    try {
      const body = JSON.parse(e.body) as { message?: unknown };
      if (typeof body.message === 'string') reason = body.message;
    } catch {
      // Not a Status: keep the message.
    }
  }
  if (status === 401) return 'the API server refused the credentials (401)';
  if (status === 403) return `forbidden (403): the gateway's service account lacks list/watch here: ${reason}`;
  if (status === 404) return `not found (404): ${reason}`;
  return status === undefined ? reason : `HTTP ${status}: ${reason}`;
}
