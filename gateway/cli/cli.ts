import { parseArgs } from 'node:util';
import { describeError } from '../../registry/index.js';
import { peerAdd, peerList, peerRemove, peerToken, reload } from './commands.js';
import { TARGET_HELP, usageError, type Command } from './command.js';
import { gatewayCommand } from './gateway-command.js';
import { agentCommand } from './agent-command.js';
import { demoCommand } from './demo-command.js';
import { allowCommand } from './allow-command.js';
import { policyApply, policyDelete, policyGet } from './policy-commands.js';
import { explainCommand } from './explain-command.js';
import { agents, services, status } from './status-commands.js';
import { top } from './top-command.js';
import { proxyStatus } from './proxy-status-command.js';
import { tokenCreate, trustRotate, trustShow } from './trust-commands.js';
import { configValidate } from './config-command.js';
import { outputFormat, print, reportFailure, sniffOutputFormat } from './output.js';
import { packageVersion } from './version.js';

const COMMANDS: Record<string, Command> = {
  gateway: gatewayCommand,
  agent: agentCommand,
  'peer token': peerToken,
  'peer add': peerAdd,
  'peer list': peerList,
  'peer remove': peerRemove,
  'trust show': trustShow,
  'trust rotate': trustRotate,
  'token create': tokenCreate,
  'policy apply': policyApply,
  'policy get': policyGet,
  'policy delete': policyDelete,
  allow: allowCommand,
  explain: explainCommand,
  agents,
  services,
  status,
  top,
  'proxy-status': proxyStatus,
  reload,
  'config validate': configValidate,
  demo: demoCommand,
};

/** Commands with sub-commands, and what each group is for. */
const GROUPS: Record<string, string> = {
  peer: 'manage peerings',
  trust: 'inspect and rotate trust bundles and the CA',
  token: 'mint join tokens for agents and workloads',
  policy: 'apply, list and delete policy resources (AccessPolicy, FailoverPolicy, TrafficSplit)',
  config: 'check gateway config files',
};

function mainHelp(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`);
  return `causeway — cross-cluster mesh gateway federation

Usage: causeway <command> [options]

Commands:
${lines.join('\n')}

Run \`causeway <command> --help\` for a command's options, \`causeway --version\` for the version.`;
}

function commandHelp(name: string, command: Command): string {
  const targetCommand = 'admin' in command.options;
  return `causeway ${name} — ${command.summary}\n\nUsage: ${command.usage}${targetCommand ? `\n\n${TARGET_HELP}` : ''}`;
}

/** Which command argv names and the arguments left for it, or the exit code once help was printed. */
function pickCommand(argv: string[]): { name: string; command: Command; rest: string[] } | number {
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    print(mainHelp());
    return first === undefined ? 2 : 0;
  }
  let name = first;
  let rest = argv.slice(1);
  const group = GROUPS[first];
  if (group !== undefined) {
    if (second === undefined || second === '--help' || second === '-h') {
      const subs = Object.keys(COMMANDS).filter((n) => n.startsWith(`${first} `));
      print([`causeway ${first} — ${group}`, '', ...subs.map((n) => `  ${n.padEnd(16)} ${COMMANDS[n]?.summary ?? ''}`)].join('\n'));
      return second === undefined ? 2 : 0;
    }
    name = `${first} ${second}`;
    rest = argv.slice(2);
  }
  const command = COMMANDS[name];
  if (command === undefined) throw usageError(`unknown command "${name}" (run \`causeway --help\`)`);
  return { name, command, rest };
}

/** Runs the CLI; returns the exit code (0 ok, 2 bad input, 1 anything else). */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-V' || argv[0] === 'version') {
    print(packageVersion());
    return 0;
  }
  let format = sniffOutputFormat(argv);
  try {
    const picked = pickCommand(argv);
    if (typeof picked === 'number') return picked;
    const { name, command, rest } = picked;
    if (rest.includes('--help') || rest.includes('-h')) {
      print(commandHelp(name, command));
      return 0;
    }
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    } catch (err) {
      throw usageError(`${describeError(err)} (run \`causeway ${name} --help\`)`);
    }
    const values = parsed.values as Record<string, string | boolean | undefined>;
    format = 'output' in command.options ? outputFormat(values, command.formats) : format;
    const allowed = command.args ?? [];
    if (parsed.positionals.length > allowed.length) {
      const takes = allowed.length === 0 ? 'takes no arguments' : `takes ${allowed.join(' ')}`;
      throw usageError(`unexpected argument "${parsed.positionals[allowed.length]}": causeway ${name} ${takes} (run \`causeway ${name} --help\`)`);
    }
    await command.run({ values, positionals: parsed.positionals, format });
    return 0;
  } catch (err) {
    return reportFailure(err, format);
  }
}
