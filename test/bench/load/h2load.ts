// h2load (nghttp2's C load generator) for the gRPC rows: unary calls over HTTP/2 cleartext with
// prior knowledge, as a gRPC client sends them, `:authority` set to the mesh name when the
// entry is the outbound listener. h2load prints no percentiles, so its per-request log file
// (start, status, duration in µs) gives p50 and p99. It cannot see grpc-status in trailers:
// the benchmark checks a real grpc-js call through the same path before trusting the count.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runTool } from '../processes.js';

export interface H2loadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
}

/** A gRPC message on the wire (gRPC over HTTP/2, "Length-Prefixed-Message"): uncompressed flag, 4-byte length, bytes. */
function grpcFrame(message: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

let runs = 0;

export async function runH2load(options: {
  port: number; method: string; authority: string; seconds: number; connections: number; streams: number; dir: string;
}): Promise<H2loadResult> {
  const id = ++runs;
  const body = path.join(options.dir, `grpc-body-${id}.bin`);
  const log = path.join(options.dir, `h2load-${id}.log`);
  await writeFile(body, grpcFrame(Buffer.alloc(16, 'q')));
  const args = [
    '-t1', `-c${options.connections}`, `-m${options.streams}`, `-D${options.seconds}`, '-d', body, '--log-file', log,
    '-H', 'content-type: application/grpc', '-H', 'te: trailers', '-H', `:authority: ${options.authority}`,
    `http://127.0.0.1:${options.port}${options.method}`,
  ];
  const output = await runTool('h2load', args, (options.seconds + 30) * 1000);
  const rps = /finished in [\d.]+s, ([\d.]+) req\/s/.exec(output);
  const counts = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(output);
  const codes = /status codes: (\d+) 2xx/.exec(output);
  if (rps === null || counts === null) throw new Error(`unexpected h2load output:\n${output}`);
  const durations = (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '')
    .map((l) => Number(l.split('\t')[2]) / 1000).sort((x, y) => x - y);
  const at = (p: number): number => durations[Math.min(durations.length - 1, Math.floor((p / 100) * durations.length))] ?? NaN;
  const succeeded = Number(codes?.[1] ?? 0);
  return {
    requestsPerSecond: Number(rps[1]), p50Ms: at(50), p99Ms: at(99), requests: succeeded,
    errors: Number(counts[5]) + Number(counts[6]) + Number(counts[7]),
  };
}
