import type {
  CatalogChange, CatalogReader, CatalogWriter, ChangeListener, ResolvedService,
} from './catalog-types.js';
import { CausewayError, ErrorCodes, describeError } from './errors.js';
import { deepEqual, deepFreeze } from './immutable.js';
import { silentLogger, type Logger } from './log.js';
import { serviceKey, type GatewayRecord, type ServiceKey, type ServicePort, type ServiceRecord, type Endpoint } from './model.js';
import { validateGatewayRecord, validateServiceRecord } from './validate.js';
import { compareVersions, formatVersion, isNewer } from './version.js';

/** Everything a catalog knows, as persisted in the data dir. */
export interface CatalogState {
  records: ServiceRecord[];
  gateways: GatewayRecord[];
}

export interface CatalogOptions {
  localCluster: string;
  logger?: Logger;
}

/**
 * The federated catalog: ServiceRecords keyed by (origin cluster, service key), plus the
 * east-west gateways of remote clusters.
 *
 * Each origin is the single writer of its records and receivers keep the highest version
 * per key (design brief, "Registry and replication"), so duplicates, reordering and replays
 * are harmless and no consensus is needed. Every input is validated whole first: a batch
 * with one bad record throws CW_CATALOG_INVALID and changes nothing. What is stored is
 * frozen; readers and listeners share it.
 */
export class Catalog implements CatalogReader, CatalogWriter {
  readonly localCluster: string;
  private readonly log: Logger;
  private readonly byOrigin = new Map<string, Map<ServiceKey, ServiceRecord>>();
  /** Local cluster first, then the others sorted; rebuilt when an origin appears or goes. */
  private origins: string[] | undefined;
  /**
   * Tombstones this catalog wrote itself because a snapshot did not mention the key. They
   * carry the origin's last version, so the same version arriving again live revives them.
   */
  private readonly implied = new Set<string>();
  private readonly gatewayMap = new Map<string, readonly GatewayRecord[]>();
  private readonly listeners = new Set<ChangeListener>();
  private readonly gatewayListeners = new Set<() => void>();
  private readonly queue: (readonly CatalogChange[])[] = [];
  private emitting = false;
  private changeIndex = 0;

  constructor(options: CatalogOptions) {
    this.localCluster = options.localCluster;
    this.log = (options.logger ?? silentLogger()).child({ component: 'catalog' });
  }

  // ---- reading -------------------------------------------------------------------------

  get(origin: string, key: ServiceKey): ServiceRecord | undefined {
    return this.byOrigin.get(origin)?.get(key);
  }

  *records(): IterableIterator<ServiceRecord> {
    for (const records of this.byOrigin.values()) yield* records.values();
  }

  recordsOf(origin: string): ServiceRecord[] {
    return [...(this.byOrigin.get(origin)?.values() ?? [])];
  }

  resolve(key: ServiceKey): ResolvedService | undefined {
    const clusters = new Map<string, readonly Endpoint[]>();
    const ports: ServicePort[] = [];
    let first: ServiceRecord | undefined;
    for (const origin of this.originOrder()) {
      const record = this.byOrigin.get(origin)?.get(key);
      if (record === undefined || record.deleted) continue;
      first ??= record;
      clusters.set(origin, record.endpoints);
      // Union by port number; the first cluster (local first) wins a conflict.
      for (const port of record.ports) if (!ports.some((p) => p.port === port.port)) ports.push(port);
    }
    if (first === undefined) return undefined;
    return { key, name: first.name, namespace: first.namespace, ports: Object.freeze(ports), clusters };
  }

  serviceKeys(): ServiceKey[] {
    const keys = new Set<ServiceKey>();
    for (const record of this.records()) if (!record.deleted) keys.add(serviceKey(record.name, record.namespace));
    return [...keys].sort();
  }

  gatewaysOf(cluster: string): readonly GatewayRecord[] {
    return this.gatewayMap.get(cluster) ?? [];
  }

  gateways(): readonly GatewayRecord[] {
    return [...this.gatewayMap.values()].flat();
  }

  onChange(listener: ChangeListener): () => void {
    const entry: ChangeListener = (changes) => listener(changes); // distinct per subscription
    this.listeners.add(entry);
    return () => { this.listeners.delete(entry); };
  }

  /** Called after any gateway is set or removed (the persister saves on it). */
  onGatewayChange(listener: () => void): () => void {
    const entry = (): void => listener();
    this.gatewayListeners.add(entry);
    return () => { this.gatewayListeners.delete(entry); };
  }

  // ---- writing -------------------------------------------------------------------------

  applyRemote(records: readonly ServiceRecord[]): ServiceRecord[] {
    const valid = this.validated(records, 'records');
    const changes: CatalogChange[] = [];
    const accepted: ServiceRecord[] = [];
    for (const record of valid) {
      if (record.origin === this.localCluster) {
        this.log.warn({ version: formatVersion(record.version) }, 'refused a record of the local cluster from elsewhere (single writer)');
        continue;
      }
      const stored = this.accept(record, changes);
      if (stored !== undefined) accepted.push(stored);
    }
    this.emit(changes);
    return accepted;
  }

  applySnapshot(origin: string, records: readonly ServiceRecord[]): ServiceRecord[] {
    if (origin === this.localCluster) {
      this.log.warn({ origin }, 'refused a snapshot of the local cluster (single writer)');
      return [];
    }
    const valid = this.validated(records, 'records');
    const foreign = valid.findIndex((r) => r.origin !== origin);
    if (foreign >= 0) {
      throw new CausewayError(ErrorCodes.CATALOG_INVALID, `records[${foreign}].origin: "${valid[foreign]?.origin}" is not the snapshot's origin "${origin}"`);
    }
    const changes: CatalogChange[] = [];
    const accepted: ServiceRecord[] = [];
    const mentioned = new Set<ServiceKey>();
    for (const record of valid) {
      mentioned.add(serviceKey(record.name, record.namespace));
      const stored = this.accept(record, changes);
      if (stored !== undefined) accepted.push(stored);
    }
    const held = this.byOrigin.get(origin);
    for (const [key, record] of held ?? []) {
      if (mentioned.has(key) || record.deleted) continue;
      // We cannot mint a version for another origin: the tombstone keeps the held version.
      const tombstone = deepFreeze({ ...record, deleted: true, endpoints: [] });
      held?.set(key, tombstone);
      this.implied.add(`${origin}\u0000${key}`);
      changes.push(this.change(tombstone, record));
    }
    this.emit(changes);
    return accepted;
  }

  /**
   * A record of the local cluster, from LocalRegistry (the one writer of local records).
   * Kept only when newer than the held one. Returns whether it was accepted.
   */
  applyLocal(record: ServiceRecord): boolean {
    return this.applyLocalRecords([record]).length === 1;
  }

  /** Several local records as one change batch (one delta on every peer link). */
  applyLocalRecords(records: readonly ServiceRecord[]): ServiceRecord[] {
    const valid = this.validated(records, 'records');
    const stranger = valid.findIndex((r) => r.origin !== this.localCluster);
    if (stranger >= 0) {
      throw new CausewayError(ErrorCodes.CATALOG_INVALID, `records[${stranger}].origin: "${valid[stranger]?.origin}" is not the local cluster "${this.localCluster}"`);
    }
    const changes: CatalogChange[] = [];
    const accepted = valid.map((r) => this.accept(r, changes)).filter((r): r is ServiceRecord => r !== undefined);
    this.emit(changes);
    return accepted;
  }

  dropOrigin(origin: string): void {
    if (origin === this.localCluster) {
      this.log.warn({ origin }, 'refused to drop the local cluster\'s records');
      return;
    }
    const held = this.byOrigin.get(origin);
    if (held === undefined) return;
    const changes: CatalogChange[] = [];
    for (const record of held.values()) {
      if (!record.deleted) changes.push(this.change(deepFreeze({ ...record, deleted: true, endpoints: [] }), record));
    }
    this.byOrigin.delete(origin);
    this.origins = undefined;
    for (const id of this.implied) if (id.startsWith(`${origin}\u0000`)) this.implied.delete(id);
    this.log.info({ origin, records: held.size }, 'dropped every record of an origin');
    this.emit(changes);
  }

  setGateway(gateway: GatewayRecord): void {
    const errors: string[] = [];
    const valid = validateGatewayRecord(gateway, 'gateway', errors);
    if (valid === undefined) throw new CausewayError(ErrorCodes.CATALOG_INVALID, errors[0] ?? 'gateway: invalid', { details: errors });
    const held = this.gatewayMap.get(valid.cluster) ?? [];
    const same = held.findIndex((g) => g.identity === valid.identity);
    if (same >= 0 && deepEqual(held[same], valid)) return;
    const next = same >= 0 ? held.map((g, i) => (i === same ? valid : g)) : [...held, valid];
    this.gatewayMap.set(valid.cluster, deepFreeze(next));
    this.notifyGateways();
  }

  removeGateways(cluster: string): void {
    if (this.gatewayMap.delete(cluster)) this.notifyGateways();
  }

  // ---- persistence -----------------------------------------------------------------------

  /** Every record (tombstones included, so versions survive a restart) and gateway, sorted. */
  exportState(): CatalogState {
    const records = [...this.records()].sort((a, b) =>
      a.origin === b.origin ? compareKeys(serviceKey(a.name, a.namespace), serviceKey(b.name, b.namespace)) : compareKeys(a.origin, b.origin));
    const gateways = [...this.gatewayMap.keys()].sort().flatMap((c) => this.gatewayMap.get(c) ?? []);
    return { records, gateways };
  }

  /**
   * Merges restored state: every record (local ones too) is kept when newer than the held
   * one, exactly as if it had been applied. The accepted records ARE emitted, as one batch,
   * so anyone already subscribed sees them; on the restore path nobody is subscribed yet.
   * Invalid state throws CW_CATALOG_INVALID (listing every problem) and changes nothing.
   */
  importState(state: CatalogState): void {
    const errors: string[] = [];
    const records: ServiceRecord[] = [];
    const gateways: GatewayRecord[] = [];
    if (typeof state !== 'object' || state === null) errors.push('state: must be an object');
    else {
      if (!Array.isArray(state.records)) errors.push('records: must be a list');
      else state.records.forEach((r, i) => { const v = validateServiceRecord(r, `records[${i}]`, errors); if (v) records.push(v); });
      if (!Array.isArray(state.gateways)) errors.push('gateways: must be a list');
      else state.gateways.forEach((g, i) => { const v = validateGatewayRecord(g, `gateways[${i}]`, errors); if (v) gateways.push(v); });
    }
    if (errors.length > 0) throw new CausewayError(ErrorCodes.CATALOG_INVALID, errors[0] ?? 'state: invalid', { details: errors });
    const changes: CatalogChange[] = [];
    for (const record of records) this.accept(record, changes);
    for (const gateway of gateways) this.setGateway(gateway);
    this.emit(changes);
  }

  /** Forgets the listeners; the catalog itself holds no resources. Idempotent. */
  close(): void {
    this.listeners.clear();
    this.gatewayListeners.clear();
  }

  // ---- internals -------------------------------------------------------------------------

  private validated(records: readonly ServiceRecord[], path: string): ServiceRecord[] {
    const errors: string[] = [];
    if (!Array.isArray(records)) errors.push(`${path}: must be a list`);
    const valid = errors.length > 0 ? [] : records.map((r, i) => validateServiceRecord(r, `${path}[${i}]`, errors));
    if (errors.length > 0) throw new CausewayError(ErrorCodes.CATALOG_INVALID, errors[0] ?? `${path}: invalid`, { details: errors });
    return valid as ServiceRecord[];
  }

  /** Stores `record` when it is newer than the held one; returns the stored (frozen) record. */
  private accept(record: ServiceRecord, changes: CatalogChange[]): ServiceRecord | undefined {
    const key = serviceKey(record.name, record.namespace);
    const id = `${record.origin}\u0000${key}`;
    let held = this.byOrigin.get(record.origin);
    const previous = held?.get(key);
    const revives = previous !== undefined && this.implied.has(id) && !record.deleted && compareVersions(record.version, previous.version) === 0;
    if (!isNewer(record.version, previous?.version) && !revives) return undefined;
    if (held === undefined) {
      held = new Map();
      this.byOrigin.set(record.origin, held);
      this.origins = undefined;
    }
    const stored = deepFreeze(record);
    held.set(key, stored);
    this.implied.delete(id);
    changes.push(this.change(stored, previous));
    return stored;
  }

  private change(record: ServiceRecord, previous: ServiceRecord | undefined): CatalogChange {
    return Object.freeze({ index: ++this.changeIndex, record, previous });
  }

  private originOrder(): string[] {
    this.origins ??= [...this.byOrigin.keys()].sort((a, b) =>
      a === this.localCluster ? -1 : b === this.localCluster ? 1 : compareKeys(a, b));
    return this.origins;
  }

  /**
   * Delivers one batch per apply call. A listener that applies changes itself queues its
   * batch behind the current one, so every listener sees batches in index order.
   */
  private emit(changes: CatalogChange[]): void {
    if (changes.length === 0) return;
    this.queue.push(Object.freeze(changes));
    if (this.emitting) return;
    this.emitting = true;
    try {
      for (let batch = this.queue.shift(); batch !== undefined; batch = this.queue.shift()) {
        for (const listener of [...this.listeners]) {
          try {
            listener(batch);
          } catch (err) {
            this.log.error({ err: describeError(err) }, 'a catalog change listener failed');
          }
        }
      }
    } finally {
      this.emitting = false;
    }
  }

  private notifyGateways(): void {
    for (const listener of [...this.gatewayListeners]) {
      try {
        listener();
      } catch (err) {
        this.log.error({ err: describeError(err) }, 'a gateway change listener failed');
      }
    }
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
