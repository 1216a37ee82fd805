import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI, REPO_ROOT, makeTempDir } from '../helpers/paths.js';
import { freePorts } from '../helpers/ports.js';

/** The fixed ports docs/getting-started.md uses; each is swapped for a free one. */
const DOC_PORTS = [15000, 15001, 15012, 15017, 15443, 25000, 25001, 25012, 25017, 25443, 9080];

/**
 * The shell blocks of a markdown page, in order: every ```sh block, except one right after
 * a `<!-- recipe: skip … -->` line (installation, which the test does its own way).
 */
export function recipeBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  for (const match of markdown.matchAll(/(<!-- recipe: skip[^\n]*-->\n)?```sh\n([\s\S]*?)```/g)) {
    if (match[1] === undefined) blocks.push(match[2] ?? '');
  }
  return blocks;
}

function run(script: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; output: string; pid: number }> {
  return new Promise((resolve) => {
    // Its own process group, so that whatever the recipe left running can be ended at once.
    const child = spawn('bash', ['-c', script], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, pid: child.pid! });
    });
  });
}

describe('docs/getting-started.md, run verbatim', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  let group: number | undefined;

  after(async () => {
    if (group !== undefined) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // the recipe stopped everything itself
      }
    }
    await tmp?.remove();
  });

  it('takes two fresh gateways to a 200 from a service called by mesh name', async () => {
    tmp = await makeTempDir('getting-started');
    const markdown = await readFile(path.join(REPO_ROOT, 'docs', 'getting-started.md'), 'utf8');
    const blocks = recipeBlocks(markdown);
    assert.ok(blocks.length >= 5, `expected the recipe's sh blocks, found ${blocks.length}`);
    const ports = await freePorts(DOC_PORTS.length);
    let script = blocks.join('\n');
    for (const [i, port] of DOC_PORTS.entries()) script = script.replace(new RegExp(`\\b${port}\\b`, 'g'), String(ports[i]));
    // What the install step provides: `causeway` on PATH, running this build.
    const bin = path.join(tmp.dir, 'bin');
    await mkdir(bin);
    await writeFile(path.join(bin, 'causeway'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    await chmod(path.join(bin, 'causeway'), 0o755);
    const env = { ...process.env, PATH: `${bin}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };
    const result = await run(`set -euo pipefail\n${script}`, tmp.dir, env, 90_000);
    group = result.pid;
    const logs = async (name: string): Promise<string> => readFile(path.join(tmp!.dir, 'causeway-tour', name), 'utf8').catch(() => '');
    const context = `${result.output}\n--- a.log ---\n${(await logs('a.log')).slice(-3000)}\n--- b.log ---\n${(await logs('b.log')).slice(-3000)}`;
    assert.equal(result.code, 0, context);
    assert.match(result.output, /^HTTP\/1\.1 200 OK\r?$/m, context);
    assert.match(result.output, /^causeway-route: remote cluster-b via spiffe:\/\/cluster-b\.example\.test\/gateway\/gw-b/m, context);
    assert.match(result.output, /^hello from cluster-b$/m, context);
  });
});
