import type { Endpoint, GatewayRecord, ServiceDeclaration, ServiceKey, ServicePort, ServiceRecord, Version } from './model.js';

/** One accepted change, in the order the catalog applied it. */
export interface CatalogChange {
  /** Position in this catalog's local change feed (1, 2, 3, ... per process). */
  index: number;
  record: ServiceRecord;
  /** The record this one replaced, if any. */
  previous: ServiceRecord | undefined;
}

export type ChangeListener = (changes: readonly CatalogChange[]) => void;

/** A live (non-deleted) service merged across every cluster that has it. */
export interface ResolvedService {
  key: ServiceKey;
  name: string;
  namespace: string;
  /** Union of the ports the clusters declare, by port number (first declaration wins on conflict). */
  ports: readonly ServicePort[];
  /** Endpoints per origin cluster; the local cluster's entry comes first. */
  clusters: ReadonlyMap<string, readonly Endpoint[]>;
}

export interface CatalogReader {
  readonly localCluster: string;
  /** The record of `key` written by `origin`, tombstones included. */
  get(origin: string, key: ServiceKey): ServiceRecord | undefined;
  /** Every record (tombstones included), any order. */
  records(): IterableIterator<ServiceRecord>;
  /** Records written by one origin, tombstones included. */
  recordsOf(origin: string): ServiceRecord[];
  /** A live service merged across clusters, or undefined when no cluster has it live. */
  resolve(key: ServiceKey): ResolvedService | undefined;
  /** Keys of every live service, sorted. */
  serviceKeys(): ServiceKey[];
  /** The east-west gateways of a remote cluster. */
  gatewaysOf(cluster: string): readonly GatewayRecord[];
  /** Every remote cluster with a known gateway. */
  gateways(): readonly GatewayRecord[];
  /** Subscribe to accepted changes; returns the unsubscribe function. */
  onChange(listener: ChangeListener): () => void;
}

export interface CatalogWriter {
  /**
   * Accept records written by another origin. A record replaces the held one only when its
   * version is higher (same origin) — so duplicates, reordering and replays are harmless.
   * Records whose origin is the local cluster are refused (single writer).
   * Returns the records that were accepted.
   */
  applyRemote(records: readonly ServiceRecord[]): ServiceRecord[];
  /**
   * A full snapshot of `origin`: applies the records as applyRemote does, then tombstones
   * every live record of that origin that the snapshot does not mention.
   */
  applySnapshot(origin: string, records: readonly ServiceRecord[]): ServiceRecord[];
  /** Forget everything written by `origin` (peer removed); emits tombstone changes. */
  dropOrigin(origin: string): void;
  setGateway(gateway: GatewayRecord): void;
  removeGateways(cluster: string): void;
}

/**
 * The writer of the local cluster's records. Sources declare services; the registry merges
 * declarations of the same key from several sources (endpoints unioned, exported if any
 * source exports), stamps changed services with the next local version, and tombstones
 * services no source declares any more.
 */
export interface LocalRegistryWriter {
  /** Replace everything `source` declares. */
  replaceSource(source: string, declarations: readonly ServiceDeclaration[]): void;
  /** Add or replace one service of `source`. */
  upsert(source: string, declaration: ServiceDeclaration): void;
  /** Remove one service of `source`. */
  remove(source: string, key: ServiceKey): void;
  /** The version the next local change will carry. */
  nextVersion(): Version;
}

/** What an active health check concluded about an endpoint (undefined: no verdict yet). */
export type ObservedHealth = 'healthy' | 'unhealthy';

/**
 * Where active health checks record their verdicts (LocalRegistry). An endpoint is named by
 * `endpointKey` (address and ports), as the registry unions them. The effective health is the
 * observed one, except that a source's declared `unhealthy` (a drain) always wins.
 */
export interface ObservedHealthWriter {
  /** Records (or, with undefined, forgets) a verdict. Returns whether a new version was committed. */
  setObservedHealth(key: ServiceKey, endpointId: string, health: ObservedHealth | undefined): boolean;
  /** Forgets every verdict of a service, so its declared health returns. Returns whether a new version was committed. */
  clearObservedHealth(key: ServiceKey): boolean;
}

/** Where sources push what they discover (static config, Kubernetes, Consul, agents). */
export type SourceSink = Pick<LocalRegistryWriter, 'replaceSource' | 'upsert' | 'remove'>;

/** A pluggable discovery source (design brief: sources behind one small interface). */
export interface Source {
  /** Unique per gateway: it keys the source's declarations in the registry. */
  readonly name: string;
  /** `static`, `agent`, `consul`, `kubernetes`: what the status API groups it by. */
  readonly kind: string;
  /**
   * Start pushing into `sink`; resolves once the first full sync has been pushed. A source
   * whose API is unreachable keeps trying and resolves later — it never makes the gateway
   * wait (SourceSet starts every source without awaiting them).
   */
  start(sink: SourceSink): Promise<void>;
  /** Why its last attempt failed, while it keeps trying (status API). */
  lastError?(): string | undefined;
  close(): Promise<void>;
}

/** A pluggable persistence store (file now; Consul KV for HA replicas later). */
export interface Store {
  /** The last value saved under `name`, or undefined. Throws CW_STORE_CORRUPT on bad data. */
  load<T>(name: string): Promise<T | undefined>;
  /** Durably replace the value under `name` (atomic: readers see old or new, never half). */
  save(name: string, value: unknown): Promise<void>;
  remove(name: string): Promise<void>;
  close(): Promise<void>;
}
