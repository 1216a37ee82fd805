import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { describeError, silentLogger, type CatalogReader, type Logger, type ResolvedService } from '../../registry/index.js';

const MCS = { group: 'multicluster.x-k8s.io', version: 'v1alpha1', plural: 'serviceimports' };
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
const MANAGED_BY = 'causeway';
/** Changes are written at most this often (a peer's snapshot may change thousands of services at once). */
const SETTLE_MS = 200;

type Catalog = CatalogReader & { serviceKeys(): string[] };

/**
 * Services imported from peers, written as MCS ServiceImports (KEP-1645,
 * multicluster.x-k8s.io/v1alpha1) for visibility — `kubectl get serviceimports -A` shows what
 * the federation offers this cluster, with the clusters serving each (opt-in,
 * `sources.kubernetes.serviceImports`). Only ServiceImports labelled managed-by=causeway are
 * ever touched: they are listed at start to reconcile with the catalog, created or updated
 * when a remote service appears or changes, and deleted when it is gone. Calls still go
 * through the gateway (`<name>.<namespace>` at the outbound listener); the ServiceImport
 * carries no IPs. A namespace that does not exist here is skipped and logged.
 */
export class ServiceImportWriter {
  private readonly api: CustomObjectsApi;
  private readonly logger: Logger;
  private readonly written = new Map<string, string>();
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(kubeConfig: KubeConfig, private readonly catalog: Catalog, logger?: Logger) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
    this.logger = (logger ?? silentLogger()).child({ component: 'service-imports' });
  }

  /** Reads what we wrote before (a restart), then follows the catalog. */
  async start(): Promise<void> {
    try {
      const list = await this.api.listClusterCustomObject({ ...MCS, labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` }) as { items?: Array<{ metadata?: { name?: string; namespace?: string } }> };
      for (const item of list.items ?? []) this.written.set(`${item.metadata?.name ?? ''}.${item.metadata?.namespace ?? ''}`, '');
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'cannot list ServiceImports; ones left by an earlier run stay until their service changes');
    }
    this.unsubscribe = this.catalog.onChange(() => this.schedule());
    this.schedule();
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.closed || this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.running.then(() => this.reconcile());
    }, SETTLE_MS);
    this.timer.unref();
  }

  /** What the catalog imports from peers now, written where it differs from what we wrote. */
  private async reconcile(): Promise<void> {
    const wanted = new Map<string, ResolvedService>();
    for (const key of this.catalog.serviceKeys()) {
      const service = this.catalog.resolve(key);
      if (service === undefined) continue;
      const remote = [...service.clusters.keys()].filter((c) => c !== this.catalog.localCluster);
      if (remote.length > 0) wanted.set(key, service);
    }
    for (const [key, service] of wanted) {
      if (this.closed) return;
      const body = this.objectOf(service);
      const signature = JSON.stringify(body);
      if (this.written.get(key) === signature) continue;
      await this.apply(key, service, body, this.written.has(key));
    }
    for (const key of [...this.written.keys()]) {
      if (this.closed || wanted.has(key)) continue;
      const dot = key.indexOf('.');
      try {
        await this.api.deleteNamespacedCustomObject({ ...MCS, namespace: key.slice(dot + 1), name: key.slice(0, dot) });
      } catch (err) {
        if ((err as { code?: number }).code !== 404) {
          this.logger.warn({ service: key, err: describeError(err) }, 'cannot delete the ServiceImport');
          continue;
        }
      }
      this.written.delete(key);
    }
  }

  private objectOf(service: ResolvedService): { spec: unknown; status: unknown; labels: Record<string, string> } {
    return {
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
      spec: {
        type: 'ClusterSetIP',
        ports: service.ports.map((p) => ({ name: p.name, port: p.port, protocol: 'TCP', ...(p.protocol === 'tcp' ? {} : { appProtocol: p.protocol }) })),
      },
      status: { clusters: [...service.clusters.keys()].filter((c) => c !== this.catalog.localCluster).sort().map((cluster) => ({ cluster })) },
    };
  }

  private async apply(key: string, service: ResolvedService, body: ReturnType<ServiceImportWriter['objectOf']>, exists: boolean): Promise<void> {
    const target = { ...MCS, namespace: service.namespace, name: service.name };
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    try {
      if (exists) {
        await this.api.patchNamespacedCustomObject({ ...target, body: { metadata: { labels: body.labels }, spec: body.spec } }, merge);
      } else {
        await this.api.createNamespacedCustomObject({
          ...MCS, namespace: service.namespace,
          body: { apiVersion: `${MCS.group}/${MCS.version}`, kind: 'ServiceImport', metadata: { name: service.name, namespace: service.namespace, labels: body.labels }, spec: body.spec },
        });
      }
      // Status only through its subresource (create and replace ignore it).
      await this.api.patchNamespacedCustomObjectStatus({ ...target, body: { status: body.status } }, merge);
      this.written.set(key, JSON.stringify(body));
    } catch (err) {
      const code = (err as { code?: number }).code;
      // Created meanwhile by another writer (or left over): patch it next time.
      if (code === 409) this.written.set(key, '');
      this.logger.warn({ service: key, status: code, err: describeError(err) }, 'cannot write the ServiceImport');
    }
  }
}
