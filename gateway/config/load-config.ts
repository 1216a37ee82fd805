import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';
import type { GatewayConfig } from './gateway-config.js';
import { validateConfig } from './validate-config.js';

/** Parses YAML (JSON is YAML too) and validates it; every failure names the file. */
export function parseConfigText(text: string, file?: string): GatewayConfig {
  const where = file ?? 'config';
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    const problems = document.errors.map((e) => `${e.code}: ${e.message.split('\n')[0] ?? ''}`);
    throw new CausewayError(ErrorCodes.CONFIG_INVALID, `${where}: not valid YAML: ${problems[0] ?? ''}`, { details: problems });
  }
  return validateConfig(document.toJS({ maxAliasCount: 100 }), file === undefined ? {} : { file });
}

export async function loadConfig(file: string): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CausewayError(ErrorCodes.CONFIG_READ, `${file}: cannot read config: ${describeError(err)}`, { cause: err });
  }
  return parseConfigText(text, file);
}
