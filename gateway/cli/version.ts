import { readFileSync } from 'node:fs';

/**
 * The package version, from the package.json three levels up: dist/gateway/cli/ in a checkout
 * and in an installed package alike (npm always packs package.json).
 */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
  return `${manifest.name ?? 'causeway'} ${manifest.version ?? 'unknown'}`;
}
