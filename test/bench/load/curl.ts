// The bulk-transfer rows: one response of the backend's 1 GB file, read by curl (C, writing to
// /dev/null) through each path; MB/s is curl's own average download speed.
import { runTool } from '../processes.js';

export interface TransferResult {
  megabytesPerSecond: number;
  bytes: number;
  seconds: number;
}

export interface TransferOptions {
  url: string;
  /** A forward proxy (`host:port`); with `tunnel`, curl asks it for a CONNECT tunnel (`-p`). */
  proxy?: string;
  tunnel?: boolean;
  expectedBytes: number;
  maxSeconds: number;
}

export async function runTransfer(options: TransferOptions): Promise<TransferResult> {
  const args = ['--silent', '--show-error', '--max-time', String(options.maxSeconds), '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{time_total}'];
  if (options.proxy !== undefined) args.push('-x', `http://${options.proxy}`, '--noproxy', '');
  if (options.tunnel === true) args.push('-p');
  args.push(options.url);
  const stdout = await runTool('curl', args, (options.maxSeconds + 10) * 1000);
  const [code, size, total] = stdout.trim().split(' ').map(Number);
  if (code !== 200 || size !== options.expectedBytes) throw new Error(`curl ${options.url}: status ${code}, ${size} of ${options.expectedBytes} bytes`);
  const seconds = total ?? NaN;
  return { megabytesPerSecond: (size / 1e6) / seconds, bytes: size, seconds };
}
