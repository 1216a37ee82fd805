import type { Catalog, CatalogState } from './catalog.js';
import type { Store } from './catalog-types.js';
import { CausewayError, ErrorCodes, describeError, isCausewayError } from './errors.js';
import { isPlainObject } from './field-checks.js';
import type { LocalRegistry, VersionState } from './local-registry.js';
import { silentLogger, type Logger } from './log.js';

/** What is saved under the store name: the local version counter and the whole catalog. */
export interface PersistedCatalog {
  version: VersionState;
  catalog: CatalogState;
}

export interface CatalogPersisterOptions {
  store: Store;
  catalog: Catalog;
  /** Store name; `<dataDir>/state/catalog.json` with a FileStore. */
  name?: string;
  /** Changes arriving within this window are written once. */
  debounceMs?: number;
  logger?: Logger;
}

/**
 * Keeps the catalog in the data dir so a restarted gateway (SIGKILL included) serves from its
 * last state before any peer answers (design brief, "Registry and replication").
 *
 * The restore order breaks the chicken-and-egg between the catalog and the local version
 * counter: `restore()` fills the catalog and returns the persisted counter, the gateway builds
 * LocalRegistry from it (or from a fresh epoch), then `start(localRegistry)` begins saving.
 */
export class CatalogPersister {
  private readonly store: Store;
  private readonly catalog: Catalog;
  private readonly name: string;
  private readonly debounceMs: number;
  private readonly log: Logger;
  private registry: LocalRegistry | undefined;
  private unsubscribers: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private saving: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;

  constructor(options: CatalogPersisterOptions) {
    this.store = options.store;
    this.catalog = options.catalog;
    this.name = options.name ?? 'catalog';
    this.debounceMs = options.debounceMs ?? 50;
    this.log = (options.logger ?? silentLogger()).child({ component: 'catalog-persister' });
  }

  /**
   * Loads the saved state into the catalog and returns the saved local version counter, or
   * undefined when nothing was saved. A malformed file is CW_STORE_CORRUPT naming every
   * problem, and then nothing is imported.
   */
  async restore(): Promise<VersionState | undefined> {
    const value = await this.store.load<unknown>(this.name);
    if (value === undefined) return undefined;
    const problems: string[] = [];
    const version = isPlainObject(value) && isPlainObject(value.version) ? value.version : undefined;
    if (!isPlainObject(value)) problems.push('expected {"version": {...}, "catalog": {...}}');
    else {
      if (version === undefined) problems.push('version: must be an object');
      else for (const field of ['epoch', 'seq'] as const) {
        if (!Number.isSafeInteger(version[field]) || (version[field] as number) < 0) {
          problems.push(`version.${field}: ${JSON.stringify(version[field])} is not a non-negative integer`);
        }
      }
      if (!isPlainObject(value.catalog)) problems.push('catalog: must be an object');
    }
    if (problems.length > 0) throw this.corrupt(problems);
    try {
      this.catalog.importState((value as unknown as PersistedCatalog).catalog);
    } catch (err) {
      if (isCausewayError(err, ErrorCodes.CATALOG_INVALID)) throw this.corrupt(err.details.map((d) => `catalog.${d}`));
      throw err;
    }
    const restored = { epoch: version?.epoch as number, seq: version?.seq as number };
    this.log.info({ ...restored, records: [...this.catalog.records()].length }, 'catalog restored');
    return restored;
  }

  /** Starts saving on every catalog or gateway change (debounced). */
  start(localRegistry: LocalRegistry): void {
    if (this.closing !== undefined) throw new CausewayError(ErrorCodes.CLOSED, 'catalog persister is closed');
    if (this.registry !== undefined) throw new CausewayError(ErrorCodes.INTERNAL, 'catalog persister is already started');
    this.registry = localRegistry;
    this.unsubscribers.push(this.catalog.onChange(() => this.markDirty()), this.catalog.onGatewayChange(() => this.markDirty()));
  }

  /** Writes pending changes now; rejects if that write fails (they stay pending). */
  async flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.write();
  }

  /** Stops listening and writes what is pending. Idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      for (const unsubscribe of this.unsubscribers) unsubscribe();
      this.unsubscribers = [];
      this.closing = this.flush();
    }
    return this.closing;
  }

  private markDirty(): void {
    this.dirty = true;
    if (this.timer !== undefined || this.closing !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.write().catch((err: unknown) => this.log.error({ err: describeError(err) }, 'saving the catalog failed; retrying on the next change'));
    }, this.debounceMs);
    // A pending save must not keep the process alive; close() flushes it.
    this.timer.unref();
  }

  /** One write at a time, each of the state as it is when the write starts. */
  private write(): Promise<void> {
    const run = this.saving.catch(() => undefined).then(async () => {
      const registry = this.registry;
      if (!this.dirty || registry === undefined) return;
      this.dirty = false;
      const state: PersistedCatalog = { version: registry.versionState(), catalog: this.catalog.exportState() };
      try {
        await this.store.save(this.name, state);
      } catch (err) {
        this.dirty = true;
        throw err;
      }
    });
    this.saving = run;
    return run;
  }

  private corrupt(problems: string[]): CausewayError {
    return new CausewayError(ErrorCodes.STORE_CORRUPT, `${this.name}: ${problems[0] ?? 'invalid'}`, { details: problems });
  }
}
