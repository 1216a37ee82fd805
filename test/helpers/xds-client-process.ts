import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** One reply covers n calls of at most 5 s each in the fixtures; this only catches a hung process. */
const REPLY_TIMEOUT_MS = 60_000;

/**
 * An xDS client as a real child process (test/fixtures/xds_echo_client.py, xds-echo-client.mjs):
 * one line in (how many calls), one JSON line out (who answered each). Its stderr goes to
 * `logFile`, quoted when it fails.
 */
export class XdsClientProcess {
  private readonly replies: AsyncIterator<string>;
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess, private readonly name: string, private readonly logFile: string) {
    this.replies = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    // 'error' without 'exit' when the process could not be started at all.
    this.exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    // A write to a process that has exited fails (EPIPE); answers() reports the exit itself.
    child.stdin!.on('error', () => undefined);
  }

  /** `env`: all the client gets — none of this process's GRPC_* (grpc-js reads some of the same names). */
  static start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): XdsClientProcess {
    const log = openSync(logFile, 'w');
    const child = spawn(command, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['pipe', 'pipe', log] });
    closeSync(log);
    return new XdsClientProcess(child, name, logFile);
  }

  /** Who answered `n` calls in a row; rejects with the client's error (or its log, when it died). */
  async answers(n: number): Promise<string[]> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`the ${this.name} client exited: ${this.logTail()}`);
    this.child.stdin!.write(`${n}\n`);
    let timer: NodeJS.Timeout | undefined;
    const line = await Promise.race([
      this.replies.next(),
      this.exited.then(() => {
        throw new Error(`the ${this.name} client exited: ${this.logTail()}`);
      }),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          // Killed: a late reply would otherwise answer the next question.
          this.child.kill('SIGKILL');
          reject(new Error(`no reply from the ${this.name} client within ${REPLY_TIMEOUT_MS} ms: ${this.logTail()}`));
        }, REPLY_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    if (line.done === true) throw new Error(`the ${this.name} client closed its output: ${this.logTail()}`);
    const reply = JSON.parse(line.value) as { answers?: string[]; error?: string };
    if (reply.answers === undefined) throw new Error(`the ${this.name} client's call failed: ${reply.error}`);
    return reply.answers;
  }

  /** End of input closes the channel and exits; a process that does not is killed. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  private logTail(): string {
    return readFileSync(this.logFile, 'utf8').slice(-2000) || '(nothing on stderr)';
  }
}
