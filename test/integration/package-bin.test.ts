import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT, makeTempDir } from '../helpers/paths.js';

function run(file: string, args: string[], cwd: string, timeoutMs = 180_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

/** Issue 8: a `causeway` command exists in a checkout after `npm ci`, and after a global install of the packed tarball. */
describe('the causeway command', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  after(async () => tmp?.remove());

  it('runs as `npx causeway` in the checkout', async () => {
    const { version } = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    // --offline: the command must come from this checkout, never from the registry.
    const result = await run('npx', ['--offline', 'causeway', '--version'], REPO_ROOT);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `causeway ${version}\n`);
  });

  it('is installed on PATH by `npm install -g` of the `npm pack` tarball, executable with its shebang', async (t) => {
    tmp = await makeTempDir('package-bin');
    // dist/ is already built by the test run; --ignore-scripts keeps pack from rebuilding it under other tests' feet.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp.dir], REPO_ROOT);
    assert.equal(packed.code, 0, packed.stderr);
    const tarball = (await readdir(tmp.dir)).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball !== undefined, packed.stdout);
    const prefix = path.join(tmp.dir, 'prefix');
    // Dependency tarballs come from the cache `npm ci` filled; an install (unlike ci) also needs
    // their registry metadata, which only a machine with no registry at all cannot get.
    const installed = await run('npm', ['install', '-g', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', prefix, path.join(tmp.dir, tarball)], tmp.dir);
    if (installed.code !== 0 && /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH)\b/.test(installed.stderr)) {
      t.skip(`the npm registry is unreachable: ${installed.stderr.split('\n')[0] ?? ''}`);
      return;
    }
    assert.equal(installed.code, 0, installed.stderr);
    const bin = path.join(prefix, 'bin', 'causeway');
    const entry = path.join(prefix, 'lib', 'node_modules', 'causeway', 'dist', 'gateway', 'cli', 'main.js');
    assert.ok(((await stat(entry)).mode & 0o111) !== 0, 'main.js is executable');
    assert.ok((await readFile(entry, 'utf8')).startsWith('#!/usr/bin/env node\n'));
    const version = await run(bin, ['--version'], tmp.dir);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^causeway \d+\.\d+\.\d+/);
    const help = await run(bin, ['--help'], tmp.dir);
    assert.match(help.stdout, /\n {2}peer token /);
  });
});
