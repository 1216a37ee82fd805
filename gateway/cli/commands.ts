import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CausewayError, ErrorCodes } from '../../registry/index.js';
import { parseDuration } from '../config/durations.js';
import { adminRequest, resolveTarget, type TargetFlags } from './admin-client.js';
import { print, table } from './output.js';

export interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<void>;
}

export const TARGET_OPTIONS = {
  config: { type: 'string' },
  admin: { type: 'string' },
  'token-file': { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const TARGET_HELP = `Target (which gateway to talk to):
  --config FILE      the gateway's config file (admin address and data dir come from it)
  --admin URL        admin API base URL (default $CAUSEWAY_ADMIN or http://127.0.0.1:15000)
  --token-file FILE  admin token file (default <dataDir>/admin.token with --config, or $CAUSEWAY_ADMIN_TOKEN)
  --json             print the raw JSON answer`;

interface PeerStatusView {
  name: string; cluster: string; trustDomain: string; role: string; state: string; federationAddress?: string;
  lastError?: string; unacked?: number; lastAckLagMs?: number; importedServices?: number; exportedServices?: number;
}

export function targetFlags(values: Record<string, unknown>): TargetFlags {
  return { config: values.config as string | undefined, admin: values.admin as string | undefined, 'token-file': values['token-file'] as string | undefined };
}

export function usageError(message: string): CausewayError {
  return new CausewayError(ErrorCodes.USAGE, message);
}

export const peerToken: Command = {
  summary: 'print a one-time peering token for another gateway to redeem',
  usage: 'causeway peer token [--ttl 15m] [--peer-name NAME] [target options]',
  options: { ...TARGET_OPTIONS, ttl: { type: 'string' }, 'peer-name': { type: 'string' } },
  async run(values, positionals) {
    if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"`);
    const ttlSeconds = values.ttl === undefined ? 900 : parseDuration(values.ttl);
    if (ttlSeconds === undefined) throw usageError(`--ttl: "${String(values.ttl)}" is not a duration such as 15m or 1h`);
    const body: Record<string, unknown> = { ttlSeconds };
    if (typeof values['peer-name'] === 'string') body.peerName = values['peer-name'];
    const answer = await adminRequest<{ token: string }>(await resolveTarget(targetFlags(values)), 'POST', '/v1/peering/token', body);
    print(values.json === true ? JSON.stringify(answer) : answer.token);
  },
};

export const peerAdd: Command = {
  summary: 'redeem a peering token from another gateway and start the peer link',
  usage: 'causeway peer add TOKEN [--name NAME] [target options]',
  options: { ...TARGET_OPTIONS, name: { type: 'string' } },
  async run(values, positionals) {
    const [token, extra] = positionals;
    if (token === undefined) throw usageError('peer add needs the TOKEN printed by `causeway peer token` on the other gateway');
    if (extra !== undefined) throw usageError(`unexpected argument "${extra}"`);
    const body: Record<string, unknown> = { token };
    if (typeof values.name === 'string') body.name = values.name;
    const answer = await adminRequest<{ peer: PeerStatusView }>(await resolveTarget(targetFlags(values)), 'POST', '/v1/peers', body);
    print(values.json === true ? JSON.stringify(answer) : `peered with ${answer.peer.name} (cluster ${answer.peer.cluster}, trust domain ${answer.peer.trustDomain})`);
  },
};

export const peerList: Command = {
  summary: 'list peers and the state of their links',
  usage: 'causeway peer list [target options]',
  options: { ...TARGET_OPTIONS },
  async run(values) {
    const answer = await adminRequest<{ peers: PeerStatusView[] }>(await resolveTarget(targetFlags(values)), 'GET', '/v1/peers');
    if (values.json === true) return print(JSON.stringify(answer, null, 2));
    if (answer.peers.length === 0) return print('no peers');
    print(table(['NAME', 'CLUSTER', 'TRUST DOMAIN', 'ROLE', 'STATE', 'IMPORTED', 'UNACKED', 'ACK LAG'], answer.peers.map((p) => [
      p.name, p.cluster, p.trustDomain, p.role, p.state + (p.lastError === undefined ? '' : ` (${p.lastError})`),
      String(p.importedServices ?? 0), String(p.unacked ?? 0), p.lastAckLagMs === undefined ? '-' : `${p.lastAckLagMs}ms`,
    ])));
  },
};

export const peerRemove: Command = {
  summary: 'remove a peer: stop its link and stop trusting its trust domain',
  usage: 'causeway peer remove NAME [target options]',
  options: { ...TARGET_OPTIONS },
  async run(values, positionals) {
    const [name, extra] = positionals;
    if (name === undefined) throw usageError('peer remove needs the NAME shown by `causeway peer list`');
    if (extra !== undefined) throw usageError(`unexpected argument "${extra}"`);
    await adminRequest(await resolveTarget(targetFlags(values)), 'DELETE', `/v1/peers/${encodeURIComponent(name)}`);
    print(`removed peer ${name}`);
  },
};

interface ServiceView {
  key: string;
  ports: Array<{ name: string; port: number }>;
  clusters: Record<string, { local: boolean; endpoints: Array<{ address: string; health: string; identity: string }> }>;
}

export const services: Command = {
  summary: 'list services in the federated catalog, with endpoints per cluster',
  usage: 'causeway services [target options]',
  options: { ...TARGET_OPTIONS },
  async run(values) {
    const answer = await adminRequest<{ services: ServiceView[] }>(await resolveTarget(targetFlags(values)), 'GET', '/v1/services');
    if (values.json === true) return print(JSON.stringify(answer, null, 2));
    if (answer.services.length === 0) return print('no services');
    const rows: string[][] = [];
    for (const service of answer.services) {
      for (const [cluster, entry] of Object.entries(service.clusters)) {
        const healthy = entry.endpoints.filter((e) => e.health === 'healthy').length;
        rows.push([service.key, service.ports.map((p) => `${p.name}:${p.port}`).join(','), cluster + (entry.local ? ' (local)' : ''),
          `${healthy}/${entry.endpoints.length}`]);
      }
    }
    print(table(['SERVICE', 'PORTS', 'CLUSTER', 'HEALTHY'], rows));
  },
};

export const status: Command = {
  summary: 'show the gateway: identity, listeners, peers, bundles, services',
  usage: 'causeway status [target options]',
  options: { ...TARGET_OPTIONS },
  async run(values) {
    const answer = await adminRequest<Record<string, any>>(await resolveTarget(targetFlags(values)), 'GET', '/v1/status');
    if (values.json === true) return print(JSON.stringify(answer, null, 2));
    print(`gateway   ${answer.gateway.identity}  (cluster ${answer.cluster}, ready: ${answer.gateway.ready})`);
    print(`svid      valid until ${answer.gateway.svidNotAfter}`);
    for (const [name, address] of Object.entries(answer.listeners as Record<string, string>)) print(`listen    ${name.padEnd(10)} ${address}`);
    for (const bundle of answer.bundles as Array<Record<string, any>>) {
      print(`bundle    ${bundle.trustDomain}${bundle.local ? ' (local)' : ''}  sequence ${bundle.sequence}  roots ${bundle.roots.length}`);
    }
    for (const peer of answer.peers as PeerStatusView[]) print(`peer      ${peer.name}  ${peer.cluster}  ${peer.state}`);
    print(`services  ${(answer.services as unknown[]).length}`);
  },
};
