import type { Explanation } from '../policy/explain.js';
import { adminRequest, resolveTarget } from './admin-client.js';
import { TARGET_OPTIONS, targetFlags, usageError, type Command } from './command.js';
import { print, printJson, table } from './output.js';

function verdictLine(answer: Explanation): string {
  const { access } = answer;
  return `${access.allowed ? 'ALLOWED' : 'DENIED'}${access.rule === undefined ? ' (default)' : ` by ${access.rule}`}: ${access.reason}`;
}

/** The human form: verdict, class, split, then the candidates in order and everything left out. */
function render(answer: Explanation): string {
  const lines = [
    `caller      ${answer.caller.identity}${answer.caller.classes.length === 0 ? '' : `  (traffic classes: ${answer.caller.classes.join(', ')})`}`,
    `service     ${answer.service}:${answer.port} (${answer.protocol}), ${answer.request}`,
    `access      ${verdictLine(answer)}`,
    `            (judged by ${answer.access.scope})`,
    `policy      ${answer.policy}${answer.classRoute === undefined ? '' : `; traffic class ${answer.classRoute.class} has its own route`}`,
  ];
  if (answer.split !== undefined) lines.push(`split       ${answer.split.policy} drew ${answer.split.backend} (weight ${answer.split.weight})`);
  const { retries } = answer;
  lines.push(`retries     ${retries.attempts} more tries on ${retries.on.join(', ') || 'nothing'} (idempotent requests without a body), budget ${retries.budgetPercent}%`
    + `${retries.perTryTimeoutMs === undefined ? '' : `, ${retries.perTryTimeoutMs} ms per try`}${retries.timeoutMs === undefined ? '' : `, ${retries.timeoutMs} ms in all`}`);
  if (answer.refusal !== undefined) lines.push(`refused     ${answer.refusal.code}: ${answer.refusal.message}`);
  if (answer.candidates.length > 0) {
    lines.push('', 'Candidates, in the order a request tries them:');
    lines.push(table(['#', 'CLUSTER', 'VIA', 'SERVICE', 'WHY'], answer.candidates.map((c) => [
      String(c.order), c.cluster, c.kind === 'local' ? `endpoint ${c.via}` : `gateway ${c.via}${c.subset === undefined ? '' : ` [${c.subset}]`}`, c.service, c.why,
    ])));
  }
  const left = answer.considered.filter((c) => c.verdict === 'out' || c.verdict === 'last resort');
  if (left.length > 0) {
    lines.push('', 'Not tried:');
    lines.push(table(['CLUSTER', 'WHAT', 'VERDICT', 'WHY'], left.map((c) => [c.cluster, c.subject, c.verdict, c.why])));
  }
  lines.push('', `(policy set version ${answer.policyVersion})`);
  return lines.join('\n');
}

export const explainCommand: Command = {
  summary: 'show whether a caller may reach a service, and where its request would go, and why',
  usage: 'causeway explain --from <spiffe-id|anonymous> --to <service>.<namespace>[:<port>] [--method M] [--path P] [target options]',
  options: { ...TARGET_OPTIONS, from: { type: 'string' }, to: { type: 'string' }, method: { type: 'string' }, path: { type: 'string' } },
  async run({ values, format }) {
    if (typeof values.from !== 'string') throw usageError('explain needs --from <spiffe-id> (or --from anonymous)');
    if (typeof values.to !== 'string') throw usageError('explain needs --to <service>.<namespace>[:<port>]');
    const query = new URLSearchParams({ from: values.from, to: values.to });
    if (typeof values.method === 'string') query.set('method', values.method);
    if (typeof values.path === 'string') query.set('path', values.path);
    const answer = await adminRequest<Explanation>(await resolveTarget(targetFlags(values)), 'GET', `/v1/explain?${query.toString()}`);
    if (format === 'json') printJson(answer);
    else print(render(answer));
  },
};
