// Every process the data-plane benchmark starts (nginx, HAProxy, socat, the gRPC backend,
// the gateways) is registered here, so that one call ends them all, on success, on error and
// on SIGINT/SIGTERM: a benchmark that leaves a proxy bound to a port breaks the next run.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';

export interface Stoppable {
  /** Graceful stop with a bound, then SIGKILL; resolves when the process has exited. */
  stop(): Promise<void>;
}

const running = new Set<Stoppable>();

export function track<T extends Stoppable>(process: T): T {
  running.add(process);
  return process;
}

/**
 * Runs a load generator (wrk, h2load, curl) to completion with a time bound, tracked like the
 * peers so that SIGINT ends it too instead of leaving it to load ports nobody serves.
 */
export function runTool(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      running.delete(handle);
      if (err === null) resolve(stdout);
      else reject(new Error(`${command} failed: ${stderr.trim() || stdout.trim() || err.message}`));
    });
    const handle: Stoppable = {
      stop: () => new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGKILL');
      }),
    };
    running.add(handle);
  });
}

/** Ends every tracked process, newest first (proxies before the backend they point at). */
export async function stopAll(): Promise<void> {
  const all = [...running].reverse();
  running.clear();
  await Promise.allSettled(all.map((p) => p.stop()));
}

export interface BenchProcess extends Stoppable {
  child: ChildProcess;
  pid: number;
  name: string;
  logFile: string;
}

/** Starts a C peer in the foreground (no daemon), its output appended to `logFile`. */
export function startProcess(name: string, command: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): BenchProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => log.end());
  if (child.pid === undefined) throw new Error(`${name}: ${command} did not start`);
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  return track({ child, pid: child.pid, name, logFile, stop });
}

/**
 * A port the kernel just handed out and released. The C peers take explicit ports in their
 * config files; the window in which another process could take the same port is tiny on
 * loopback and would show up as a failed start, not a wrong number.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; fails if `process` exits first. */
export async function waitListening(port: number, process: BenchProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (process.child.exitCode !== null) {
      let tail = '';
      try {
        tail = readFileSync(process.logFile, 'utf8').trim().split('\n').slice(-3).join(' / ');
      } catch { /* no log yet */ }
      throw new Error(`${process.name} exited (${process.child.exitCode}) before listening on ${port}: ${tail}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`${process.name} not listening on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
