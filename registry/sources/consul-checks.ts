/** What the Consul source keeps of one check of /v1/health/state/any, to tell what changed. */
export interface CheckDigest {
  node: string;
  /** A check deleted and registered again between two lists has a new CreateIndex. */
  createIndex: number;
  status: string;
  /** "" for a node-level check (serfHealth, say), which counts against every service on the node. */
  serviceId: string;
  serviceName: string;
}

/** Checks by node and check ID (together unique in a datacenter). */
export type CheckTable = ReadonlyMap<string, CheckDigest>;

/**
 * The answer of /v1/health/state/any as a table
 * (https://developer.hashicorp.com/consul/api-docs/health#list-checks-in-state). Entries that do
 * not have the shape are skipped: they could not be told apart anyway.
 */
export function checkTable(data: unknown): Map<string, CheckDigest> {
  const table = new Map<string, CheckDigest>();
  if (!Array.isArray(data)) return table;
  for (const c of data as Array<Record<string, unknown>>) {
    if (typeof c !== 'object' || c === null || typeof c.Node !== 'string' || typeof c.CheckID !== 'string') continue;
    table.set(`${c.Node}\u0000${c.CheckID}`, {
      node: c.Node,
      createIndex: typeof c.CreateIndex === 'number' ? c.CreateIndex : -1,
      status: typeof c.Status === 'string' ? c.Status : '',
      serviceId: typeof c.ServiceID === 'string' ? c.ServiceID : '',
      serviceName: typeof c.ServiceName === 'string' ? c.ServiceName : '',
    });
  }
  return table;
}

/**
 * The service names whose health may have changed between two check tables: a check added,
 * removed, registered again (CreateIndex), moved to another service, or with another status. A
 * write that changed only a check's output or notes (ModifyIndex alone) names nothing: agents
 * write a steady check's output every `check_update_interval` (5 min) —
 * https://developer.hashicorp.com/consul/docs/reference/agent/configuration-file/general#check_update_interval —
 * which across 20,000 checks is tens of writes a second, none of them a health change. A service
 * check names its service; a node-level check (ServiceID "") every service on its node — those
 * the caller knows to be there (`servicesOn`, from the instances it read) and those with a check
 * of their own on that node.
 */
export function changedServices(before: CheckTable, after: CheckTable, servicesOn: (node: string) => Iterable<string>): Set<string> {
  const changed = new Set<string>();
  const nodes = new Set<string>();
  const mark = (c: CheckDigest): void => {
    if (c.serviceId === '') nodes.add(c.node);
    else if (c.serviceName !== '') changed.add(c.serviceName);
  };
  for (const [key, now] of after) {
    const was = before.get(key);
    if (was !== undefined && was.createIndex === now.createIndex && was.status === now.status
      && was.serviceId === now.serviceId && was.serviceName === now.serviceName) continue;
    mark(now);
    if (was !== undefined) mark(was);
  }
  for (const [key, was] of before) if (!after.has(key)) mark(was);
  if (nodes.size === 0) return changed;
  for (const node of nodes) for (const name of servicesOn(node)) changed.add(name);
  for (const table of [before, after]) {
    for (const c of table.values()) if (c.serviceName !== '' && nodes.has(c.node)) changed.add(c.serviceName);
  }
  return changed;
}
