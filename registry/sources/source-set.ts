import { describeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { EventSink } from '../telemetry.js';
import type { SourceEvent } from './source-events.js';
import type { ServiceDeclaration, ServiceKey } from '../model.js';
import type { Source, SourceSink } from '../catalog-types.js';

/** What the status API shows of one source. */
export interface SourceStatus {
  name: string;
  kind: string;
  /** Its first full sync has been pushed: what it declares is complete. */
  synced: boolean;
  /** Epoch ms of the last time it pushed anything (a sync or a change). */
  lastSyncAtMs: number | undefined;
  /** Why its last attempt failed, if it did (the source keeps trying). */
  lastError: string | undefined;
  /** Services it declares now. */
  services: number;
}

/** The registry side of the sources (LocalRegistry): declarations, and the sweep of the undeclared. */
export interface SourceRegistry extends SourceSink {
  /** Tombstones local records that no source declares (services removed while the gateway was down). */
  sweepUndeclared(): unknown;
}

export interface SourceSetOptions {
  registry: SourceRegistry;
  logger?: Logger;
  now?: () => number;
  /** Telemetry: each source's first sync, its failed attempts and its pushes (source-events.ts). */
  events?: EventSink<SourceEvent>;
}

interface Entry {
  source: Source;
  synced: boolean;
  lastSyncAtMs: number | undefined;
  lastError: string | undefined;
  /** What it declares, per registry source name (a source such as the agents' declares under several). */
  declared: Map<string, Set<ServiceKey>>;
}

/**
 * Every registry source of a gateway (static config, agents, Consul, Kubernetes), started
 * side by side. A source starts at once and syncs on its own time: a gateway whose Consul or
 * Kubernetes API is down still starts, serving the catalog it restored from its data dir, and
 * shows that source as not synced. Declarations of the same service from several sources are
 * merged by the registry. The one destructive step — tombstoning restored services that no
 * source declares any more — waits until every source has synced: before that, "not declared"
 * may only mean "not heard from yet".
 */
export class SourceSet {
  private readonly entries = new Map<string, Entry>();
  private readonly logger: Logger;
  private readonly now: () => number;
  private started = false;
  private closed = false;
  private swept = false;
  private allSyncedWaiters: Array<() => void> = [];

  constructor(private readonly options: SourceSetOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'sources' });
    this.now = options.now ?? Date.now;
  }

  /** Adds a source (before start). Names are unique: they key the source's declarations. */
  add(source: Source): void {
    if (this.started) throw new Error('sources are added before the set starts');
    if (this.entries.has(source.name)) throw new Error(`a source named ${source.name} is already registered`);
    this.entries.set(source.name, { source, synced: false, lastSyncAtMs: undefined, lastError: undefined, declared: new Map() });
  }

  /** Starts every source without waiting for any of them. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const entry of this.entries.values()) {
      const sink = this.sinkFor(entry);
      let started: Promise<void>;
      try {
        started = entry.source.start(sink);
      } catch (err) {
        started = Promise.reject(err);
      }
      started.then(
        () => this.markSynced(entry),
        (err: unknown) => {
          // A source whose start rejects has given up; it stays unsynced (and so does the sweep).
          entry.lastError = describeError(err);
          this.logger.error({ source: entry.source.name, err: entry.lastError }, 'source failed to start');
          this.publish({ type: 'source.error', source: entry.source.name, kind: entry.source.kind, reason: entry.lastError });
        },
      );
    }
    this.maybeSweep();
  }

  /** Resolves once every source has synced (at once when they all have). */
  allSynced(): Promise<void> {
    if (this.everySynced()) return Promise.resolve();
    return new Promise((resolve) => this.allSyncedWaiters.push(resolve));
  }

  /** A source reports a failed attempt (it keeps trying); shown in status until it syncs again. */
  reportError(name: string, reason: string): void {
    const entry = this.entries.get(name);
    if (entry === undefined) return;
    entry.lastError = reason;
    this.publish({ type: 'source.error', source: name, kind: entry.source.kind, reason });
  }

  private publish(event: SourceEvent): void {
    this.options.events?.publish(event);
  }

  status(): SourceStatus[] {
    return [...this.entries.values()].map((e) => ({
      name: e.source.name, kind: e.source.kind, synced: e.synced, lastSyncAtMs: e.lastSyncAtMs,
      lastError: e.lastError ?? e.source.lastError?.(), services: declaredCount(e),
    }));
  }

  /** Closes every source; what they declared stays in the registry (a gateway shutting down still serves it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.entries.values()].map(async (e) => {
      try {
        await e.source.close();
      } catch (err) {
        this.logger.warn({ source: e.source.name, err: describeError(err) }, 'source did not close cleanly');
      }
    }));
  }

  /** The registry as one source sees it: its pushes are counted and timed for its status. */
  private sinkFor(entry: Entry): SourceSink {
    const { registry } = this.options;
    const touched = (): void => {
      entry.lastSyncAtMs = this.now();
      this.publish({ type: 'source.update', source: entry.source.name, kind: entry.source.kind });
    };
    return {
      replaceSource: (name: string, declarations: readonly ServiceDeclaration[]) => {
        registry.replaceSource(name, declarations);
        entry.declared.set(name, new Set(declarations.map((d) => `${d.name}.${d.namespace}`)));
        touched();
      },
      upsert: (name: string, declaration: ServiceDeclaration) => {
        registry.upsert(name, declaration);
        const keys = entry.declared.get(name) ?? new Set<ServiceKey>();
        keys.add(`${declaration.name}.${declaration.namespace}`);
        entry.declared.set(name, keys);
        touched();
      },
      remove: (name: string, key: ServiceKey) => {
        registry.remove(name, key);
        entry.declared.get(name)?.delete(key);
        touched();
      },
    };
  }

  private markSynced(entry: Entry): void {
    if (this.closed || entry.synced) return;
    entry.synced = true;
    entry.lastError = undefined;
    entry.lastSyncAtMs ??= this.now();
    this.logger.info({ source: entry.source.name, kind: entry.source.kind, services: declaredCount(entry) }, 'source synced');
    this.publish({ type: 'source.synced', source: entry.source.name, kind: entry.source.kind, services: declaredCount(entry) });
    this.maybeSweep();
  }

  private everySynced(): boolean {
    for (const entry of this.entries.values()) if (!entry.synced) return false;
    return true;
  }

  private maybeSweep(): void {
    if (this.swept || this.closed || !this.started || !this.everySynced()) return;
    this.swept = true;
    try {
      this.options.registry.sweepUndeclared();
    } catch (err) {
      this.logger.error({ err: describeError(err) }, 'sweeping undeclared services failed');
    }
    for (const resolve of this.allSyncedWaiters.splice(0)) resolve();
  }
}

/** Services a source declares, counted once however many of its names declare them. */
function declaredCount(entry: Entry): number {
  const keys = new Set<ServiceKey>();
  for (const set of entry.declared.values()) for (const key of set) keys.add(key);
  return keys.size;
}
