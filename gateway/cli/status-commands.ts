import { adminRequest, resolveTarget } from './admin-client.js';
import { TARGET_OPTIONS, targetFlags, type Command } from './command.js';
import { clip, print, printJson, table } from './output.js';
import { formatPolicyError, type PolicyError } from '../policy/policy-error.js';

interface ClusterView {
  local: boolean;
  link?: string;
  reachability?: string;
  gateways?: Array<{ identity: string; ejected?: boolean }>;
  endpoints: Array<{ address: string; health: string; state?: string; identity: string }>;
}

interface ServiceView {
  key: string;
  ports: Array<{ name: string; port: number }>;
  clusters: Record<string, ClusterView>;
}

interface OutlierView { key: string; condition?: string; consecutiveFailures: number; ejections: number; ejectedUntil?: number; reason?: string }

interface LivenessView { gateway: string; address: string; condition: string; reason: string }

/** The STATE column: why a cluster's endpoints get no traffic from here, if they do not. */
function clusterState(entry: ClusterView): string {
  switch (entry.reachability) {
    case 'unreachable':
      return entry.link === undefined || entry.link === 'none' ? 'unreachable (no gateway)' : `unreachable (peer link ${entry.link})`;
    case 'ejected':
      return 'ejected (outlier detection)';
    default:
      return entry.local ? 'local' : 'reachable';
  }
}

export const services: Command = {
  summary: 'list services in the federated catalog, with endpoints per cluster',
  usage: 'causeway services [target options]',
  options: { ...TARGET_OPTIONS },
  async run({ values, format }) {
    const answer = await adminRequest<{ services: ServiceView[] }>(await resolveTarget(targetFlags(values)), 'GET', '/v1/services');
    if (format === 'json') return printJson(answer);
    if (answer.services.length === 0) return print('no services');
    const rows: string[][] = [];
    for (const service of answer.services) {
      for (const [cluster, entry] of Object.entries(service.clusters)) {
        // Healthy means healthy AND reachable: stale health from a down link is not counted.
        const healthy = entry.endpoints.filter((e) => (e.state ?? e.health) === 'healthy').length;
        rows.push([service.key, service.ports.map((p) => `${p.name}:${p.port}`).join(','), cluster,
          `${healthy}/${entry.endpoints.length}`, clusterState(entry)]);
      }
    }
    print(table(['SERVICE', 'PORTS', 'CLUSTER', 'HEALTHY', 'STATE'], rows));
  },
};

function outlierLine(o: OutlierView): string {
  // Its ejection time is over; it stays out until a probe through that gateway succeeds.
  if (o.condition === 'probing') return `probing   ${o.key}  waiting for a probe to succeed  (ejection ${o.ejections}: ${o.reason ?? 'failures'})`;
  if (o.ejectedUntil !== undefined) return `ejected   ${o.key}  until ${new Date(o.ejectedUntil).toISOString()}  (ejection ${o.ejections})`;
  // Back in rotation after an ejection, until a success clears it (the next failures eject it for longer).
  if (o.ejections > 0) return `probation ${o.key}  ejected ${o.ejections} time(s); ${o.consecutiveFailures} failure(s) since`;
  return `failing   ${o.key}  ${o.consecutiveFailures} consecutive failure(s)`;
}

interface PolicySummaryView {
  version: number; documents: number; appliedAt: string;
  lastRefusal?: { at: string; source: string; errors: number; first?: PolicyError };
}

/** The set in force, and a refusal only while it is the latest news (newer than the set). */
function policyLine(p: PolicySummaryView): string {
  const line = `policies  version ${p.version}, ${p.documents} document${p.documents === 1 ? '' : 's'}`;
  const refusal = p.lastRefusal;
  if (refusal === undefined || refusal.at < p.appliedAt) return line;
  const first = refusal.first === undefined ? '' : `: ${formatPolicyError(refusal.first)}`;
  return `${line}; refused ${refusal.at} (${refusal.source}, ${refusal.errors} problem${refusal.errors === 1 ? '' : 's'})${first}`;
}

export const status: Command = {
  summary: 'show the gateway on one screen: identity, listeners, peers with staleness and lag, bundles and expiry, sources, policy, ejections',
  usage: 'causeway status [target options]',
  options: { ...TARGET_OPTIONS },
  async run({ values, format }) {
    const answer = await adminRequest<Record<string, any>>(await resolveTarget(targetFlags(values)), 'GET', '/v1/status');
    if (format === 'json') return printJson(answer);
    print(`gateway   ${answer.gateway.identity}  (cluster ${answer.cluster}, ready: ${answer.gateway.ready})`);
    print(`svid      valid until ${answer.gateway.svidNotAfter}`);
    for (const [name, address] of Object.entries(answer.listeners as Record<string, string>)) print(`listen    ${name.padEnd(10)} ${address}`);
    for (const bundle of answer.bundles as Array<{ trustDomain: string; local: boolean; sequence: number; roots: Array<{ notAfter: string }> }>) {
      const expiry = bundle.roots.map((r) => r.notAfter).sort()[0];
      print(`bundle    ${bundle.trustDomain}${bundle.local ? ' (local)' : ''}  sequence ${bundle.sequence}  roots ${bundle.roots.length}${expiry === undefined ? '' : `  first expiry ${expiry}`}`);
    }
    for (const line of trustSourceLines(answer.trust)) print(line);
    for (const peer of answer.peers as PeerView[]) print(peerLine(peer));
    for (const entry of (answer.bootstrap?.peerings ?? []) as BootstrapView[]) print(bootstrapLine(entry));
    const serviceList = answer.services as ServiceView[];
    const unreachable = serviceList.flatMap((s) => Object.entries(s.clusters)
      .filter(([, c]) => c.reachability === 'unreachable' || c.reachability === 'ejected').map(([cluster, c]) => `${s.key}@${cluster} ${c.reachability}`));
    print(`services  ${serviceList.length}${unreachable.length === 0 ? '' : `  (${unreachable.join(', ')})`}`);
    const policies = answer.policies as PolicySummaryView | undefined;
    if (policies !== undefined) print(policyLine(policies));
    for (const source of (answer.sources ?? []) as Array<{ name: string; kind: string; synced: boolean; services: number; lastError?: string }>) {
      print(`source    ${source.name} (${source.kind})  ${source.synced ? 'synced' : 'NOT SYNCED (serving the restored catalog)'}  ${source.services} service${source.services === 1 ? '' : 's'}`
        + `${source.lastError === undefined ? '' : `  last error: ${clip(source.lastError)}`}`);
    }
    const outliers = (answer.outbound?.ejectedGateways ?? []) as OutlierView[];
    if (outliers.length === 0) print('ejected   none');
    for (const outlier of outliers) print(outlierLine(outlier));
    // Dead (no PING answer, cannot be dialed) or behind a down federation link.
    for (const g of (answer.outbound?.gateways ?? []) as LivenessView[]) {
      if (g.condition !== 'up') print(`${g.condition.padEnd(9)} ${g.gateway}@${g.address}  ${g.reason}`);
    }
  },
};

interface PeerView {
  name: string; cluster: string; state: string; stale?: boolean; silentMs?: number;
  lastAckLagMs?: number; lastReplicationLagMs?: number; unacked?: number; importedServices?: number; exportedServices?: number; lastError?: string;
}

/**
 * One peer: its link, and — while connected — how fresh it is (a silent link is STALE long
 * before it is declared down), its lags and what it has not acknowledged.
 */
function peerLine(p: PeerView): string {
  const ms = (v: number | undefined): string => (v === undefined ? '-' : `${Math.round(v)} ms`);
  if (p.state !== 'connected') return `peer      ${p.name}  ${p.cluster}  ${p.state}${p.lastError === undefined ? '' : `  ${clip(p.lastError)}`}`;
  const freshness = p.stale === true ? `STALE (nothing received for ${ms(p.silentMs)})` : `last heard ${ms(p.silentMs)} ago`;
  return `peer      ${p.name}  ${p.cluster}  connected, ${freshness}  replication lag ${ms(p.lastReplicationLagMs)}  ack ${ms(p.lastAckLagMs)}`
    + `  unacked ${p.unacked ?? 0}  imported ${p.importedServices ?? 0} exported ${p.exportedServices ?? 0}`;
}

interface BootstrapView {
  name: string; address: string; state: string; attempts: number; expiresAt: string; lastError?: string; lastErrorCode?: string; nextAttemptAt?: string;
}

/** A peering of the config's peering.peers: still being tried (and why not yet), done, or given up (and why). */
function bootstrapLine(b: BootstrapView): string {
  const error = b.lastError === undefined ? '' : `  ${b.lastErrorCode ?? 'error'}: ${clip(b.lastError)}`;
  if (b.state === 'pending') {
    return `bootstrap ${b.name}  ${b.address}  pending, attempt ${b.attempts}${b.nextAttemptAt === undefined ? '' : `, next ${b.nextAttemptAt}`}, credential expires ${b.expiresAt}${error}`;
  }
  return `bootstrap ${b.name}  ${b.address}  ${b.state === 'done' ? 'done' : 'FAILED'}${error}`;
}

interface TrustSourcesView {
  intermediate?: { source: string; state: string; watch: { state: string; lastError?: string }; lastRefusal?: { reason: string } };
  serviceAccountJwks?: { server: string; keys: string[]; lastError?: string; issuerMismatch?: string };
}

/** The CA Secret followed for renewals and the API server's service-account keys, with what is wrong with them. */
function trustSourceLines(trust: TrustSourcesView | undefined): string[] {
  const lines: string[] = [];
  const i = trust?.intermediate;
  if (i !== undefined) {
    const problem = i.state === 'refused' ? `  RENEWAL REFUSED: ${clip(i.lastRefusal?.reason ?? '')}` : i.watch.lastError === undefined ? '' : `  last error: ${clip(i.watch.lastError)}`;
    lines.push(`ca source ${i.source}  ${i.state}, watch ${i.watch.state}${problem}`);
  }
  const j = trust?.serviceAccountJwks;
  if (j !== undefined) {
    const problem = j.issuerMismatch !== undefined ? `  ISSUER MISMATCH: the API server says ${j.issuerMismatch}` : j.lastError === undefined ? '' : `  last error: ${clip(j.lastError)}`;
    lines.push(`sa jwks   ${j.server}  ${j.keys.length} key${j.keys.length === 1 ? '' : 's'}${problem}`);
  }
  return lines;
}

interface AgentView { agent: string; host?: string; state: string; services: string[]; health?: Record<string, string>; leaseExpires?: string }

export const agents: Command = {
  summary: 'list the VM and bare-metal agents that registered services here: host, state, services and their health, lease',
  usage: 'causeway agents [target options]',
  options: { ...TARGET_OPTIONS },
  async run({ values, format }) {
    const answer = await adminRequest<{ agents: AgentView[] }>(await resolveTarget(targetFlags(values)), 'GET', '/v1/agents');
    if (format === 'json') return printJson(answer);
    if (answer.agents.length === 0) return print('no agents');
    print(table(['AGENT', 'HOST', 'STATE', 'SERVICES', 'LEASE EXPIRES'], answer.agents.map((a) => [
      a.agent, a.host ?? '-', a.state, a.services.map((s) => `${s} (${a.health?.[s] ?? '?'})`).join(', ') || '-', a.leaseExpires ?? '-',
    ])));
  },
};
