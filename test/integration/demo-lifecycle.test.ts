import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { processAlive } from '../../gateway/data-dir-lock.js';
import { readRuntimeFile, type RuntimeInfo } from '../../gateway/runtime-file.js';
import { CLI } from '../helpers/paths.js';
import { portIsFree } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * Alive and not a zombie: an orphan's exit is reaped by whatever adopted it, and in a
 * container that may be a PID 1 that never reaps; a zombie holds no ports and runs nothing.
 */
function running(pid: number): boolean {
  if (!processAlive(pid)) return false;
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return process.platform !== 'linux';
  }
}

interface RunningDemo {
  child: ChildProcess;
  dir: string;
  gateways: RuntimeInfo[];
  output: () => string;
}

/** `causeway demo --ephemeral-ports` until it says "Running.", with its gateways' pids and ports. */
async function startDemo(wrapped = false): Promise<RunningDemo> {
  const demo = [process.execPath, CLI, 'demo', '--ephemeral-ports'];
  // wrapped: started the way `npm start` starts it, from another process that can be killed.
  const child = wrapped
    ? spawn('bash', ['-c', `"$@" & echo "demo pid $!"; wait`, 'bash', ...demo], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(demo[0]!, demo.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  await waitFor('the demo to run', () => {
    if (child.exitCode !== null) throw new Error(`demo exited ${child.exitCode}: ${output}`);
    return output.includes('Running.') ? true : undefined;
  }, 60_000);
  const dir = /state and logs in (\S+)/.exec(output)?.[1];
  assert.ok(dir !== undefined, output);
  const gateways = await Promise.all(['cluster-a', 'cluster-b'].map(async (c) => (await readRuntimeFile(path.join(dir, c)))!));
  assert.equal(gateways.filter((g) => g !== undefined && running(g.pid)).length, 2);
  return { child, dir, gateways, output: () => output };
}

async function assertAllGone(demo: RunningDemo): Promise<void> {
  await waitFor('the demo\'s gateways to exit', () => (demo.gateways.every((g) => !running(g.pid)) ? true : undefined), 20_000);
  for (const gateway of demo.gateways) {
    for (const [name, address] of Object.entries(gateway.listeners)) {
      const port = Number(address.slice(address.lastIndexOf(':') + 1));
      assert.ok(await portIsFree(port), `listen.${name} ${address} is still held`);
    }
  }
}

describe('causeway demo: no process outlives it, and the logs stay', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('on SIGTERM stops both gateways, frees their ports, and keeps state and logs, saying where', async () => {
    const demo = await startDemo();
    dirs.push(demo.dir);
    demo.child.kill('SIGTERM');
    const code = await new Promise((resolve) => demo.child.once('exit', (c) => resolve(c)));
    assert.equal(code, 0, demo.output());
    await assertAllGone(demo);
    assert.match(demo.output(), new RegExp(`state and logs kept in ${demo.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.ok(existsSync(path.join(demo.dir, 'cluster-a.log')));
    assert.ok(existsSync(path.join(demo.dir, 'cluster-b.log')));
  });

  it('when SIGKILLed, its gateways notice their parent is gone and exit, freeing their ports', async () => {
    const demo = await startDemo();
    dirs.push(demo.dir);
    demo.child.kill('SIGKILL');
    await new Promise((resolve) => demo.child.once('exit', resolve));
    await assertAllGone(demo);
  });

  it('when the process that started it (npm start, say) is SIGKILLed, the demo stops itself and its gateways', async () => {
    const demo = await startDemo(true);
    dirs.push(demo.dir);
    const demoPid = Number(/demo pid (\d+)/.exec(demo.output())?.[1]);
    demo.child.kill('SIGKILL');
    await waitFor('the orphaned demo to exit', () => (running(demoPid) ? undefined : true), 20_000);
    await assertAllGone(demo);
  });

  it('--clean removes state and logs on exit', async () => {
    const child = spawn(process.execPath, [CLI, 'demo', '--ephemeral-ports', '--once', '--clean'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 0, output);
    const dir = /state and logs in (\S+)/.exec(output)?.[1];
    assert.ok(dir !== undefined && !existsSync(dir), output);
  });
});
