import { createHash } from 'node:crypto';
import { POLICY_API_VERSION } from '../policy/kind-names.js';
import type { AppliedPolicy } from '../policy/policy-store.js';
import { adminRequest, resolveTarget } from './admin-client.js';
import { TARGET_OPTIONS, targetFlags, usageError, type Command } from './command.js';
import { reportingRefusals } from './policy-commands.js';
import { print, printJson } from './output.js';

/** Names stay short enough to read in `policy get` (and far below a file name's limit). */
const MAX_NAME = 100;

function slug(text: string): string {
  return text.replace(/^spiffe:\/\//, '').replace(/\*/g, 'any').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

/**
 * The policy name `causeway allow` gives a caller and its services: `allow-<caller>-to-<services>`,
 * every part kept (two callers that differ only in a namespace must not share a policy, or
 * the second would replace the first), and a digest once it grows past MAX_NAME. The same
 * caller and services give the same name, so running the command again updates that policy.
 */
export function allowPolicyName(source: string, services: readonly string[]): string {
  const name = `allow-${slug(source)}-to-${services.map(slug).join('-')}`;
  if (name.length <= MAX_NAME) return name;
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_NAME - 9).replace(/-+$/, '')}-${digest}`;
}

function list(value: string | boolean | undefined, flag: string): string[] | undefined {
  if (typeof value !== 'string') return undefined;
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw usageError(`${flag}: "${value}" has an empty entry (a comma-separated list)`);
  return items;
}

export const allowCommand: Command = {
  summary: 'let a caller (SPIFFE ID, pattern, trust domain or class:NAME) call services: writes one AccessPolicy',
  usage: 'causeway allow SPIFFE_ID|PATTERN --to SERVICE[,SERVICE] [--methods GET,POST] [--paths /a,/b] [--name NAME] [target options]',
  options: { ...TARGET_OPTIONS, to: { type: 'string' }, methods: { type: 'string' }, paths: { type: 'string' }, name: { type: 'string' } },
  args: ['SPIFFE_ID'],
  async run({ values, positionals, format }) {
    const [source] = positionals;
    if (source === undefined) throw usageError('allow needs the caller: a SPIFFE ID (spiffe://corp.example/ns/default/sa/scott), a pattern with *, spiffe://<trust-domain>, anonymous or class:NAME');
    const to = list(values.to, '--to');
    if (to === undefined) throw usageError('--to SERVICE is required (<name>.<namespace>, *.<namespace> or *)');
    // HTTP methods are case-sensitive (RFC 9110 §9.1), but every registered one is upper case.
    const methods = list(values.methods, '--methods')?.map((m) => m.toUpperCase());
    const paths = list(values.paths, '--paths');
    const name = typeof values.name === 'string' ? values.name : allowPolicyName(source, to);
    const rule = { from: [source], to, ...(methods === undefined ? {} : { methods }), ...(paths === undefined ? {} : { paths }) };
    const document = { apiVersion: POLICY_API_VERSION, kind: 'AccessPolicy', metadata: { name }, spec: { rules: [rule] } };
    const answer = await reportingRefusals(format, async () => adminRequest<{ version: number; applied: AppliedPolicy[] }>(
      await resolveTarget(targetFlags(values)), 'POST', '/v1/policies', { documents: [document], source: 'causeway allow' }));
    if (format === 'json') return printJson({ name, ...answer });
    const applied = answer.applied[0];
    print(`AccessPolicy/${name} ${applied?.action ?? 'applied'} (${applied?.file ?? '?'}); policy set version ${answer.version}`);
  },
};
