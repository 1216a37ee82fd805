import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AGENT_RUNTIME_FILE, type AgentRuntime } from '../../gateway/agent/agent.js';
import { processAlive } from '../../gateway/data-dir-lock.js';
import { readRuntimeFile, type RuntimeInfo } from '../../gateway/runtime-file.js';
import { CLI } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { waitFor } from '../helpers/wait-for.js';
import { curl } from '../helpers/workload-tls.js';

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

/** Whether host:port can be bound now (the agent's inbound listener is on 127.0.0.3, not 127.0.0.1). */
function addressIsFree(address: string): Promise<boolean> {
  const colon = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(Number(address.slice(colon + 1)), address.slice(0, colon), () => server.close(() => resolve(true)));
  });
}

interface RunningDemo {
  child: ChildProcess;
  dir: string;
  gateways: RuntimeInfo[];
  /** The demo VM's agent: its pid and where it listens. */
  agent: AgentRuntime;
  output: () => string;
}

/** `causeway demo --ephemeral-ports` until it says "Running.", with its gateways' and agent's pids and ports. */
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
  const agent = JSON.parse(await readFile(path.join(dir, 'demo-vm', AGENT_RUNTIME_FILE), 'utf8')) as AgentRuntime;
  assert.ok(running(agent.pid), output);
  return { child, dir, gateways, agent, output: () => output };
}

async function assertAllGone(demo: RunningDemo): Promise<void> {
  const pids = [...demo.gateways.map((g) => g.pid), demo.agent.pid];
  await waitFor('the demo\'s gateways and agent to exit', () => (pids.every((pid) => !running(pid)) ? true : undefined), 20_000);
  const held = [
    ...demo.gateways.flatMap((g) => Object.entries(g.listeners).map(([name, address]) => [`${g.identity} listen.${name}`, address] as const)),
    ['the agent\'s inbound listener', demo.agent.inbound!] as const,
    ['the agent\'s outbound proxy', demo.agent.outbound!] as const,
  ];
  for (const [what, address] of held) assert.ok(await addressIsFree(address), `${what} ${address} is still held`);
}

describe('causeway demo: no process outlives it, and the logs stay', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  describe('while it runs', () => {
    let demo: RunningDemo;
    before(async () => {
      demo = await startDemo();
      dirs.push(demo.dir);
    });

    it('a VM has joined: a call from it through its agent\'s proxy answers from cluster-b, and `causeway agents` lists demo-vm', async () => {
      assert.match(demo.output(), /^VM: demo-vm joined cluster-a with a one-time token/m);
      assert.match(demo.output(), new RegExp(`^  curl -x http://${demo.agent.outbound!.replaceAll('.', '\\.')} http://echo\\.demo:8080/ `, 'm'));
      const answer = await curl(['-x', `http://${demo.agent.outbound!}`, 'http://echo.demo:8080/from-the-vm']);
      assert.equal(answer.code, 0, answer.stderr);
      assert.deepEqual(JSON.parse(answer.stdout), {
        service: 'echo.demo', cluster: 'cluster-b', method: 'GET', path: '/from-the-vm', host: 'echo.demo:8080', bytes: 0,
      });
      const agents = await runCli(['agents', '--config', path.join(demo.dir, 'cluster-a.yaml')]);
      assert.equal(agents.code, 0, agents.stderr);
      assert.match(agents.stdout, /^spiffe:\/\/cluster-a\.causeway\.test\/ns\/legacy\/sa\/billing\s+demo-vm\s+connected\s+billing\.legacy\b/m);
    });

    it('on SIGTERM stops both gateways and the agent (which deregisters first), frees their ports, and keeps state and logs, saying where', async () => {
      demo.child.kill('SIGTERM');
      const code = await new Promise((resolve) => demo.child.once('exit', (c) => resolve(c)));
      assert.equal(code, 0, demo.output());
      await assertAllGone(demo);
      assert.match(demo.output(), new RegExp(`state and logs kept in ${demo.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.ok(existsSync(path.join(demo.dir, 'cluster-a.log')));
      assert.ok(existsSync(path.join(demo.dir, 'cluster-b.log')));
      // Deregistered while cluster-a's gateway was still there to acknowledge it.
      assert.match(await readFile(path.join(demo.dir, 'demo-vm.log'), 'utf8'), /"acknowledged":true,"msg":"services deregistered"/);
    });
  });

  it('when SIGKILLed, its gateways and agent notice their parent is gone and exit, freeing their ports', async () => {
    const demo = await startDemo();
    dirs.push(demo.dir);
    demo.child.kill('SIGKILL');
    await new Promise((resolve) => demo.child.once('exit', resolve));
    await assertAllGone(demo);
  });

  it('when the process that started it (npm start, say) is SIGKILLed, the demo stops itself, its gateways and agent', async () => {
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
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 0, output);
    const dir = /state and logs in (\S+)/.exec(output)?.[1];
    assert.ok(dir !== undefined && !existsSync(dir), output);
  });
});
