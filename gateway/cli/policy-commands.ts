import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CausewayError, ErrorCodes, describeError, isCausewayError, isPlainObject } from '../../registry/index.js';
import type { AppliedPolicy, PolicyStoreStatus } from '../policy/policy-store.js';
import { POLICY_KINDS, parseKind, type PolicyKind } from '../policy/kind-names.js';
import { formatPolicyError } from '../policy/policy-error.js';
import { parsePolicyText, policyYaml } from '../policy/policy-yaml.js';
import { adminRequest, resolveTarget, type AdminTarget } from './admin-client.js';
import { TARGET_OPTIONS, targetFlags, usageError, type Command } from './command.js';
import { clip, print, printError, printJson, table, type OutputFormat } from './output.js';

interface PolicyView { kind: PolicyKind; name: string; origin: string; document: Record<string, any> }
interface ApplyAnswer { version: number; applied: AppliedPolicy[] }

/** The largest file `policy apply` sends: what the admin API takes in one body. */
const MAX_FILE_BYTES = 1024 * 1024;

function kindArg(text: string | undefined): PolicyKind | undefined {
  if (text === undefined) return undefined;
  const kind = parseKind(text);
  if (kind === undefined) throw usageError(`"${text}" is not a policy kind (${POLICY_KINDS.join(', ')}; accesspolicies, cwap… work too)`);
  return kind;
}

async function readInput(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      size += (chunk as Buffer).length;
      if (size > MAX_FILE_BYTES) throw usageError(`standard input holds more than ${MAX_FILE_BYTES} bytes; apply it in parts`);
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    const text = await readFile(file, 'utf8');
    if (Buffer.byteLength(text) > MAX_FILE_BYTES) throw usageError(`${file} holds more than ${MAX_FILE_BYTES} bytes; apply it in parts`);
    return text;
  } catch (err) {
    if (isCausewayError(err)) throw err;
    throw usageError(`-f ${file}: cannot be read (${describeError(err)})`);
  }
}

/**
 * Prints a refusal the way the brief of the command promises: every problem on its own line
 * (`origin document path: message`), then one summary line; under -o json, the error as is.
 */
export async function reportingRefusals<T>(format: OutputFormat, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!isCausewayError(err, ErrorCodes.POLICY_INVALID) || format === 'json') throw err;
    for (const line of err.details) printError(line);
    throw new CausewayError(err.code, `policy set refused (${err.details.length} problem${err.details.length === 1 ? '' : 's'}); nothing changed`);
  }
}

async function applyDocuments(target: AdminTarget, documents: unknown[], source: string, format: OutputFormat): Promise<ApplyAnswer> {
  return reportingRefusals(format, () => adminRequest<ApplyAnswer>(target, 'POST', '/v1/policies', { documents, source }));
}

export const policyApply: Command = {
  summary: 'apply policy documents from a YAML or JSON file: the whole resulting set, or nothing',
  usage: 'causeway policy apply -f FILE|- [target options]',
  options: { ...TARGET_OPTIONS, file: { type: 'string', short: 'f' } },
  async run({ values, format }) {
    const file = values.file;
    if (typeof file !== 'string') throw usageError('-f FILE is required (a YAML or JSON file of policy documents; - reads standard input)');
    const source = file === '-' ? 'stdin' : path.basename(file);
    const parsed = parsePolicyText(await readInput(file), source);
    if (parsed.errors.length > 0) {
      // Nothing was sent: the file is not even YAML.
      if (format !== 'json') for (const e of parsed.errors) printError(formatPolicyError(e));
      throw new CausewayError(ErrorCodes.POLICY_INVALID, `${source} is not valid YAML (${parsed.errors.length} problem${parsed.errors.length === 1 ? '' : 's'}); nothing was sent`,
        format === 'json' ? { details: parsed.errors.map(formatPolicyError) } : {});
    }
    if (parsed.documents.length === 0) throw usageError(`${source} holds no document`);
    const answer = await applyDocuments(await resolveTarget(targetFlags(values)), parsed.documents.map((d) => d.document), source, format);
    if (format === 'json') return printJson(answer);
    for (const a of answer.applied) print(`${a.kind}/${a.name} ${a.action} (${a.file})`);
    print(`policy set version ${answer.version}`);
  },
};

/** One line on what a document does, for the table. */
function summary(policy: PolicyView): string {
  const spec = isPlainObject(policy.document.spec) ? policy.document.spec as Record<string, any> : {};
  switch (policy.kind) {
    case 'AccessPolicy': {
      const rules = (spec.rules ?? []) as unknown[];
      const classes = ((spec.trafficClasses ?? []) as Array<{ name: string }>).map((c) => c.name);
      return `${rules.length} rule${rules.length === 1 ? '' : 's'}${classes.length === 0 ? '' : `; classes ${classes.join(', ')}`}`;
    }
    case 'FailoverPolicy': {
      const targets = ((spec.targets ?? []) as Array<Record<string, unknown>>).map((t) => Object.entries(t).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(','));
      return `${String(spec.service)}: ${targets.length === 0 ? 'nearest first' : `then ${targets.join(' > ')}`}${spec.minHealthy === undefined ? '' : `; minHealthy ${String(spec.minHealthy)}`}`;
    }
    case 'TrafficSplit': {
      const backends = ((spec.backends ?? []) as Array<Record<string, unknown>>).map((b) => {
        const { weight, ...rest } = b;
        return `${Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(',')} ${String(weight)}`;
      });
      return `${String(spec.service)}: ${backends.join(' / ')}`;
    }
  }
}

export const policyGet: Command = {
  summary: 'list the policy documents in force (all, of one kind, or one), with the set\'s version and last refusal',
  usage: 'causeway policy get [KIND [NAME]] [-o table|json|yaml] [target options]',
  options: { ...TARGET_OPTIONS },
  args: ['KIND', 'NAME'],
  formats: ['table', 'json', 'yaml'],
  async run({ values, positionals, format }) {
    const [kindText, name] = positionals;
    const kind = kindArg(kindText);
    const target = await resolveTarget(targetFlags(values));
    if (kind !== undefined && name !== undefined) {
      const answer = await adminRequest<{ version: number; policy: PolicyView }>(target, 'GET', `/v1/policies/${kind}/${encodeURIComponent(name)}`);
      if (format === 'json') return printJson(answer);
      if (format === 'yaml') return print(policyYaml(answer.policy.document).trimEnd());
      return print(table(['KIND', 'NAME', 'ORIGIN', 'SUMMARY'], [[kind, answer.policy.name, answer.policy.origin, clip(summary(answer.policy), 100)]]));
    }
    const answer = await adminRequest<PolicyStoreStatus & { documents: PolicyView[] }>(target, 'GET', kind === undefined ? '/v1/policies' : `/v1/policies/${kind}`);
    if (format === 'json') return printJson(answer);
    // Documents as they were written, one YAML document each: `policy get -o yaml > all.yaml` applies again.
    if (format === 'yaml') return print(answer.documents.map((d) => policyYaml(d.document)).join('---\n').trimEnd());
    print(`policy set version ${answer.version}, in force since ${answer.appliedAt} (${answer.directory})`);
    const refusal = answer.lastRefusal;
    if (refusal !== undefined && refusal.at >= answer.appliedAt) {
      print(`last refusal ${refusal.at} (${refusal.source}), the set above stayed in force:`);
      for (const e of refusal.errors) print(`  ${formatPolicyError(e)}`);
    }
    if (answer.documents.length === 0) return print(kind === undefined ? 'no policy documents' : `no ${kind} documents`);
    print('');
    print(table(['KIND', 'NAME', 'ORIGIN', 'SUMMARY'], answer.documents.map((d) => [d.kind, d.name, d.origin, clip(summary(d), 100)])));
  },
};

export const policyDelete: Command = {
  summary: 'delete a policy document the admin API wrote, if the set without it is valid',
  usage: 'causeway policy delete KIND NAME [target options]',
  options: { ...TARGET_OPTIONS },
  args: ['KIND', 'NAME'],
  async run({ values, positionals, format }) {
    const [kindText, name] = positionals;
    const kind = kindArg(kindText);
    if (kind === undefined || name === undefined) throw usageError('policy delete needs KIND and NAME (as `causeway policy get` lists them)');
    const answer = await reportingRefusals(format, async () => adminRequest<{ version: number; deleted: { kind: string; name: string; file: string } }>(
      await resolveTarget(targetFlags(values)), 'DELETE', `/v1/policies/${kind}/${encodeURIComponent(name)}`));
    if (format === 'json') return printJson(answer);
    print(`${answer.deleted.kind}/${answer.deleted.name} deleted (${answer.deleted.file})`);
    print(`policy set version ${answer.version}`);
  },
};
