// The catalog behind the Consul API double: nodes, service instances and checks, with the raft-like
// indexes Consul's state store keeps. Every write takes the next index; each table (and each service
// name) remembers the index of its last change, and that — not the global index — is what a
// blocking endpoint reports as X-Consul-Index (https://developer.hashicorp.com/consul/api-docs/features/blocking:
// "X-Consul-Index ... a unique identifier representing the current state of the requested resource").
// As in Consul's state store (agent/consul/state/catalog.go ensureRegistrationTxn, ensureCheckTxn), a
// registration that changes nothing — the same node, service or check again — writes nothing and
// moves no table index, so a watcher only wakes for real changes.
// Reads are indexed (by service name, by node, by node + service ID) so that a catalog of 20,000
// instances answers a service's health in time proportional to that service, not to the catalog.

export type CheckStatus = 'passing' | 'warning' | 'critical';
export const CHECK_STATUSES: readonly CheckStatus[] = ['passing', 'warning', 'critical'];

export interface ConsulNode {
  Node: string;
  Address: string;
  Datacenter: string;
  Meta: Record<string, string>;
  CreateIndex: number;
  ModifyIndex: number;
}

export interface ConsulService {
  ID: string;
  Service: string;
  Tags: string[];
  Address: string;
  Port: number;
  Meta: Record<string, string>;
  CreateIndex: number;
  ModifyIndex: number;
}

export interface ConsulCheck {
  Node: string;
  CheckID: string;
  Name: string;
  Status: CheckStatus;
  Notes: string;
  Output: string;
  /** "" for a node-level check (e.g. serfHealth), which counts against every service on the node. */
  ServiceID: string;
  ServiceName: string;
  /** Copied from the service when the check is written, as Consul does. */
  ServiceTags: string[];
  /** "" for a check registered through the catalog (agents' checks say ttl, http, ...). */
  Type: string;
  CreateIndex: number;
  ModifyIndex: number;
}

/** One entry of `GET /v1/health/service/:service` (Consul's CheckServiceNode). */
export interface CheckServiceNode {
  Node: ConsulNode;
  Service: ConsulService;
  Checks: ConsulCheck[];
}

/** A registration as the catalog takes it, after the HTTP body has been decoded and validated. */
export interface Registration {
  node: string;
  address: string;
  nodeMeta?: Record<string, string>;
  service?: { id: string; service: string; tags: string[]; address: string; port: number; meta: Record<string, string> };
  checks?: Array<{ checkId: string; name: string; status: CheckStatus; serviceId: string; notes: string }>;
}

type StoredService = ConsulService & { node: string };

const sameStrings = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
const sameMap = (a: Record<string, string>, b: Record<string, string>): boolean => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
};

/** Adds `value` to the set under `key`, creating it. */
function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

export class CatalogState {
  private raftIndex = 1;
  private readonly nodes = new Map<string, ConsulNode>();
  /** key `${node}/${serviceId}` */
  private readonly services = new Map<string, StoredService>();
  /** key `${node}/${checkId}` */
  private readonly checks = new Map<string, ConsulCheck>();
  /** Service keys per service name, and per node. */
  private readonly servicesByName = new Map<string, Set<string>>();
  private readonly servicesByNode = new Map<string, Set<string>>();
  /** Check keys per node for node-level checks (ServiceID ""), and per service key for service checks. */
  private readonly nodeChecks = new Map<string, Set<string>>();
  private readonly serviceChecks = new Map<string, Set<string>>();
  /** Index of the last change to the services table (what /v1/catalog/services reports). */
  private servicesIndex = 1;
  private nodesIndex = 1;
  /** Index of the last change to the checks table (what /v1/health/state/:state reports). */
  private checksIndex = 1;
  /** Index of the last change touching a service name: its instances, their checks or nodes. */
  private readonly serviceNameIndex = new Map<string, number>();

  constructor(readonly datacenter: string) {}

  get index(): number {
    return this.raftIndex;
  }

  register(r: Registration): void {
    // Every raft apply takes an index, even one that turns out to change nothing.
    const idx = ++this.raftIndex;
    const touched = new Set<string>();
    const prev = this.nodes.get(r.node);
    const nodeChanged = prev === undefined || prev.Address !== r.address || (r.nodeMeta !== undefined && !sameMap(prev.Meta, r.nodeMeta));
    if (nodeChanged) {
      this.nodes.set(r.node, {
        Node: r.node, Address: r.address, Datacenter: this.datacenter, Meta: { ...(r.nodeMeta ?? prev?.Meta ?? {}) },
        CreateIndex: prev?.CreateIndex ?? idx, ModifyIndex: idx,
      });
      this.nodesIndex = idx;
      // A node change shows in every health entry of every service on that node.
      this.touchNode(r.node, touched);
    }
    if (r.service !== undefined) this.writeService(r.node, r.service, idx, touched);
    for (const c of r.checks ?? []) this.writeCheck(r.node, c, idx, touched);
    for (const name of touched) this.serviceNameIndex.set(name, idx);
  }

  hasService(node: string, serviceId: string): boolean {
    return this.services.has(`${node}/${serviceId}`);
  }

  /** Changes a check's status; false when there is no such check. A write of the same status is a no-op (no new index). */
  setCheckStatus(node: string, checkId: string, status: CheckStatus): boolean {
    return this.updateCheck(node, checkId, (check) => {
      if (check.Status === status) return false;
      check.Status = status;
      return true;
    });
  }

  /**
   * Changes a check's output only, as an agent syncs a steady check's output every
   * `check_update_interval`: a check write (ModifyIndex, the checks table index) with no status change.
   */
  setCheckOutput(node: string, checkId: string, output: string): boolean {
    return this.updateCheck(node, checkId, (check) => {
      if (check.Output === output) return false;
      check.Output = output;
      return true;
    });
  }

  private updateCheck(node: string, checkId: string, change: (check: ConsulCheck) => boolean): boolean {
    const check = this.checks.get(`${node}/${checkId}`);
    if (check === undefined) return false;
    if (!change(check)) return true;
    const idx = ++this.raftIndex;
    check.ModifyIndex = idx;
    this.checksIndex = idx;
    const touched = new Set<string>();
    this.touchCheck(node, check.ServiceID, touched);
    for (const name of touched) this.serviceNameIndex.set(name, idx);
    return true;
  }

  /**
   * Consul's deregister semantics (https://developer.hashicorp.com/consul/api-docs/catalog#deregister-entity):
   * with a CheckID only that check goes, with a ServiceID that service and its checks, with neither the
   * whole node and everything on it. Deregistering something absent succeeds and changes nothing.
   */
  deregister(node: string, target: { serviceId?: string; checkId?: string } = {}): void {
    if (!this.nodes.has(node)) return;
    const touched = new Set<string>();
    const tables = { services: false, checks: false, nodes: false };
    if (target.checkId !== undefined && target.checkId !== '') {
      const c = this.checks.get(`${node}/${target.checkId}`);
      if (c === undefined) return;
      this.deleteCheck(`${node}/${target.checkId}`);
      tables.checks = true;
      this.touchCheck(node, c.ServiceID, touched);
      // Consul's deleteCheckTxn also moves the services index when a node-level check goes.
      if (c.ServiceID === '') tables.services = true;
    } else if (target.serviceId !== undefined && target.serviceId !== '') {
      const key = `${node}/${target.serviceId}`;
      if (!this.services.has(key)) return;
      tables.checks = this.deleteService(key, touched);
      tables.services = true;
    } else {
      for (const key of [...(this.servicesByNode.get(node) ?? [])]) {
        if (this.deleteService(key, touched)) tables.checks = true;
        tables.services = true;
      }
      for (const key of [...(this.nodeChecks.get(node) ?? [])]) {
        this.deleteCheck(key);
        tables.checks = true;
      }
      this.nodes.delete(node);
      tables.nodes = true;
    }
    const idx = ++this.raftIndex;
    if (tables.services) this.servicesIndex = idx;
    if (tables.checks) this.checksIndex = idx;
    if (tables.nodes) this.nodesIndex = idx;
    for (const name of touched) this.serviceNameIndex.set(name, idx);
  }

  /**
   * The state after a snapshot restore onto a new leader: the same data under a lower index. Every
   * table index is clamped to `n`, so a client holding a higher index sees X-Consul-Index go backwards.
   */
  resetIndex(n: number): void {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`resetIndex: index must be a positive integer, got ${n}`);
    this.raftIndex = n;
    this.servicesIndex = Math.min(this.servicesIndex, n);
    this.nodesIndex = Math.min(this.nodesIndex, n);
    this.checksIndex = Math.min(this.checksIndex, n);
    for (const [name, i] of this.serviceNameIndex) this.serviceNameIndex.set(name, Math.min(i, n));
  }

  /** `GET /v1/catalog/services`: every service name with the union of its instances' tags. */
  catalogServices(): { index: number; body: Record<string, string[]> } {
    const body: Record<string, string[]> = {};
    for (const [name, keys] of this.servicesByName) {
      const tags = new Set<string>();
      for (const key of keys) for (const t of this.services.get(key)?.Tags ?? []) tags.add(t);
      body[name] = [...tags].sort();
    }
    return { index: this.servicesIndex, body };
  }

  /** `GET /v1/health/service/:service`, optionally only instances with every check passing and a given tag. */
  healthService(name: string, opts: { passing: boolean; tag?: string }): { index: number; body: CheckServiceNode[] } {
    const body: CheckServiceNode[] = [];
    for (const key of this.servicesByName.get(name) ?? []) {
      const s = this.services.get(key);
      if (s === undefined) continue;
      if (opts.tag !== undefined && !s.Tags.includes(opts.tag)) continue;
      const node = this.nodes.get(s.node);
      if (node === undefined) continue;
      // Node-level checks (ServiceID "") count against every service on the node, as in Consul.
      const checks = [...(this.nodeChecks.get(s.node) ?? []), ...(this.serviceChecks.get(key) ?? [])]
        .map((k) => this.checks.get(k))
        .filter((c): c is ConsulCheck => c !== undefined);
      if (opts.passing && checks.some((c) => c.Status !== 'passing')) continue;
      const { node: _node, ...service } = s;
      body.push({
        Node: { ...node, Meta: { ...node.Meta } }, Service: { ...service, Tags: [...s.Tags], Meta: { ...s.Meta } },
        Checks: checks.map((c) => ({ ...c, ServiceTags: [...c.ServiceTags] })),
      });
    }
    // A name never seen has no index entry of its own; Consul then answers with the tables' index.
    const index = this.serviceNameIndex.get(name) ?? Math.max(this.servicesIndex, this.nodesIndex);
    return { index, body };
  }

  /**
   * `GET /v1/health/state/:state`: every check (`any`) or those in one status, in Consul's ID-index
   * order (node, then check ID), under the checks table's index (state store checksInStateTxn). A
   * status Consul does not know matches no check — the state store looks it up in its status index
   * and finds nothing; only an empty state is refused, by the HTTP handler. The checks are the live
   * objects: the caller serializes them at once.
   */
  healthState(state: string): { index: number; body: readonly ConsulCheck[] } {
    const body: ConsulCheck[] = [];
    for (const c of this.checks.values()) if (state === 'any' || c.Status === state) body.push(c);
    body.sort((a, b) => (a.Node === b.Node ? compare(a.CheckID, b.CheckID) : compare(a.Node, b.Node)));
    return { index: this.checksIndex, body };
  }

  /**
   * `GET /v1/catalog/node/:node`: the node and its services by ID, or null for a node the catalog
   * does not have (agent/catalog_endpoint.go CatalogNodeServices returns the nil NodeServices as
   * JSON null), under the nodes and services tables' index (state store NodeServices).
   */
  catalogNode(name: string): { index: number; body: { Node: ConsulNode; Services: Record<string, ConsulService> } | null } {
    const index = Math.max(this.nodesIndex, this.servicesIndex);
    const node = this.nodes.get(name);
    if (node === undefined) return { index, body: null };
    const services: Record<string, ConsulService> = {};
    for (const key of this.servicesByNode.get(name) ?? []) {
      const s = this.services.get(key);
      if (s === undefined) continue;
      const { node: _node, ...service } = s;
      services[s.ID] = { ...service, Tags: [...s.Tags], Meta: { ...s.Meta } };
    }
    return { index, body: { Node: { ...node, Meta: { ...node.Meta } }, Services: services } };
  }

  /** Writes a service unless it is the same as the one held (then nothing changes, as in Consul). */
  private writeService(node: string, svc: NonNullable<Registration['service']>, idx: number, touched: Set<string>): void {
    const key = `${node}/${svc.id}`;
    const before = this.services.get(key);
    if (before !== undefined && before.Service === svc.service && sameStrings(before.Tags, svc.tags) && before.Address === svc.address
      && before.Port === svc.port && sameMap(before.Meta, svc.meta)) return;
    if (before !== undefined && before.Service !== svc.service) {
      removeFrom(this.servicesByName, before.Service, key);
      touched.add(before.Service);
    }
    this.services.set(key, {
      node, ID: svc.id, Service: svc.service, Tags: [...svc.tags], Address: svc.address, Port: svc.port, Meta: { ...svc.meta },
      CreateIndex: before?.CreateIndex ?? idx, ModifyIndex: idx,
    });
    addTo(this.servicesByName, svc.service, key);
    addTo(this.servicesByNode, node, key);
    this.servicesIndex = idx;
    touched.add(svc.service);
  }

  /** Writes a check unless it is the same as the one held (Consul's HealthCheck.IsSame; then no index moves). */
  private writeCheck(node: string, c: NonNullable<Registration['checks']>[number], idx: number, touched: Set<string>): void {
    const key = `${node}/${c.checkId}`;
    const before = this.checks.get(key);
    const service = c.serviceId === '' ? undefined : this.services.get(`${node}/${c.serviceId}`);
    const next: ConsulCheck = {
      Node: node, CheckID: c.checkId, Name: c.name, Status: c.status, Notes: c.notes, Output: '', ServiceID: c.serviceId,
      ServiceName: service?.Service ?? '', ServiceTags: [...(service?.Tags ?? [])], Type: '',
      CreateIndex: before?.CreateIndex ?? idx, ModifyIndex: idx,
    };
    if (before !== undefined && before.Name === next.Name && before.Status === next.Status && before.Notes === next.Notes
      && before.ServiceID === next.ServiceID && before.ServiceName === next.ServiceName && sameStrings(before.ServiceTags, next.ServiceTags)) return;
    if (before !== undefined) this.unindexCheck(key, before);
    this.checks.set(key, next);
    if (next.ServiceID === '') addTo(this.nodeChecks, node, key);
    else addTo(this.serviceChecks, `${node}/${next.ServiceID}`, key);
    this.checksIndex = idx;
    if (before !== undefined) this.touchCheck(node, before.ServiceID, touched);
    this.touchCheck(node, next.ServiceID, touched);
  }

  /** Removes a service instance and its checks; true when a check went too. */
  private deleteService(key: string, touched: Set<string>): boolean {
    const s = this.services.get(key);
    if (s === undefined) return false;
    this.services.delete(key);
    removeFrom(this.servicesByName, s.Service, key);
    removeFrom(this.servicesByNode, s.node, key);
    touched.add(s.Service);
    const checks = [...(this.serviceChecks.get(key) ?? [])];
    for (const ck of checks) this.deleteCheck(ck);
    return checks.length > 0;
  }

  private deleteCheck(key: string): void {
    const c = this.checks.get(key);
    if (c === undefined) return;
    this.checks.delete(key);
    this.unindexCheck(key, c);
  }

  private unindexCheck(key: string, c: ConsulCheck): void {
    if (c.ServiceID === '') removeFrom(this.nodeChecks, c.Node, key);
    else removeFrom(this.serviceChecks, `${c.Node}/${c.ServiceID}`, key);
  }

  private touchNode(node: string, touched: Set<string>): void {
    for (const key of this.servicesByNode.get(node) ?? []) {
      const s = this.services.get(key);
      if (s !== undefined) touched.add(s.Service);
    }
  }

  private touchCheck(node: string, serviceId: string, touched: Set<string>): void {
    if (serviceId === '') {
      this.touchNode(node, touched);
      return;
    }
    const s = this.services.get(`${node}/${serviceId}`);
    if (s !== undefined) touched.add(s.Service);
  }
}

/** Byte-wise string order (Go's string comparison, which memdb's radix tree follows). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
