import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';

/** User-facing CLI output: the only place besides tests that writes to stdout directly. */
export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function printError(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

/** A plain aligned table: header row, then one row per item. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Cuts a long free-text cell (an error from a peer, say) so that a table stays readable. */
export function clip(text: string, max = 60): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

/**
 * Reports a failed command on stderr and returns its exit code. Under `-o json` the error is
 * one JSON object `{code, message, details?}` so that scripts parse failures like answers.
 */
export function reportFailure(err: unknown, format: OutputFormat): number {
  const error = err instanceof CausewayError ? err : new CausewayError(ErrorCodes.INTERNAL, `unexpected error: ${describeError(err)}`);
  if (format === 'json') {
    printError(JSON.stringify(error.toJSON()));
  } else {
    printError(`causeway: error ${error.code}: ${error.message}`);
    for (const detail of error.details.slice(1)) printError(`  - ${detail}`);
  }
  return error.exitCode;
}

/** `yaml` only for commands that list it in Command.formats (policy get: documents as written). */
export type OutputFormat = 'table' | 'json' | 'yaml';

/** `-o json|table` (`--output`), and `--json` kept as an alias of `-o json`. */
export const OUTPUT_OPTIONS = {
  output: { type: 'string', short: 'o' },
  json: { type: 'boolean' },
} as const;

export const OUTPUT_HELP = `Output:
  -o, --output FORMAT  table (default) or json; errors are JSON {code, message} too
  --json               same as -o json`;

/** The format asked for by parsed options; anything but the command's formats is a usage error. */
export function outputFormat(values: Record<string, unknown>, formats: readonly OutputFormat[] = ['table', 'json']): OutputFormat {
  const asked = values.output;
  if (asked === undefined) return values.json === true ? 'json' : 'table';
  if (!formats.includes(asked as OutputFormat)) {
    throw new CausewayError(ErrorCodes.USAGE, `-o/--output: "${String(asked)}" is not a format (${formats.join(' or ')})`);
  }
  if (values.json === true && asked !== 'json') throw new CausewayError(ErrorCodes.USAGE, `--json contradicts -o ${String(asked)}`);
  return asked as OutputFormat;
}

/**
 * The format asked for, read from raw arguments: a usage error is found while parsing them,
 * and it must still come out as JSON when the user asked for JSON.
 */
export function sniffOutputFormat(args: readonly string[]): OutputFormat {
  for (const [i, arg] of args.entries()) {
    if (arg === '--') break;
    if (arg === '--json' || arg === '-ojson' || arg === '--output=json') return 'json';
    if ((arg === '-o' || arg === '--output') && args[i + 1] === 'json') return 'json';
  }
  return 'table';
}
