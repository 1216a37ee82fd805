import { parseDuration } from '../config/durations.js';
import { adminRequest, resolveTarget } from './admin-client.js';
import { TARGET_OPTIONS, targetFlags, usageError, type Command } from './command.js';
import { print, printJson, table } from './output.js';

interface RootView { subject: string; fingerprint: string; notAfter: string }
interface BundleView { trustDomain: string; local: boolean; peer?: string; sequence: number; refreshHintSeconds: number; roots: RootView[] }
interface AuthorityView { id: number; kind: string; state: string; subject: string; notAfter: string; activateAt?: string; retireAt?: string }
interface TrustView { ca: { trustDomain: string; sequence: number; authorities: AuthorityView[] }; bundles: BundleView[] }

function printAuthorities(authorities: AuthorityView[]): void {
  print(table(['AUTHORITY', 'KIND', 'STATE', 'EXPIRES', 'NEXT STEP'], authorities.map((a) => [
    String(a.id), a.kind, a.state, a.notAfter,
    a.activateAt !== undefined ? `signs from ${a.activateAt}` : a.retireAt !== undefined ? `leaves the bundle at ${a.retireAt}` : '-',
  ])));
}

export const trustShow: Command = {
  summary: 'show the trust bundles held per trust domain (sequence, roots, expiry) and the CA',
  usage: 'causeway trust show [target options]',
  options: { ...TARGET_OPTIONS },
  async run({ values, format }) {
    const answer = await adminRequest<TrustView>(await resolveTarget(targetFlags(values)), 'GET', '/v1/trust');
    if (format === 'json') return printJson(answer);
    const rows: string[][] = [];
    for (const bundle of answer.bundles) {
      for (const root of bundle.roots) {
        rows.push([bundle.trustDomain, bundle.local ? 'local' : `peer ${bundle.peer ?? '?'}`, String(bundle.sequence), root.notAfter, `${root.fingerprint.slice(0, 16)}…`]);
      }
    }
    print(table(['TRUST DOMAIN', 'FROM', 'SEQUENCE', 'ROOT EXPIRES', 'ROOT SHA-256'], rows));
    print('');
    print(`CA of ${answer.ca.trustDomain}:`);
    printAuthorities(answer.ca.authorities);
  },
};

export const trustRotate: Command = {
  summary: 'start a CA rotation: publish a new root now, sign with it after the publish window',
  usage: 'causeway trust rotate [target options]',
  options: { ...TARGET_OPTIONS },
  async run({ values, format }) {
    const answer = await adminRequest<TrustView['ca']>(await resolveTarget(targetFlags(values)), 'POST', '/v1/trust/rotate', {});
    if (format === 'json') return printJson(answer);
    print(`rotation started for ${answer.trustDomain}; bundle sequence is now ${answer.sequence}`);
    printAuthorities(answer.authorities);
  },
};

export const tokenCreate: Command = {
  summary: 'mint a one-time join token that lets an agent or workload obtain one SVID by CSR',
  usage: 'causeway token create --identity SPIFFE_ID|PATTERN [--agent HOST] [--ttl 1h] [target options]\n\n  --agent HOST  the token is for the agent on HOST: `causeway agents` shows the host it joined as',
  options: { ...TARGET_OPTIONS, identity: { type: 'string' }, agent: { type: 'string' }, ttl: { type: 'string' } },
  async run({ values, format }) {
    if (typeof values.identity !== 'string') throw usageError('--identity is required: a SPIFFE ID such as spiffe://<td>/ns/web/sa/vm-1, or a pattern ending in /*');
    const ttlSeconds = values.ttl === undefined ? 3600 : parseDuration(values.ttl);
    if (ttlSeconds === undefined) throw usageError(`--ttl: "${String(values.ttl)}" is not a duration such as 15m or 1h`);
    const answer = await adminRequest<{ token: string; expiresAt: string }>(await resolveTarget(targetFlags(values)), 'POST', '/v1/join-tokens', {
      identity: values.identity, ttlSeconds, ...(typeof values.agent === 'string' ? { agent: values.agent } : {}),
    });
    if (format === 'json') printJson(answer);
    else print(answer.token);
  },
};
