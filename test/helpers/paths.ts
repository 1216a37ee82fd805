import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/…, fixtures stay in test/fixtures). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI = path.join(REPO_ROOT, 'dist', 'gateway', 'cli', 'main.js');
export const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');

export async function makeTempDir(prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `causeway-${prefix}-`));
  // CAUSEWAY_KEEP_TMP=1 keeps every temp dir (configs, gateway logs) for a post-mortem.
  return { dir, remove: async () => (process.env.CAUSEWAY_KEEP_TMP === '1' ? undefined : rm(dir, { recursive: true, force: true })) };
}
