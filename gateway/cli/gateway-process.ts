import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { GatewayListeners } from '../gateway.js';
import { loadConfig } from '../config/load-config.js';
import { readRuntimeFile } from '../runtime-file.js';

export const CLI_ENTRY = fileURLToPath(new URL('./main.js', import.meta.url));

export interface GatewayProcess {
  child: ChildProcess;
  listeners: GatewayListeners;
  identity: string;
  /** SIGTERM, then SIGKILL after graceMs; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
}

export interface SpawnOptions {
  /** Copy the gateway's log lines (pino JSON) here. */
  logFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Extra node flags, e.g. ['--import', 'file.mjs'] in tests. */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}

/** SIGTERM then SIGKILL after a grace period, and SIGKILL at once; both resolve once `child` has exited. */
export function childStoppers(child: ChildProcess, exited: Promise<unknown>): { stop(graceMs?: number): Promise<void>; kill(): Promise<void> } {
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    async stop(graceMs = 5000) {
      if (!running()) return void (await exited);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Starts `causeway gateway --config FILE` as a child process and resolves once it is ready
 * (its runtime file names its pid and bound listener addresses). Used by the demo, the
 * tests and the benchmark.
 */
export function spawnGateway(configFile: string, options: SpawnOptions = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI_ENTRY, 'gateway', '--config', configFile], {
    env: options.env ?? process.env,
    // The IPC channel is the child's lifeline: it closes when this process dies, however it
    // dies, and the gateway then shuts down (gateway-command.ts) instead of holding its ports.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  // Nothing is sent over it; it must not keep this process alive either.
  child.channel?.unref();
  const log = options.logFile === undefined ? undefined : createWriteStream(options.logFile, { flags: 'a' });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString());
    log?.write(chunk);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => log?.end());

  const { stop, kill } = childStoppers(child, exited);

  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => log?.write(`${line}\n`));
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  // Ready means the gateway wrote <dataDir>/gateway.json with its own pid: independent of
  // the log level, and it carries the bound addresses.
  return (async () => {
    const { dataDir } = await loadConfig(configFile);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`gateway ${configFile} exited (${child.signalCode ?? child.exitCode}) before ready: ${stderr.join('').trim()}`);
      }
      const runtime = await readRuntimeFile(dataDir);
      if (runtime !== undefined && runtime.pid === child.pid) {
        return { child, listeners: runtime.listeners, identity: runtime.identity, stop, kill };
      }
      if (Date.now() > deadline) {
        await kill();
        throw new Error(`gateway ${configFile} not ready within ${options.readyTimeoutMs ?? 30_000} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
}
