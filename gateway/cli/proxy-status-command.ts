import { adminRequest, resolveTarget } from './admin-client.js';
import { TARGET_OPTIONS, targetFlags, type Command } from './command.js';
import { clip, print, printJson, table } from './output.js';
import type { AdsClientStatus, TypeStatus } from '../xds/ads-stream.js';

interface XdsAnswer {
  enabled: boolean;
  address?: string;
  clients: AdsClientStatus[];
  recentNacks: Array<{ at: string; identity: string; typeUrl: string; version: string; error: string }>;
}

const COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['LDS', 'envoy.config.listener.v3.Listener'],
  ['RDS', 'envoy.config.route.v3.RouteConfiguration'],
  ['CDS', 'envoy.config.cluster.v3.Cluster'],
  ['EDS', 'envoy.config.endpoint.v3.ClusterLoadAssignment'],
];

/**
 * One type's state for a client, as `istioctl proxy-status` shows it: SYNCED (the client
 * acknowledged what was sent last), STALE (sent, not acknowledged yet), NACKED (it rejected
 * the latest; it keeps what it had), NOT SENT (subscribed, nothing sent yet), `-` (not asked).
 */
export function syncState(type: TypeStatus | undefined): string {
  if (type === undefined) return '-';
  if (type.nacked !== undefined) return 'NACKED';
  if (type.sent === undefined) return 'NOT SENT';
  // State of the world acknowledges a version; incremental xDS a nonce.
  return type.acked === type.sent.version || type.acked === type.sent.nonce ? 'SYNCED' : 'STALE';
}

export const proxyStatus: Command = {
  summary: 'the xDS clients of the gateway: per resource type whether each is in sync, and the latest NACKs',
  usage: 'causeway proxy-status [target options]',
  options: { ...TARGET_OPTIONS },
  async run({ values, format }) {
    const answer = await adminRequest<XdsAnswer>(await resolveTarget(targetFlags(values)), 'GET', '/v1/xds');
    if (format === 'json') return printJson(answer);
    if (!answer.enabled) return print('xDS is not enabled on this gateway (config `xds:`)');
    if (answer.clients.length === 0) return print(`no xDS clients (listening on ${answer.address ?? '?'})`);
    print(table(['CLIENT', 'NODE', ...COLUMNS.map(([c]) => c), 'CONNECTED'], answer.clients.map((client) => [
      client.identity, client.node === '' ? '-' : client.node,
      ...COLUMNS.map(([, type]) => syncState(client.types.find((t) => t.typeUrl.endsWith(`/${type}`)))),
      client.connectedAt,
    ])));
    if (answer.recentNacks.length > 0) {
      print('');
      for (const nack of answer.recentNacks.slice(0, 10)) {
        print(`NACK ${nack.at}  ${nack.identity}  ${nack.typeUrl.split('.').pop() ?? nack.typeUrl} ${nack.version}: ${clip(nack.error, 100)}`);
      }
    }
  },
};
