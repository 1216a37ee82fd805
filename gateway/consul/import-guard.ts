import type { Endpoint, ServiceDeclaration, ServiceKey, Source, SourceSink } from '../../registry/index.js';
import { CONSUL_META } from './consul-registration.js';

/** Which endpoints a datacenter's import must not bring in: those this gateway published there. */
export interface PublishedShape {
  /** The address published services are registered at (`publish.address`). */
  address: string;
  ports: { first: number; last: number };
}

/**
 * The Consul import of a datacenter this gateway also publishes into, wrapped so that the two
 * never feed each other (docs/consul.md):
 *
 * - the import does not bring in the services this gateway published — instances that carry
 *   our `causeway-service` meta, or sit at the publish address on a port of its range; a
 *   service left with no other instance is not declared at all;
 * - it tells the publisher what it did bring in (`importedKeys`), which is never published
 *   back, and whether its first sync is done (the publisher waits for it: before, a restored
 *   record of an import cannot be told from a federated service).
 *
 * Everything else — name, kind, sync, errors — is the wrapped source's; the publisher's own
 * problems are added to its last error, so they show in that source's status.
 */
export class ImportGuard implements Source {
  private readonly declared = new Set<ServiceKey>();
  private readonly syncWaiters: Array<() => void> = [];
  private syncedValue = false;
  private publishError: () => string | undefined = () => undefined;

  constructor(private readonly inner: Source, private readonly shape: PublishedShape) {}

  get name(): string {
    return this.inner.name;
  }

  get kind(): string {
    return this.inner.kind;
  }

  /** Services the import declares now. */
  importedKeys(): ReadonlySet<ServiceKey> {
    return this.declared;
  }

  /** Resolves once the import's first sync is done. */
  synced(): Promise<void> {
    if (this.syncedValue) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Where the publisher's last problem comes from (shown with the import's own). */
  reportPublishing(lastError: () => string | undefined): void {
    this.publishError = lastError;
  }

  lastError(): string | undefined {
    const errors = [this.inner.lastError?.(), this.publishError()].filter((e): e is string => e !== undefined && e !== '');
    return errors.length === 0 ? undefined : errors.join('; ');
  }

  async start(sink: SourceSink): Promise<void> {
    await this.inner.start(this.guarded(sink));
    this.syncedValue = true;
    for (const resolve of this.syncWaiters.splice(0)) resolve();
  }

  close(): Promise<void> {
    for (const resolve of this.syncWaiters.splice(0)) resolve();
    return this.inner.close();
  }

  private guarded(sink: SourceSink): SourceSink {
    return {
      replaceSource: (name, declarations) => {
        const kept = declarations.map((d) => this.withoutOurs(d)).filter((d): d is ServiceDeclaration => d !== undefined);
        this.declared.clear();
        for (const d of kept) this.declared.add(`${d.name}.${d.namespace}`);
        sink.replaceSource(name, kept);
      },
      upsert: (name, declaration) => {
        const key = `${declaration.name}.${declaration.namespace}`;
        const kept = this.withoutOurs(declaration);
        if (kept !== undefined) {
          this.declared.add(key);
          sink.upsert(name, kept);
        } else if (this.declared.delete(key)) sink.remove(name, key);
      },
      remove: (name, key) => {
        if (this.declared.delete(key)) sink.remove(name, key);
      },
    };
  }

  /** The declaration without our published instances; undefined when none of its instances is left. */
  private withoutOurs(declaration: ServiceDeclaration): ServiceDeclaration | undefined {
    const endpoints = declaration.endpoints.filter((e) => !this.isOurs(e));
    if (endpoints.length === declaration.endpoints.length) return declaration;
    return endpoints.length === 0 ? undefined : { ...declaration, endpoints };
  }

  private isOurs(endpoint: Endpoint): boolean {
    if (endpoint.labels[CONSUL_META.service] !== undefined) return true;
    const { address, ports } = this.shape;
    return endpoint.address === address && Object.values(endpoint.ports).some((p) => p >= ports.first && p <= ports.last);
  }
}
