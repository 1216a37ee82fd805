import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { loadAgentConfig } from '../agent/agent-config.js';
import { AGENT_RUNTIME_FILE, type AgentRuntime } from '../agent/agent.js';
import { CLI_ENTRY, childStoppers, type SpawnOptions } from './gateway-process.js';

export interface AgentProcess {
  child: ChildProcess;
  runtime: AgentRuntime;
  /** SIGTERM (the agent deregisters), then SIGKILL after graceMs; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL: a crash, as far as the gateway can tell; its lease decides. */
  kill(): Promise<void>;
  /** The process's exit, with its code and what it wrote to stderr. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

async function readAgentRuntime(dataDir: string): Promise<AgentRuntime | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dataDir, AGENT_RUNTIME_FILE), 'utf8')) as AgentRuntime;
  } catch {
    return undefined;
  }
}

/**
 * Starts `causeway agent --config FILE` as a child process and resolves once it is running
 * (its `<dataDir>/agent.json` names its pid and bound addresses); rejects with its stderr if
 * it exits first (a refused join token, a bad config). For tests, the demo and benchmarks.
 */
export async function spawnAgent(configFile: string, options: SpawnOptions = {}): Promise<AgentProcess> {
  const { dataDir } = await loadAgentConfig(configFile);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI_ENTRY, 'agent', '--config', configFile], {
    env: options.env ?? process.env,
    // As for gateways: the IPC channel closes when this process dies, however it dies, and the
    // agent then stops (agent-command.ts) instead of retrying a gateway forever.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.channel?.unref();
  const log = options.logFile === undefined ? undefined : createWriteStream(options.logFile, { flags: 'a' });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    log?.write(chunk);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => log?.write(`${line}\n`));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.once('exit', (code, signal) => {
      log?.end();
      resolve({ code, signal, stderr });
    });
  });
  const { stop, kill } = childStoppers(child, exited);
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const end = await exited;
      throw Object.assign(new Error(`agent ${configFile} exited (${end.signal ?? end.code}) before running: ${end.stderr.trim()}`), { exit: end });
    }
    const runtime = await readAgentRuntime(dataDir);
    if (runtime !== undefined && runtime.pid === child.pid) return { child, runtime, stop, kill, exited };
    if (Date.now() > deadline) {
      await kill();
      throw new Error(`agent ${configFile} not running within ${options.readyTimeoutMs ?? 30_000} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
