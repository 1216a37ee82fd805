import type { ParseArgsConfig } from 'node:util';
import { CausewayError, ErrorCodes } from '../../registry/index.js';
import type { TargetFlags } from './admin-client.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, type OutputFormat } from './output.js';

/** What a command gets once its arguments have been parsed and checked. */
export interface CommandInput {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  format: OutputFormat;
}

export interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Names of the positional arguments it takes, in order; one more is a usage error. */
  args?: readonly string[];
  /** The -o formats it prints; default table and json. */
  formats?: readonly OutputFormat[];
  run(input: CommandInput): Promise<void>;
}

/** Options of every command that talks to a running gateway (all of them print, so -o too). */
export const TARGET_OPTIONS = {
  config: { type: 'string' },
  admin: { type: 'string' },
  'token-file': { type: 'string' },
  ...OUTPUT_OPTIONS,
} as const;

export const TARGET_HELP = `Target (which gateway to talk to):
  --config FILE      the gateway's config file (admin address and data dir come from it)
  --admin ADDRESS    admin API as host:port or URL (default $CAUSEWAY_ADMIN or 127.0.0.1:15000)
  --token-file FILE  admin token file (default <dataDir>/admin.token with --config, or $CAUSEWAY_ADMIN_TOKEN)

${OUTPUT_HELP}`;

export function targetFlags(values: Record<string, unknown>): TargetFlags {
  return { config: values.config as string | undefined, admin: values.admin as string | undefined, 'token-file': values['token-file'] as string | undefined };
}

export function usageError(message: string): CausewayError {
  return new CausewayError(ErrorCodes.USAGE, message);
}
