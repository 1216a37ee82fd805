// wrk (closed loop: every connection sends its next request when the previous answer is in)
// for the saturation rows. One wrk thread, so the load generator takes one core at most and
// leaves the other to the processes measured; the same client drives every path.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runTool } from '../processes.js';

export interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Completed requests (wrk's "N requests in"), the divisor of CPU per request. */
  requests: number;
  errors: number;
}

export interface WrkOptions {
  /** Where wrk connects: the path's entry (backend, pair's A, outbound listener, shim). */
  url: string;
  /** Request target: `/1k`, or absolute-form `http://web.bench:8080/1k` for a forward proxy. */
  target: string;
  /** Host header, when it is not the entry's address (mesh name through the outbound listener). */
  host?: string;
  /** `Connection: close`: a new TCP connection for every request. */
  connectionClose?: boolean;
  method?: 'GET' | 'POST';
  /** Request body bytes (POST). */
  bodyBytes?: number;
  seconds: number;
  connections: number;
  dir: string;
}

function toMs(value: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(value.trim());
  if (match === null) throw new Error(`cannot parse wrk latency "${value}"`);
  const n = Number(match[1]);
  return match[2] === 'us' ? n / 1000 : match[2] === 's' ? n * 1000 : n;
}

export function parseWrk(output: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const p50 = /\s50%\s+(\S+)/.exec(output);
  const p99 = /\s99%\s+(\S+)/.exec(output);
  const total = /(\d+) requests in/.exec(output);
  if (rps === null || p50 === null || p99 === null || total === null) throw new Error(`unexpected wrk output:\n${output}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const errors = Number(non2xx?.[1] ?? 0) + (socketErrors === null ? 0 : socketErrors.slice(1).reduce((s, x) => s + Number(x), 0));
  return { requestsPerSecond: Number(rps[1]), p50Ms: toMs(p50[1] ?? ''), p99Ms: toMs(p99[1] ?? ''), requests: Number(total[1]), errors };
}

let scripts = 0;

/** Runs wrk with a Lua script that sets the request target, the headers and the body. */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const script = path.join(options.dir, `wrk-${++scripts}.lua`);
  const lines = [`wrk.method = "${options.method ?? 'GET'}"`, `wrk.path = "${options.target}"`];
  if (options.host !== undefined) lines.push(`wrk.headers["Host"] = "${options.host}"`);
  if (options.connectionClose === true) lines.push('wrk.headers["Connection"] = "close"');
  if (options.bodyBytes !== undefined) {
    lines.push(`wrk.body = string.rep("x", ${options.bodyBytes})`, 'wrk.headers["Content-Type"] = "application/octet-stream"');
  }
  await writeFile(script, lines.join('\n'));
  const args = ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--timeout', '5s', '--latency', '-s', script, options.url];
  return parseWrk(await runTool('wrk', args, (options.seconds + 30) * 1000));
}
