import { spawn, type ChildProcess } from 'node:child_process';
import type { ProbeResult } from '../health/health-probe.js';

/** Consul's default `check_output_max_size`: what a check's output keeps for the status. */
export const DEFAULT_OUTPUT_LIMIT = 4096;

export interface CommandProbeTarget {
  /** The program (absolute, or looked up in PATH) and its arguments; never through a shell. */
  argv: readonly string[];
  timeoutMs: number;
  /** Aborted when the check is stopped: the command is killed like on a timeout. */
  signal: AbortSignal;
  /** Bytes of stdout and stderr kept, in arrival order; the rest is read and dropped. */
  outputLimit?: number;
}

export interface CommandProbeResult extends ProbeResult {
  /** The first `outputLimit` bytes of stdout and stderr, trimmed; a note says how much was dropped. */
  output: string;
}

/**
 * A command check: runs `argv` and is healthy on exit status 0 (Consul's `args` checks; its
 * "warning" status 1 counts as a failure here, as there are only two verdicts).
 *
 * The program is started with spawn (no shell, as execFile does) rather than execFile itself,
 * for two reasons: execFile kills a child whose output passes `maxBuffer` — a chatty but
 * healthy check would fail — and its `timeout` signals only the direct child. Here the output
 * beyond the limit is drained, and the command runs in a process group of its own
 * (`detached`), so a timeout or an abort SIGKILLs the whole group (a script's children too),
 * as Consul's agent does. The promise settles only once the program has exited, so a closed
 * checker leaves no process behind.
 */
export function probeCommand(target: CommandProbeTarget): Promise<CommandProbeResult> {
  const [program, ...args] = target.argv;
  if (program === undefined) return Promise.resolve({ ok: false, reason: 'no program to run', output: '' });
  if (target.signal.aborted) return Promise.resolve({ ok: false, reason: 'aborted', output: '' });
  const output = new BoundedOutput(target.outputLimit ?? DEFAULT_OUTPUT_LIMIT);
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, windowsHide: true });
    } catch (err) {
      resolve({ ok: false, reason: `cannot run ${program}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, output: '' });
      return;
    }
    let done = false;
    let killedFor: string | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const finish = (result: ProbeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      target.signal.removeEventListener('abort', onAbort);
      // A grandchild that left the group may still hold the pipes: they are ours to close.
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({ ...result, output: output.text() });
    };
    const stop = (reason: string): void => {
      if (exit !== undefined) {
        // Exited, but something it started still holds stdout: the exit status is the verdict.
        finish(verdict(exit.code, exit.signal, undefined));
        return;
      }
      killedFor = reason;
      killGroup(child);
    };
    const onAbort = (): void => stop('aborted');
    const timer = setTimeout(() => stop(`timeout after ${target.timeoutMs} ms (killed)`), target.timeoutMs);
    timer.unref();
    target.signal.addEventListener('abort', onAbort, { once: true });
    child.stdout?.on('data', (chunk: Buffer) => output.add(chunk));
    child.stderr?.on('data', (chunk: Buffer) => output.add(chunk));
    child.once('error', (err: NodeJS.ErrnoException) => {
      // Emitted when the program cannot be started (ENOENT, EACCES); then no exit follows.
      if (child.pid === undefined) finish({ ok: false, reason: `cannot run ${program}: ${err.code ?? err.message}` });
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      // Killed by us: settle now; its pipes may be held by what the group could not reach.
      if (killedFor !== undefined) finish(verdict(code, signal, killedFor));
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => finish(verdict(code, signal, killedFor)));
  });
}

function verdict(code: number | null, signal: NodeJS.Signals | null, killedFor: string | undefined): ProbeResult {
  if (killedFor !== undefined) return { ok: false, reason: killedFor };
  if (code === 0) return { ok: true, reason: 'exit 0' };
  return { ok: false, reason: code !== null ? `exit ${code}` : `killed by ${signal ?? 'a signal'}` };
}

/** SIGKILL to the child's process group (it leads one: `detached`), else to the child alone. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** Keeps the first `limit` bytes written to it and counts the rest. */
class BoundedOutput {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private dropped = 0;

  constructor(private readonly limit: number) {}

  add(chunk: Buffer): void {
    const room = Math.max(0, this.limit - this.kept);
    if (room > 0) {
      const part = chunk.subarray(0, room);
      this.chunks.push(part);
      this.kept += part.length;
    }
    this.dropped += Math.max(0, chunk.length - room);
  }

  text(): string {
    const text = Buffer.concat(this.chunks).toString('utf8').trimEnd();
    return this.dropped === 0 ? text : `${text}\n… (${this.dropped} more bytes not kept)`;
  }
}
