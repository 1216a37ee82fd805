import { parseDuration } from '../config/durations.js';
import { adminRequest, resolveTarget } from './admin-client.js';
import { TARGET_OPTIONS, targetFlags, usageError, type Command } from './command.js';
import { clip, print, printJson, table } from './output.js';

interface PeerStatusView {
  name: string; cluster: string; trustDomain: string; role: string; state: string; federationAddress?: string;
  lastError?: string; unacked?: number; lastAckLagMs?: number; importedServices?: number; exportedServices?: number;
}

export const peerToken: Command = {
  summary: 'print a one-time peering token for another gateway to redeem',
  usage: 'causeway peer token [--ttl 15m] [--peer-name NAME] [target options]',
  options: { ...TARGET_OPTIONS, ttl: { type: 'string' }, 'peer-name': { type: 'string' } },
  async run({ values, format }) {
    const ttlSeconds = values.ttl === undefined ? 900 : parseDuration(values.ttl);
    if (ttlSeconds === undefined) throw usageError(`--ttl: "${String(values.ttl)}" is not a duration such as 15m or 1h`);
    const body: Record<string, unknown> = { ttlSeconds };
    if (typeof values['peer-name'] === 'string') body.peerName = values['peer-name'];
    const answer = await adminRequest<{ token: string }>(await resolveTarget(targetFlags(values)), 'POST', '/v1/peering/token', body);
    if (format === 'json') printJson(answer);
    else print(answer.token);
  },
};

export const peerAdd: Command = {
  summary: 'redeem a peering token from another gateway and start the peer link',
  usage: 'causeway peer add TOKEN [--name NAME] [target options]',
  options: { ...TARGET_OPTIONS, name: { type: 'string' } },
  args: ['TOKEN'],
  async run({ values, positionals, format }) {
    const [token] = positionals;
    if (token === undefined) throw usageError('peer add needs the TOKEN printed by `causeway peer token` on the other gateway');
    const body: Record<string, unknown> = { token };
    if (typeof values.name === 'string') body.name = values.name;
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
