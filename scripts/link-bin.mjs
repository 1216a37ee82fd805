#!/usr/bin/env node
// Runs after `tsc` in `prepare` (so on `npm ci` / `npm install` in a checkout, and before
// `npm pack`). tsc writes the CLI entry without the executable bit, and npm never links a
// package's own `bin` into its own node_modules/.bin. This does both, so that in a checkout
// `npx causeway …` finds ./node_modules/.bin/causeway on every npm version (without it, only
// npm versions that "self-install" the local package into their npx cache find it), and
// `./node_modules/.bin/causeway` works directly.
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
for (const [name, target] of Object.entries(manifest.bin ?? {})) {
  const entry = path.join(root, target);
  if (!existsSync(entry)) {
    console.error(`link-bin: ${target} does not exist; did tsc run?`);
    process.exit(1);
  }
  if (!readFileSync(entry, 'utf8').startsWith('#!/usr/bin/env node\n')) {
    console.error(`link-bin: ${target} lacks the "#!/usr/bin/env node" line`);
    process.exit(1);
  }
  chmodSync(entry, 0o755);
  // Only where a node_modules exists: a checkout after npm ci, not a bare `npm pack` tree.
  const binDir = path.join(root, 'node_modules', '.bin');
  if (!existsSync(path.join(root, 'node_modules'))) continue;
  mkdirSync(binDir, { recursive: true });
  const link = path.join(binDir, name);
  const relative = path.relative(binDir, entry);
  try {
    if (lstatSync(link).isSymbolicLink() || lstatSync(link).isFile()) rmSync(link);
  } catch {
    // no link yet
  }
  symlinkSync(relative, link);
}
