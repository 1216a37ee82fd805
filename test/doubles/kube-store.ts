// The object store behind the Kubernetes API server double: etcd's model as kube-apiserver exposes it
// (https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions). One cluster-wide
// revision counter; every write takes the next revision, which becomes the object's
// metadata.resourceVersion (a delete's revision is the resourceVersion of its DELETED event's object);
// a bounded history of the last `historyLimit` changes serves watches that resume from an older
// revision and consistent list pages; a revision older than the history is 410 Gone ("Expired").
// Each stored object keeps its JSON, so a list or a watch event costs string joins, not serializations.
import { randomUUID } from 'node:crypto';
import { matchesFields, matchesLabels, type FieldRequirement, type LabelSelector } from './kube-selectors.js';
import { validateObject, type Allocator, type KubeObject, type KubeResource, type ResourceType } from './kube-resources.js';
import { KubeStatusError, statusErrors } from './kube-status.js';

/** One object as stored: never mutated once committed (a write stores a new one). */
export interface StoredObject {
  readonly rt: ResourceType;
  /** `namespace/name`, or `name` for a cluster-scoped kind: etcd's key order, which lists follow. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly rv: number;
  /** The object without kind/apiVersion. */
  readonly obj: KubeObject;
  /** `JSON.stringify(obj)`. */
  readonly body: string;
}

/** The object's JSON with kind and apiVersion first, as a get or a watch event serves it. */
export function fullJson(s: StoredObject): string {
  return `{"kind":"${s.rt.kind}","apiVersion":"${s.rt.apiVersion}",${s.body.slice(1)}`;
}

export interface ChangeEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly rv: number;
  /** The object after the change (for DELETED: its last state, with the delete's revision). */
  readonly cur: StoredObject;
  /** The object before the change (absent for ADDED). */
  readonly prev: StoredObject | undefined;
}

/**
 * How a write treats `status`: `all` takes it from the input (the double's JS API, a controller's view);
 * `main` is a write to the resource itself, which keeps the stored status for kinds with a status
 * subresource; `status` is a write to `/status`, which changes nothing but the status.
 */
export type StatusMode = 'all' | 'main' | 'status';

export interface ListQuery {
  namespace: string | undefined;
  label: LabelSelector;
  field: readonly FieldRequirement[];
  limit: number | undefined;
  continueToken: string | undefined;
  resourceVersion: string | undefined;
  resourceVersionMatch: string | undefined;
}

export interface ListPage {
  resourceVersion: number;
  items: StoredObject[];
  continue: string | undefined;
  remainingItemCount: number | undefined;
}

interface Table {
  readonly objects: Map<string, StoredObject>;
  /** Keys in order, rebuilt lazily after a create or a delete (an update keeps the order). */
  sorted: string[] | undefined;
}

const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** apiserver's `names.SimpleNameGenerator`: generateName plus 5 random characters. */
function generatedName(prefix: string): string {
  let s = prefix;
  for (let i = 0; i < 5; i++) s += ALPHANUMS[Math.floor(Math.random() * ALPHANUMS.length)];
  return s;
}

/** The bytes compared for metadata.generation: everything but metadata and status. */
const specOf = (o: KubeObject): string => JSON.stringify({ ...o, metadata: undefined, status: undefined });

/** A resourceVersion query parameter as `APIObjectVersioner.ParseResourceVersion` reads it: "" and "0" are "any". */
export function parseResourceVersion(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '' || raw === '0') return undefined;
  if (!/^\d+$/.test(raw)) {
    throw statusErrors.badRequest(`invalid resource version: resourceVersion: Invalid value: "${raw}": strconv.ParseUint: parsing "${raw}": invalid syntax`);
  }
  return Number(raw);
}

function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] ?? '') < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class KubeStore {
  private rev = 1;
  private compactedRev = 1;
  private readonly tables = new Map<KubeResource, Table>();
  private history: ChangeEvent[] = [];
  private head = 0;
  private ipCounter = 10;
  private portCounter = 0;
  readonly allocator: Allocator = {
    clusterIp: () => {
      const n = this.ipCounter++;
      return `10.${96 + ((n >> 16) & 15)}.${(n >> 8) & 255}.${n & 255}`;
    },
    nodePort: () => 30000 + (this.portCounter++ % 2768),
  };

  constructor(private readonly historyLimit: number, private readonly publish: (ev: ChangeEvent) => void) {}

  /** The cluster's current revision (etcd's header revision): the resourceVersion a list taken now answers. */
  get revision(): number {
    return this.rev;
  }

  /** Changes at or below this revision are gone from the history: a watch or list page from before it is 410. */
  get compacted(): number {
    return this.compactedRev;
  }

  get(rt: ResourceType, namespace: string | undefined, name: string): StoredObject | undefined {
    return this.table(rt).objects.get(this.keyOf(rt, namespace, name));
  }

  /** Every object of a kind (optionally in one namespace), in key order. */
  all(rt: ResourceType, namespace?: string): StoredObject[] {
    const table = this.table(rt);
    const keys = this.sortedKeys(table);
    const [from, to] = this.range(keys, rt, namespace);
    const out: StoredObject[] = [];
    for (let i = from; i < to; i++) {
      const s = table.objects.get(keys[i] ?? '');
      if (s !== undefined) out.push(s);
    }
    return out;
  }

  /** POST: fills metadata (uid, creationTimestamp, generation; the name from generateName), defaults, validates. */
  create(rt: ResourceType, input: KubeObject, mode: StatusMode): StoredObject {
    const { kind: _k, apiVersion: _a, metadata, status, ...rest } = input;
    const meta = { ...metadata };
    if ((meta.name ?? '') === '' && (meta.generateName ?? '') !== '') meta.name = generatedName(meta.generateName ?? '');
    if (!rt.namespaced) delete meta.namespace;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    meta.uid = randomUUID();
    meta.creationTimestamp = now();
    if (rt.generation) meta.generation = 1;
    else delete meta.generation;
    // A create through the resource drops the status for kinds with a status subresource (their
    // strategies' PrepareForCreate), except Nodes, which the kubelet registers with their status.
    const keepStatus = mode === 'all' || !rt.statusSubresource || rt.resource === 'nodes';
    const next: KubeObject = { metadata: meta, ...rest, ...(keepStatus && status !== undefined ? { status } : {}) };
    rt.normalize?.(next, undefined, this.allocator);
    validateObject(rt, next);
    const key = this.keyOf(rt, meta.namespace, meta.name ?? '');
    if (this.table(rt).objects.has(key)) throw statusErrors.alreadyExists(rt, meta.name ?? '');
    return this.commit(rt, 'ADDED', next, undefined);
  }

  /**
   * PUT (or the result of a PATCH): the stored uid, creationTimestamp and deletion state are kept;
   * `metadata.resourceVersion`, when given, must be the stored one (409 Conflict otherwise — optimistic
   * concurrency); custom resources refuse an update without it (no unconditional update for CRDs).
   * An update that changes nothing takes no revision and sends no event, as in kube-apiserver.
   */
  update(rt: ResourceType, input: KubeObject, mode: StatusMode, check: { precondition: boolean } = { precondition: true }): StoredObject {
    const name = input.metadata.name ?? '';
    const old = this.get(rt, input.metadata.namespace, name);
    if (old === undefined) throw statusErrors.notFound(rt, name);
    const given = input.metadata.resourceVersion;
    if (check.precondition) {
      if (given !== undefined && given !== '' && given !== String(old.rv)) throw statusErrors.conflict(rt, name);
      if (rt.custom && (given === undefined || given === '')) {
        throw statusErrors.invalid(rt.kind, rt.group, name, [{ field: 'metadata.resourceVersion', type: 'FieldValueInvalid', detail: 'Invalid value: 0x0: must be specified for an update' }]);
      }
    }
    const prior = JSON.parse(old.body) as KubeObject;
    let next: KubeObject;
    if (mode === 'status') {
      const { status } = structuredClone(input);
      const { status: _old, ...kept } = prior;
      next = { ...kept, ...(status === undefined ? {} : { status }) };
    } else {
      const { kind: _k, apiVersion: _a, metadata, status, ...rest } = structuredClone(input);
      const meta: KubeObject['metadata'] = { ...metadata, namespace: prior.metadata.namespace, uid: prior.metadata.uid, creationTimestamp: prior.metadata.creationTimestamp };
      if (!rt.namespaced) delete meta.namespace;
      for (const f of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'generation']) {
        if (prior.metadata[f] === undefined) delete meta[f];
        else meta[f] = prior.metadata[f];
      }
      const keptStatus = mode === 'all' || !rt.statusSubresource ? status : prior.status;
      next = { metadata: meta, ...rest, ...(keptStatus === undefined ? {} : { status: keptStatus }) };
      rt.normalize?.(next, prior, this.allocator);
      if (rt.generation && specOf(next) !== specOf(prior)) next.metadata.generation = (prior.metadata.generation ?? 0) + 1;
    }
    validateObject(rt, next);
    next.metadata.resourceVersion = String(old.rv);
    if (JSON.stringify(next) === old.body) return old;
    // The last finalizer removed from an object being deleted: the update is the delete.
    if (next.metadata.deletionTimestamp !== undefined && (next.metadata.finalizers ?? []).length === 0) {
      return this.commit(rt, 'DELETED', next, old);
    }
    return this.commit(rt, 'MODIFIED', next, old);
  }

  /**
   * DELETE: an object with finalizers only gets a deletionTimestamp (a MODIFIED event; it goes when the
   * last finalizer does); otherwise it goes now, with a DELETED event carrying its last state.
   */
  delete(rt: ResourceType, namespace: string | undefined, name: string): { object: StoredObject; gone: boolean } {
    const old = this.get(rt, namespace, name);
    if (old === undefined) throw statusErrors.notFound(rt, name);
    const next = JSON.parse(old.body) as KubeObject;
    if ((next.metadata.finalizers ?? []).length > 0) {
      if (next.metadata.deletionTimestamp !== undefined) return { object: old, gone: false };
      next.metadata.deletionTimestamp = now();
      next.metadata.deletionGracePeriodSeconds = 0;
      return { object: this.commit(rt, 'MODIFIED', next, old), gone: false };
    }
    return { object: this.commit(rt, 'DELETED', next, old), gone: true };
  }

  /**
   * A list: the current state (resourceVersion unset, "0", or not newer than the current revision —
   * NotOlderThan, the default), or the state at exactly one revision (resourceVersionMatch=Exact, and
   * every page after the first, which the continue token pins to the first page's revision).
   */
  list(rt: ResourceType, q: ListQuery): ListPage {
    const asked = parseResourceVersion(q.resourceVersion);
    let at = this.rev;
    let start = '';
    if (q.continueToken !== undefined && q.continueToken !== '') {
      if (asked !== undefined) throw statusErrors.badRequest('specifying resource version is not allowed when using continue');
      const token = decodeContinue(q.continueToken);
      if (token.rv < this.compactedRev) {
        throw statusErrors.expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      at = token.rv;
      start = token.start;
    } else if (q.resourceVersionMatch !== undefined && q.resourceVersionMatch !== '') {
      if (!['Exact', 'NotOlderThan'].includes(q.resourceVersionMatch)) {
        throw statusErrors.invalid('ListOptions', 'meta.k8s.io', '', [{ field: 'resourceVersionMatch', type: 'FieldValueNotSupported', detail: `Unsupported value: "${q.resourceVersionMatch}": supported values: "Exact", "NotOlderThan"` }]);
      }
      if (asked === undefined) {
        throw statusErrors.invalid('ListOptions', 'meta.k8s.io', '', [{ field: 'resourceVersionMatch', type: 'FieldValueInvalid', detail: `Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided and is not "0" for "${q.resourceVersionMatch}"` }]);
      }
      if (q.resourceVersionMatch === 'Exact') at = asked;
    }
    if (asked !== undefined && asked > this.rev) throw statusErrors.tooLargeResourceVersion(asked, this.rev);
    if (at < this.compactedRev) throw statusErrors.expired(`too old resource version: ${at} (${this.compactedRev + 1})`);
    const objects = this.snapshot(rt, at);
    const keys = objects === this.table(rt).objects ? this.sortedKeys(this.table(rt)) : [...objects.keys()].sort();
    const [from, to] = this.range(keys, rt, q.namespace);
    const selective = q.label.length > 0 || q.field.length > 0;
    const limit = q.limit !== undefined && q.limit > 0 ? q.limit : Infinity;
    const items: StoredObject[] = [];
    let i = Math.max(from, start === '' ? from : lowerBound(keys, start));
    for (; i < to && items.length < limit; i++) {
      const s = objects.get(keys[i] ?? '');
      if (s === undefined) continue;
      if (selective && !(matchesLabels(q.label, s.obj.metadata.labels) && matchesFields(q.field, (f) => s.rt.fields.get(f)?.(s.obj) ?? ''))) continue;
      items.push(s);
    }
    const more = items.length >= limit && i < to;
    return {
      resourceVersion: at, items,
      continue: more ? encodeContinue(at, `${keys[i - 1] ?? ''}\u0000`) : undefined,
      remainingItemCount: more && !selective ? to - i : undefined,
    };
  }

  /** The changes after `rv`, oldest first (all kinds); 410 Expired when the history no longer reaches back to it. */
  eventsAfter(rv: number): ChangeEvent[] {
    if (rv < this.compactedRev) throw statusErrors.expired(`too old resource version: ${rv} (${this.compactedRev + 1})`);
    let lo = this.head;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.history[mid]?.rv ?? 0) <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  /** Drops the history up to `revision` (etcd compaction): older watches and list pages become 410. */
  compact(revision = this.rev): void {
    const upTo = Math.min(Math.max(revision, this.compactedRev), this.rev);
    this.compactedRev = upTo;
    while (this.head < this.history.length && (this.history[this.head]?.rv ?? 0) <= upTo) this.head++;
    this.history = this.history.slice(this.head);
    this.head = 0;
  }

  private commit(rt: ResourceType, type: ChangeEvent['type'], next: KubeObject, prev: StoredObject | undefined): StoredObject {
    const rv = ++this.rev;
    next.metadata.resourceVersion = String(rv);
    const name = next.metadata.name ?? '';
    const namespace = rt.namespaced ? next.metadata.namespace ?? '' : '';
    const stored: StoredObject = { rt, key: this.keyOf(rt, namespace, name), namespace, name, rv, obj: next, body: JSON.stringify(next) };
    const table = this.table(rt);
    if (type === 'DELETED') {
      table.objects.delete(stored.key);
      table.sorted = undefined;
    } else {
      if (!table.objects.has(stored.key)) table.sorted = undefined;
      table.objects.set(stored.key, stored);
    }
    const ev: ChangeEvent = { type, rv, cur: stored, prev };
    this.history.push(ev);
    if (this.history.length - this.head > this.historyLimit) {
      this.compactedRev = this.history[this.head]?.rv ?? this.compactedRev;
      this.head++;
      if (this.head >= 4096) {
        this.history = this.history.slice(this.head);
        this.head = 0;
      }
    }
    this.publish(ev);
    return stored;
  }

  /** The objects of a kind as they were at revision `at`: the live table, or it with the later changes undone. */
  private snapshot(rt: ResourceType, at: number): Map<string, StoredObject> {
    const live = this.table(rt).objects;
    if (at >= this.rev) return live;
    const past = new Map(live);
    for (let i = this.history.length - 1; i >= this.head; i--) {
      const ev = this.history[i];
      if (ev === undefined || ev.rv <= at) break;
      if (ev.cur.rt !== rt) continue;
      if (ev.prev === undefined) past.delete(ev.cur.key);
      else past.set(ev.cur.key, ev.prev);
    }
    return past;
  }

  /** The index range of one namespace's keys (`ns/` up to `ns0`, '0' following '/'), or all. */
  private range(keys: readonly string[], rt: ResourceType, namespace: string | undefined): [number, number] {
    if (namespace === undefined || !rt.namespaced) return [0, keys.length];
    return [lowerBound(keys, `${namespace}/`), lowerBound(keys, `${namespace}0`)];
  }

  private sortedKeys(table: Table): string[] {
    table.sorted ??= [...table.objects.keys()].sort();
    return table.sorted;
  }

  private table(rt: ResourceType): Table {
    let t = this.tables.get(rt.resource);
    if (t === undefined) {
      t = { objects: new Map(), sorted: undefined };
      this.tables.set(rt.resource, t);
    }
    return t;
  }

  private keyOf(rt: ResourceType, namespace: string | undefined, name: string): string {
    return rt.namespaced ? `${namespace ?? ''}/${name}` : name;
  }
}

/** The continue token: base64url JSON `{"v":"meta.k8s.io/v1","rv":N,"start":"<key>\u0000"}`, as storage/etcd3 encodes it. */
function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: unknown; rv?: unknown; start?: unknown };
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('bad token');
    return { rv: t.rv, start: t.start };
  } catch (err) {
    if (err instanceof KubeStatusError) throw err;
    throw statusErrors.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}
