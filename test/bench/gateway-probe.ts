// Reading gateway processes from a benchmark without weighing on them: the admin API's cheap
// routes (GET /v1/peers, one service's GET /v1/explain), VmRSS and VmHWM from /proc, the
// gateway's own log lines, and the CLI as an operator runs it.
import { readFile } from 'node:fs/promises';
import { get } from 'node:http';
import type { GatewayProcess } from '../../gateway/index.js';
import { runCli } from '../helpers/run-cli.js';

export interface PeerView { state: string; importedServices: number; exportedServices: number; unacked: number }
export interface ExplainView { considered: Array<{ cluster: string; subject: string; why: string }> }

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The value at quantile `q` of ascending `sorted` (the nearest rank below). */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

export async function admin<T>(gateway: GatewayProcess, pathAndQuery: string, timeoutMs = 30_000): Promise<T> {
  const response = await fetch(`http://${gateway.listeners.admin}${pathAndQuery}`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${pathAndQuery} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** The gateway's first peer as GET /v1/peers shows it (counts from the catalog, no records). */
export async function firstPeer(gateway: GatewayProcess): Promise<PeerView | undefined> {
  return (await admin<{ peers: PeerView[] }>(gateway, '/v1/peers')).peers[0];
}

/** Polls `probe` every `everyMs` until true; the time since `begin`. */
export async function pollUntil(what: string, begin: number, probe: () => Promise<boolean>, options: { timeoutMs?: number; everyMs?: number } = {}): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  for (;;) {
    if (await probe()) return performance.now() - begin;
    if (performance.now() - begin > timeoutMs) throw new Error(`${what} not seen within ${timeoutMs / 1000} s`);
    await sleep(options.everyMs ?? 5);
  }
}

/**
 * The answer, or undefined when the connection was reset instead: a gateway whose event loop
 * was blocked past its admin server's keep-alive timeout (5 s) closes the idle pooled
 * connection before it reads the request waiting on it, and fetch sees ECONNRESET.
 */
export async function unlessReset<T>(request: Promise<T>, resets: { count: number }): Promise<T | undefined> {
  try {
    return await request;
  } catch (err) {
    const reset = err instanceof TypeError && (err.cause as { code?: string } | undefined)?.code === 'ECONNRESET';
    // Past headersTimeout (10 s) the admin server answers 408 instead.
    if (!reset && !(err instanceof Error && / answered 408:/.test(err.message))) throw err;
    resets.count += 1;
    return undefined;
  }
}

/**
 * GET /healthz on a new connection every `everyMs`, one at a time, until stop(): the longest
 * wait for an answer is how long the gateway's event loop stood still, as a liveness probe sees it.
 */
export function stallProbe(gateway: GatewayProcess, everyMs = 25): { stop(): Promise<{ longestMs: number; probes: number; failed: number }> } {
  const [host, port] = [gateway.listeners.admin.slice(0, gateway.listeners.admin.lastIndexOf(':')), Number(gateway.listeners.admin.slice(gateway.listeners.admin.lastIndexOf(':') + 1))];
  let running = true;
  let longestMs = 0;
  let probes = 0;
  let failed = 0;
  const once = (): Promise<void> => new Promise((resolve) => {
    const begin = performance.now();
    const req = get({ host, port, path: '/healthz', agent: false }, (res) => {
      res.resume();
      res.on('end', () => {
        longestMs = Math.max(longestMs, performance.now() - begin);
        probes += 1;
        resolve();
      });
    });
    req.on('error', () => {
      // Refused or reset: still a wait the probe saw.
      longestMs = Math.max(longestMs, performance.now() - begin);
      failed += 1;
      resolve();
    });
  });
  const loop = (async () => {
    while (running) {
      await once();
      await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { longestMs, probes, failed };
    },
  };
}

/** VmRSS and VmHWM (the peak) of a process, in MiB. */
export async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** The `time` (epoch ms) of the first line of a pino log whose msg is `msg` (and whose fields have `fields`' values), after `since`. */
export async function logTime(file: string, msg: string, since: number, fields: Record<string, unknown> = {}): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as Record<string, unknown> & { msg?: string; time?: number };
      const matches = Object.entries(fields).every(([k, v]) => entry[k] === v);
      if (entry.msg === msg && matches && typeof entry.time === 'number' && entry.time >= since) return entry.time;
    } catch {
      // A line cut by the copy in progress.
    }
  }
  return undefined;
}

export async function cli(args: string[]): Promise<string> {
  const result = await runCli(args);
  if (result.code !== 0) throw new Error(`causeway ${args.slice(0, 2).join(' ')}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}
