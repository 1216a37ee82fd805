import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { GatewayListeners } from '../gateway.js';

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

/**
 * Starts `causeway gateway --config FILE` as a child process and resolves once it logs
 * "gateway ready" (with its bound listener addresses). Used by the demo and the tests.
 */
export function spawnGateway(configFile: string, options: SpawnOptions = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI_ENTRY, 'gateway', '--config', configFile], {
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = options.logFile === undefined ? undefined : createWriteStream(options.logFile, { flags: 'a' });
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString());
    log?.write(chunk);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => log?.end());

  const stop = async (graceMs = 5000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void kill();
      reject(new Error(`gateway ${configFile} not ready within ${options.readyTimeoutMs ?? 30000} ms`));
    }, options.readyTimeoutMs ?? 30000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      log?.write(`${line}\n`);
      if (!line.includes('"gateway ready"')) return;
      try {
        const record = JSON.parse(line) as { listeners: GatewayListeners; identity: string };
        clearTimeout(timer);
        resolve({ child, listeners: record.listeners, identity: record.identity, stop, kill });
      } catch {
        // not a log record; keep reading
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`gateway ${configFile} exited (${signal ?? code}) before ready: ${stderr.join('').trim()}`));
    });
  });
}
