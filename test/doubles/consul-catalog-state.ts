// The catalog behind the Consul API double: nodes, service instances and checks, with the raft-like
// indexes Consul's state store keeps. Every write takes the next index; each table (and each service
// name) remembers the index of its last change, and that — not the global index — is what a
// blocking endpoint reports as X-Consul-Index (https://developer.hashicorp.com/consul/api-docs/features/blocking:
// "X-Consul-Index ... a unique identifier representing the current state of the requested resource").

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

export class CatalogState {
  private raftIndex = 1;
  private readonly nodes = new Map<string, ConsulNode>();
  /** key `${node}/${serviceId}` */
  private readonly services = new Map<string, ConsulService & { node: string }>();
  /** key `${node}/${checkId}` */
  private readonly checks = new Map<string, ConsulCheck>();
  /** Index of the last change to the services table (what /v1/catalog/services reports). */
  private servicesIndex = 1;
  private nodesIndex = 1;
  /** Index of the last change touching a service name: its instances, their checks or nodes. */
  private readonly serviceNameIndex = new Map<string, number>();

  constructor(readonly datacenter: string) {}

  get index(): number {
    return this.raftIndex;
  }

  register(r: Registration): void {
    const idx = ++this.raftIndex;
    const touched = new Set<string>();
    const prev = this.nodes.get(r.node);
    const nodeChanged = prev === undefined || prev.Address !== r.address
      || (r.nodeMeta !== undefined && JSON.stringify(prev.Meta) !== JSON.stringify(r.nodeMeta));
    if (nodeChanged) {
      this.nodes.set(r.node, {
        Node: r.node, Address: r.address, Datacenter: this.datacenter, Meta: r.nodeMeta ?? prev?.Meta ?? {},
        CreateIndex: prev?.CreateIndex ?? idx, ModifyIndex: idx,
      });
      this.nodesIndex = idx;
      // A node change shows in every health entry of every service on that node.
      for (const s of this.services.values()) if (s.node === r.node) touched.add(s.Service);
    }
    if (r.service !== undefined) {
      const key = `${r.node}/${r.service.id}`;
      const before = this.services.get(key);
      if (before !== undefined && before.Service !== r.service.service) touched.add(before.Service);
      this.services.set(key, {
        node: r.node, ID: r.service.id, Service: r.service.service, Tags: [...r.service.tags], Address: r.service.address,
        Port: r.service.port, Meta: { ...r.service.meta }, CreateIndex: before?.CreateIndex ?? idx, ModifyIndex: idx,
      });
      this.servicesIndex = idx;
      touched.add(r.service.service);
    }
    for (const c of r.checks ?? []) {
      const key = `${r.node}/${c.checkId}`;
      const before = this.checks.get(key);
      const serviceName = c.serviceId === '' ? '' : this.services.get(`${r.node}/${c.serviceId}`)?.Service ?? '';
      this.checks.set(key, {
        Node: r.node, CheckID: c.checkId, Name: c.name, Status: c.status, Notes: c.notes, Output: '',
        ServiceID: c.serviceId, ServiceName: serviceName, CreateIndex: before?.CreateIndex ?? idx, ModifyIndex: idx,
      });
      this.touchCheck(r.node, c.serviceId, touched);
    }
    for (const name of touched) this.serviceNameIndex.set(name, idx);
  }

  hasService(node: string, serviceId: string): boolean {
    return this.services.has(`${node}/${serviceId}`);
  }

  /** Changes a check's status; false when there is no such check. A write of the same status is a no-op (no new index). */
  setCheckStatus(node: string, checkId: string, status: CheckStatus): boolean {
    const check = this.checks.get(`${node}/${checkId}`);
    if (check === undefined) return false;
    if (check.Status === status) return true;
    const idx = ++this.raftIndex;
    check.Status = status;
    check.ModifyIndex = idx;
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
    const removeService = (key: string): void => {
      const s = this.services.get(key);
      if (s === undefined) return;
      this.services.delete(key);
      touched.add(s.Service);
      for (const [ck, c] of this.checks) if (c.Node === node && c.ServiceID === s.ID) this.checks.delete(ck);
    };
    let changed = false;
    if (target.checkId !== undefined && target.checkId !== '') {
      const c = this.checks.get(`${node}/${target.checkId}`);
      if (c === undefined) return;
      this.checks.delete(`${node}/${target.checkId}`);
      this.touchCheck(node, c.ServiceID, touched);
      changed = true;
    } else if (target.serviceId !== undefined && target.serviceId !== '') {
      changed = this.services.has(`${node}/${target.serviceId}`);
      removeService(`${node}/${target.serviceId}`);
    } else {
      for (const [key, s] of this.services) if (s.node === node) removeService(key);
      for (const [ck, c] of this.checks) if (c.Node === node) this.checks.delete(ck);
      this.nodes.delete(node);
      changed = true;
    }
    if (!changed) return;
    const idx = ++this.raftIndex;
    if (touched.size > 0) this.servicesIndex = idx;
    if (!this.nodes.has(node)) this.nodesIndex = idx;
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
    for (const [name, i] of this.serviceNameIndex) this.serviceNameIndex.set(name, Math.min(i, n));
  }

  /** `GET /v1/catalog/services`: every service name with the union of its instances' tags. */
  catalogServices(): { index: number; body: Record<string, string[]> } {
    const body: Record<string, string[]> = {};
    for (const s of this.services.values()) {
      const tags = new Set(body[s.Service] ?? []);
      for (const t of s.Tags) tags.add(t);
      body[s.Service] = [...tags].sort();
    }
    return { index: this.servicesIndex, body };
  }

  /** `GET /v1/health/service/:service`, optionally only instances with every check passing and a given tag. */
  healthService(name: string, opts: { passing: boolean; tag?: string }): { index: number; body: CheckServiceNode[] } {
    const body: CheckServiceNode[] = [];
    for (const s of this.services.values()) {
      if (s.Service !== name) continue;
      if (opts.tag !== undefined && !s.Tags.includes(opts.tag)) continue;
      const node = this.nodes.get(s.node);
      if (node === undefined) continue;
      // Node-level checks (ServiceID "") count against every service on the node, as in Consul.
      const checks = [...this.checks.values()].filter((c) => c.Node === s.node && (c.ServiceID === '' || c.ServiceID === s.ID));
      if (opts.passing && checks.some((c) => c.Status !== 'passing')) continue;
      const { node: _node, ...service } = s;
      body.push({ Node: { ...node, Meta: { ...node.Meta } }, Service: { ...service, Tags: [...s.Tags], Meta: { ...s.Meta } }, Checks: checks.map((c) => ({ ...c })) });
    }
    // A name never seen has no index entry of its own; Consul then answers with the tables' index.
    const index = this.serviceNameIndex.get(name) ?? Math.max(this.servicesIndex, this.nodesIndex);
    return { index, body };
  }

  private touchCheck(node: string, serviceId: string, touched: Set<string>): void {
    if (serviceId !== '') {
      const s = this.services.get(`${node}/${serviceId}`);
      if (s !== undefined) touched.add(s.Service);
      return;
    }
    for (const s of this.services.values()) if (s.node === node) touched.add(s.Service);
  }
}
