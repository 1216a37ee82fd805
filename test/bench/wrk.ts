import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
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
  if (rps === null || p50 === null || p99 === null) throw new Error(`unexpected wrk output:\n${output}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const errors = Number(non2xx?.[1] ?? 0) + (socketErrors === null ? 0 : socketErrors.slice(1).reduce((s, x) => s + Number(x), 0));
  return { requestsPerSecond: Number(rps[1]), p50Ms: toMs(p50[1] ?? ''), p99Ms: toMs(p99[1] ?? ''), errors };
}

/**
 * Runs wrk with a 1 KiB POST body. With `proxyTarget`, wrk talks to a forward proxy and
 * sends absolute-form request targets (what `curl -x` does), so the same client measures
 * both the direct and the federated path.
 */
export async function runWrk(options: { url: string; proxyTarget?: string; seconds: number; connections: number; dir: string }): Promise<WrkResult> {
  const script = path.join(options.dir, `wrk-${options.proxyTarget === undefined ? 'direct' : 'proxy'}.lua`);
  await writeFile(script, [
    'wrk.method = "POST"',
    `wrk.body = string.rep("x", 1024)`,
    'wrk.headers["Content-Type"] = "application/octet-stream"',
    ...(options.proxyTarget === undefined ? [] : [`wrk.path = "${options.proxyTarget}"`, `wrk.headers["Host"] = "${new URL(options.proxyTarget).host}"`]),
  ].join('\n'));
  const args = ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--latency', '-s', script, options.url];
  const output = await new Promise<string>((resolve, reject) => {
    execFile('wrk', args, { timeout: (options.seconds + 30) * 1000 }, (err, stdout, stderr) => (err === null ? resolve(stdout) : reject(new Error(`wrk failed: ${stderr || err.message}`))));
  });
  return parseWrk(output);
}
