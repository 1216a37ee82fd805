import { loadConfig } from '../config/load-config.js';
import { usageError, type Command } from './command.js';
import { OUTPUT_HELP, OUTPUT_OPTIONS, print, printJson } from './output.js';

/**
 * `causeway config validate FILE`: the gateway's own loader and validator, and nothing after
 * them — no listener, no CA, no data dir — so that a config can be checked where it is made
 * (CI, a Terraform run, an image build) before a gateway ever reads it. The files the config
 * names (keys, credentials, CA material) are not read: they may exist only on the gateway's
 * host, and the gateway checks them when it starts.
 *
 * A bad file is reported as the gateway reports it (CW_CONFIG_READ or CW_CONFIG_INVALID with
 * every problem and its path), and exits 2 like any bad input.
 */
export const configValidate: Command = {
  summary: 'check a gateway config file with the gateway\'s own validator, starting nothing',
  usage: `causeway config validate FILE [-o json]

Prints "FILE: valid", or every problem found (each with its path) and exits 2.
Files the config names (bootstrap key, credentials, CA, tokens) are not read.

${OUTPUT_HELP}`,
  options: { ...OUTPUT_OPTIONS },
  args: ['FILE'],
  async run({ positionals, format }) {
    const [file] = positionals;
    if (file === undefined) throw usageError('config validate needs the FILE to check (run `causeway config validate --help`)');
    const config = await loadConfig(file);
    if (format === 'json') printJson({ file, valid: true, cluster: config.cluster, trustDomain: config.trustDomain });
    else print(`${file}: valid`);
  },
};
