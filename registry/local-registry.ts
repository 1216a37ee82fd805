import type { Catalog } from './catalog.js';
import type { LocalRegistryWriter, ObservedHealth, ObservedHealthWriter } from './catalog-types.js';
import { CausewayError, ErrorCodes } from './errors.js';
import { deepEqual } from './immutable.js';
import { silentLogger, type Logger } from './log.js';
import { serviceKey, type Endpoint, type ServiceDeclaration, type ServiceKey, type ServicePort, type ServiceRecord, type Version } from './model.js';
import { endpointKey } from './validate.js';
import { compareVersions } from './version.js';

/** The local version counter as persisted: the next change carries `{epoch, seq + 1}`. */
export interface VersionState {
  epoch: number;
  seq: number;
}

export interface LocalRegistryOptions {
  catalog: Catalog;
  /**
   * Restored from the data dir, so seq continues where it stopped. Without it the epoch is
   * the current time in ms: a gateway whose data dir was wiped still outranks every stale
   * copy of its old records that peers hold (their epoch is older).
   */
  version?: VersionState;
  now?: () => number;
  logger?: Logger;
}

/**
 * The single writer of the local cluster's records (design brief: each cluster is the single
 * writer of its own services). Sources declare services; declarations of one key from several
 * sources are merged (Istio's aggregate registry): ports unioned by name, endpoints unioned by
 * address and ports, exported if any source exports — to the peers any exporting source
 * exports it to (the union of their exportTo, or every peer when one of them has none; see
 * mergedExportTo). A merged result that differs from the
 * held record gets the next local version; an unchanged one gets none, so re-declaring is
 * free and a restart does not re-version (and re-replicate) everything.
 *
 * Active health checks add an overlay on top of the declarations: an endpoint's observed
 * health replaces its declared one, except that a declared `unhealthy` (a source draining the
 * endpoint) always wins. The overlay takes part in the merge like a declaration, so a change
 * of effective health is a new version that replicates and is persisted like any other, and
 * an unchanged verdict costs nothing.
 */
export class LocalRegistry implements LocalRegistryWriter, ObservedHealthWriter {
  private readonly catalog: Catalog;
  private readonly log: Logger;
  private readonly sources = new Map<string, Map<ServiceKey, ServiceDeclaration>>();
  /** Observed health per service, by endpointKey. Entries of endpoints that disappear are dropped at the merge. */
  private readonly observed = new Map<ServiceKey, Map<string, ObservedHealth>>();
  private epoch: number;
  private seq: number;

  constructor(options: LocalRegistryOptions) {
    this.catalog = options.catalog;
    this.log = (options.logger ?? silentLogger()).child({ component: 'local-registry' });
    const start = options.version ?? { epoch: (options.now ?? Date.now)(), seq: 0 };
    if (!Number.isSafeInteger(start.epoch) || start.epoch < 0 || !Number.isSafeInteger(start.seq) || start.seq < 0) {
      throw new CausewayError(ErrorCodes.CATALOG_INVALID, `version: ${JSON.stringify(start)} needs non-negative integer epoch and seq`);
    }
    this.epoch = start.epoch;
    this.seq = start.seq;
    // Never issue a version at or below one the catalog already holds for us (e.g. restored
    // records saved after the counter): continue after the highest.
    for (const record of this.catalog.recordsOf(this.catalog.localCluster)) {
      if (compareVersions(record.version, this.nextVersion()) >= 0) {
        this.epoch = record.version.epoch;
        this.seq = record.version.seq;
      }
    }
  }

  nextVersion(): Version {
    return { origin: this.catalog.localCluster, epoch: this.epoch, seq: this.seq + 1 };
  }

  /** For persistence: the last version issued (seq 0: none yet in this epoch). */
  versionState(): VersionState {
    return { epoch: this.epoch, seq: this.seq };
  }

  replaceSource(source: string, declarations: readonly ServiceDeclaration[]): void {
    const next = new Map<ServiceKey, ServiceDeclaration>();
    for (const d of declarations) {
      const key = serviceKey(d.name, d.namespace);
      if (next.has(key)) throw new CausewayError(ErrorCodes.CATALOG_INVALID, `source ${source}: ${key} is declared twice`);
      next.set(key, d);
    }
    const affected = new Set([...(this.sources.get(source)?.keys() ?? []), ...next.keys()]);
    this.commit(affected, () => {
      if (next.size === 0) this.sources.delete(source);
      else this.sources.set(source, next);
    });
  }

  upsert(source: string, declaration: ServiceDeclaration): void {
    const key = serviceKey(declaration.name, declaration.namespace);
    this.commit(new Set([key]), () => {
      const declared = this.sources.get(source) ?? new Map<ServiceKey, ServiceDeclaration>();
      declared.set(key, declaration);
      this.sources.set(source, declared);
    });
  }

  remove(source: string, key: ServiceKey): void {
    const declared = this.sources.get(source);
    if (declared === undefined || !declared.has(key)) return;
    this.commit(new Set([key]), () => {
      declared.delete(key);
      if (declared.size === 0) this.sources.delete(source);
    });
  }

  setObservedHealth(key: ServiceKey, endpointId: string, health: ObservedHealth | undefined): boolean {
    if (health !== undefined && health !== 'healthy' && health !== 'unhealthy') {
      throw new CausewayError(ErrorCodes.CATALOG_INVALID, `observed health of ${key} ${endpointId}: ${JSON.stringify(health)} is not healthy or unhealthy`);
    }
    if (this.observed.get(key)?.get(endpointId) === health) return false;
    // A verdict on an endpoint the record does not have (gone between the check and its
    // answer) is dropped: kept, it would silently apply to a later endpoint of the same key.
    const held = this.catalog.get(this.catalog.localCluster, key);
    if (health !== undefined && (held === undefined || held.deleted || !held.endpoints.some((e) => endpointKey(e) === endpointId))) return false;
    return this.commit(new Set([key]), () => {
      const verdicts = this.observed.get(key) ?? new Map<string, ObservedHealth>();
      if (health === undefined) verdicts.delete(endpointId);
      else verdicts.set(endpointId, health);
      if (verdicts.size === 0) this.observed.delete(key);
      else this.observed.set(key, verdicts);
    }).length > 0;
  }

  clearObservedHealth(key: ServiceKey): boolean {
    if (!this.observed.has(key)) return false;
    return this.commit(new Set([key]), () => { this.observed.delete(key); }).length > 0;
  }

  /**
   * Tombstones every live local record that no source declares. Call it once every source
   * has finished its first sync (Source.start resolved): records restored from the data dir
   * for services removed while the gateway was down are only found this way.
   */
  sweepUndeclared(): ServiceRecord[] {
    const undeclared = this.catalog.recordsOf(this.catalog.localCluster)
      .map((r) => serviceKey(r.name, r.namespace))
      .filter((key) => !this.isDeclared(key));
    return this.commit(new Set(undeclared), () => undefined);
  }

  /**
   * Applies `mutate` to the declarations, then re-merges `keys` and writes the changed ones
   * as one catalog batch. If the catalog refuses them (invalid merged record), the
   * declarations are rolled back: bad input changes nothing.
   */
  private commit(keys: ReadonlySet<ServiceKey>, mutate: () => void): ServiceRecord[] {
    // Only what `keys` can touch is saved for the rollback: copying every source's map per
    // commit made N single-service upserts cost O(N²) (5,000 Kubernetes Services: seconds).
    const savedMaps = new Map(this.sources);
    const savedEntries: Array<[Map<ServiceKey, ServiceDeclaration>, ServiceKey, ServiceDeclaration | undefined]> = [];
    for (const declared of this.sources.values()) for (const key of keys) savedEntries.push([declared, key, declared.get(key)]);
    const savedObserved = new Map([...keys].flatMap((key): Array<[ServiceKey, Map<string, ObservedHealth>]> => {
      const verdicts = this.observed.get(key);
      return verdicts === undefined ? [] : [[key, new Map(verdicts)]];
    }));
    const savedSeq = this.seq;
    mutate();
    const records: ServiceRecord[] = [];
    for (const key of [...keys].sort()) {
      const record = this.merged(key);
      if (record !== undefined) records.push(record);
    }
    if (records.length === 0) return [];
    try {
      const accepted = this.catalog.applyLocalRecords(records);
      this.log.debug({ changed: accepted.map((r) => serviceKey(r.name, r.namespace)), seq: this.seq }, 'local services changed');
      return accepted;
    } catch (err) {
      this.sources.clear();
      for (const [name, declared] of savedMaps) this.sources.set(name, declared);
      for (const [declared, key, declaration] of savedEntries) {
        if (declaration === undefined) declared.delete(key);
        else declared.set(key, declaration);
      }
      for (const key of keys) this.observed.delete(key);
      for (const [key, verdicts] of savedObserved) this.observed.set(key, verdicts);
      this.seq = savedSeq;
      throw err;
    }
  }

  private isDeclared(key: ServiceKey): boolean {
    for (const declared of this.sources.values()) if (declared.has(key)) return true;
    return false;
  }

  /** The new local record of `key`, stamped with the next version; undefined if unchanged. */
  private merged(key: ServiceKey): ServiceRecord | undefined {
    const held = this.catalog.get(this.catalog.localCluster, key);
    const declarations = [...this.sources.keys()].sort()
      .map((name) => this.sources.get(name)?.get(key))
      .filter((d): d is ServiceDeclaration => d !== undefined);
    const first = declarations[0];
    let content: Omit<ServiceRecord, 'version' | 'origin'>;
    const verdicts = this.observed.get(key);
    if (first === undefined) {
      this.observed.delete(key);
      if (held === undefined || held.deleted) return undefined;
      // The tombstone keeps the export scope: only peers that had the record need to drop it.
      content = {
        name: held.name, namespace: held.namespace, deleted: true, exported: held.exported,
        ...(held.exportTo === undefined ? {} : { exportTo: held.exportTo }), ports: [], endpoints: [],
      };
    } else {
      const ports: ServicePort[] = [];
      const endpoints: Endpoint[] = [];
      const seen = new Set<string>();
      for (const d of declarations) {
        for (const p of d.ports) if (!ports.some((q) => q.name === p.name)) ports.push(p);
        for (const e of d.endpoints) {
          const id = endpointKey(e);
          if (!seen.has(id)) endpoints.push(withObserved(e, verdicts?.get(id)));
          seen.add(id);
        }
      }
      for (const id of verdicts?.keys() ?? []) if (!seen.has(id)) verdicts?.delete(id);
      if (verdicts?.size === 0) this.observed.delete(key);
      const exportTo = mergedExportTo(declarations);
      content = {
        name: first.name, namespace: first.namespace, deleted: false,
        exported: declarations.some((d) => d.exported), ...(exportTo === undefined ? {} : { exportTo }), ports, endpoints,
      };
    }
    if (held !== undefined && sameContent(held, content)) return undefined;
    this.seq += 1;
    return { origin: this.catalog.localCluster, version: { origin: this.catalog.localCluster, epoch: this.epoch, seq: this.seq }, ...content };
  }
}

/** The endpoint with its observed health applied; a declared `unhealthy` is a drain and stays. */
function withObserved(endpoint: Endpoint, observed: ObservedHealth | undefined): Endpoint {
  if (observed === undefined || endpoint.health === 'unhealthy' || endpoint.health === observed) return endpoint;
  return { ...endpoint, health: observed };
}

/**
 * The export scope of a merged record: undefined (every peer) when some exporting source
 * names no peers; else the sorted union of the exporting sources' selectors, so a peer
 * admitted by any source gets the record and the order of sources changes nothing.
 * Declarations that do not export contribute nothing.
 */
function mergedExportTo(declarations: readonly ServiceDeclaration[]): string[] | undefined {
  const exporting = declarations.filter((d) => d.exported);
  if (exporting.length === 0 || exporting.some((d) => d.exportTo === undefined)) return undefined;
  return [...new Set(exporting.flatMap((d) => d.exportTo ?? []))].sort();
}

function sameContent(held: ServiceRecord, next: Omit<ServiceRecord, 'version' | 'origin'>): boolean {
  return held.deleted === next.deleted && held.exported === next.exported && deepEqual(held.exportTo, next.exportTo)
    && deepEqual(held.ports, next.ports) && deepEqual(held.endpoints, next.endpoints);
}
