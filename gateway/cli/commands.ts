import { parseDuration } from '../config/durations.js';
import { adminRequest, resolveTarget } from './admin-client.js';
import { TARGET_OPTIONS, targetFlags, usageError, type Command } from './command.js';
import { clip, print, printJson, table } from './output.js';

interface PeerStatusView {
  name: string; cluster: string; trustDomain: string; role: string; state: string; federationAddress?: string;
  lastError?: string; unacked?: number; lastAckLagMs?: number; importedServices?: number; exportedServices?: number;
}

/**
 * `--label key=value`, repeatable: labels of the peering, matched by exportTo label selectors
 * (node:util parseArgs gives a repeatable option as a list).
 */
function labelsOf(values: Record<string, unknown>): Record<string, string> | undefined {
  const given = values.label;
  if (given === undefined) return undefined;
  const labels: Record<string, string> = {};
  for (const item of Array.isArray(given) ? given : [given]) {
    const text = String(item);
    const eq = text.indexOf('=');
    if (eq <= 0) throw usageError(`--label: "${text}" is not key=value (e.g. --label env=prod)`);
    const key = text.slice(0, eq);
    if (Object.hasOwn(labels, key)) throw usageError(`--label: ${key} is given twice`);
    labels[key] = text.slice(eq + 1);
  }
  return labels;
}

const LABEL_OPTION = { label: { type: 'string', multiple: true } } as const;

export const peerToken: Command = {
  summary: 'print a one-time peering token for another gateway to redeem',
  usage: 'causeway peer token [--ttl 15m] [--peer-name NAME] [--label KEY=VALUE]... [target options]',
  options: { ...TARGET_OPTIONS, ttl: { type: 'string' }, 'peer-name': { type: 'string' }, ...LABEL_OPTION },
  async run({ values, format }) {
    const ttlSeconds = values.ttl === undefined ? 900 : parseDuration(values.ttl);
    if (ttlSeconds === undefined) throw usageError(`--ttl: "${String(values.ttl)}" is not a duration such as 15m or 1h`);
    const body: Record<string, unknown> = { ttlSeconds };
    if (typeof values['peer-name'] === 'string') body.peerName = values['peer-name'];
    const labels = labelsOf(values);
    if (labels !== undefined) body.labels = labels;
    const answer = await adminRequest<{ token: string }>(await resolveTarget(targetFlags(values)), 'POST', '/v1/peering/token', body);
    if (format === 'json') printJson(answer);
    else print(answer.token);
  },
};

export const peerAdd: Command = {
  summary: 'redeem a peering token from another gateway and start the peer link',
  usage: 'causeway peer add TOKEN [--name NAME] [--label KEY=VALUE]... [target options]',
  options: { ...TARGET_OPTIONS, name: { type: 'string' }, ...LABEL_OPTION },
  args: ['TOKEN'],
  async run({ values, positionals, format }) {
    const [token] = positionals;
    if (token === undefined) throw usageError('peer add needs the TOKEN printed by `causeway peer token` on the other gateway');
    const body: Record<string, unknown> = { token };
    if (typeof values.name === 'string') body.name = values.name;
    const labels = labelsOf(values);
    if (labels !== undefined) body.labels = labels;
    const answer = await adminRequest<{ peer: PeerStatusView }>(await resolveTarget(targetFlags(values)), 'POST', '/v1/peers', body);
    if (format === 'json') printJson(answer);
    else print(`peered with ${answer.peer.name} (cluster ${answer.peer.cluster}, trust domain ${answer.peer.trustDomain})`);
  },
};

export const peerList: Command = {
  summary: 'list peers and the state of their links',
  usage: 'causeway peer list [target options]',
  options: { ...TARGET_OPTIONS },
  async run({ values, format }) {
    const answer = await adminRequest<{ peers: PeerStatusView[] }>(await resolveTarget(targetFlags(values)), 'GET', '/v1/peers');
    if (format === 'json') return printJson(answer);
    if (answer.peers.length === 0) return print('no peers');
    // The last error is a gRPC or socket message of any length: clipped here, whole under -o json.
    print(table(['NAME', 'CLUSTER', 'TRUST DOMAIN', 'ROLE', 'STATE', 'IMPORTED', 'UNACKED', 'ACK LAG'], answer.peers.map((p) => [
      p.name, p.cluster, p.trustDomain, p.role, p.state + (p.lastError === undefined ? '' : ` (${clip(p.lastError)})`),
      String(p.importedServices ?? 0), String(p.unacked ?? 0), p.lastAckLagMs === undefined ? '-' : `${p.lastAckLagMs}ms`,
    ])));
  },
};

export const peerRemove: Command = {
  summary: 'remove a peer: stop its link and stop trusting its trust domain',
  usage: 'causeway peer remove NAME [target options]',
  options: { ...TARGET_OPTIONS },
  args: ['NAME'],
  async run({ values, positionals, format }) {
    const [name] = positionals;
    if (name === undefined) throw usageError('peer remove needs the NAME shown by `causeway peer list`');
    await adminRequest(await resolveTarget(targetFlags(values)), 'DELETE', `/v1/peers/${encodeURIComponent(name)}`);
    if (format === 'json') printJson({ removed: name });
    else print(`removed peer ${name}`);
  },
};

export const reload: Command = {
  summary: 're-read the gateway\'s config file and apply services, access rules and log level',
  usage: 'causeway reload [target options]',
  options: { ...TARGET_OPTIONS },
  async run({ values, format }) {
    const answer = await adminRequest<{ changed: string[] }>(await resolveTarget(targetFlags(values)), 'POST', '/v1/reload', {});
    if (format === 'json') printJson(answer);
    else print(answer.changed.length === 0 ? 'config reloaded; nothing changed' : `config reloaded; changed: ${answer.changed.join(', ')}`);
  },
};
