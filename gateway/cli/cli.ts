import { parseArgs } from 'node:util';
import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';
import { type Command, peerAdd, peerList, peerRemove, peerToken, services, status, TARGET_HELP } from './commands.js';
import { gatewayCommand } from './gateway-command.js';
import { demoCommand } from './demo-command.js';
import { tokenCreate, trustRotate, trustShow } from './trust-commands.js';
import { print, printError } from './output.js';

const COMMANDS: Record<string, Command> = {
  gateway: gatewayCommand,
  'peer token': peerToken,
  'peer add': peerAdd,
  'peer list': peerList,
  'peer remove': peerRemove,
  'trust show': trustShow,
  'trust rotate': trustRotate,
  'token create': tokenCreate,
  services,
  status,
  demo: demoCommand,
};

/** Commands with sub-commands, and what each group is for. */
const GROUPS: Record<string, string> = {
  peer: 'manage peerings',
  trust: 'inspect and rotate trust bundles and the CA',
  token: 'mint join tokens for agents and workloads',
};

function mainHelp(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(14)} ${c.summary}`);
  return `causeway — cross-cluster mesh gateway federation

Usage: causeway <command> [options]

Commands:
${lines.join('\n')}

Run \`causeway <command> --help\` for a command's options.`;
}

function commandHelp(name: string, command: Command): string {
  const targetCommand = 'admin' in command.options;
  return `causeway ${name} — ${command.summary}\n\nUsage: ${command.usage}${targetCommand ? `\n\n${TARGET_HELP}` : ''}`;
}

/** Runs the CLI; returns the exit code (0 ok, 2 bad input, 1 anything else). */
export async function main(argv: string[]): Promise<number> {
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
      print([`causeway ${first} — ${group}`, '', ...subs.map((n) => `  ${n.padEnd(14)} ${COMMANDS[n]?.summary ?? ''}`)].join('\n'));
      return second === undefined ? 2 : 0;
    }
    name = `${first} ${second}`;
    rest = argv.slice(2);
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    printError(`causeway: error ${ErrorCodes.USAGE}: unknown command "${name}" (run \`causeway --help\`)`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    print(commandHelp(name, command));
    return 0;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    } catch (err) {
      throw new CausewayError(ErrorCodes.USAGE, `${describeError(err)} (run \`causeway ${name} --help\`)`);
    }
    await command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
    return 0;
  } catch (err) {
    if (err instanceof CausewayError) {
      printError(`causeway: error ${err.code}: ${err.message}`);
      for (const detail of err.details.slice(1)) printError(`  - ${detail}`);
      return err.exitCode;
    }
    printError(`causeway: unexpected error: ${describeError(err)}`);
    return 1;
  }
}
