// An open-loop HTTP/1.1 client for the fixed-rate rows: requests are due at a fixed rate
// whether or not earlier ones have been answered, so a slow answer cannot slow the load down
// and hide itself (the "coordinated omission" of closed-loop tools like wrk). wrk2 is not in
// Debian, and h2load's --rps cannot send the absolute-form targets a forward proxy takes, so
// the same small client drives every path. At 20% of a pair's saturation it needs a fraction
// of a core.
//
// A request's latency runs from the timer tick that found it due (or, when all connections
// were busy, from that tick too: waiting for a free connection is part of the path's answer)
// to the last byte of its response. Timer lateness before that tick is the client's and is
// the same for every path, so it is left out.
import { connect, type Socket } from 'node:net';

export interface OpenLoopOptions {
  port: number;
  /** Request target, origin-form or absolute-form. */
  target: string;
  host: string;
  rate: number;
  seconds: number;
  connections: number;
  /** Answers in the first second are not counted: connections and pools warm up. */
  warmupSeconds?: number;
}

export interface OpenLoopResult {
  offeredRps: number;
  completedRps: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  completed: number;
  errors: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Reads one response at a time off a keep-alive connection: Content-Length or chunked bodies. */
class ResponseReader {
  private buffer: Buffer = Buffer.alloc(0);

  /** Returns whether a whole response has arrived (and consumes it), or throws on a bad one. */
  push(chunk: Buffer): { done: boolean; status?: number; close?: boolean } {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    if (headEnd < 0) return { done: false };
    const head = this.buffer.subarray(0, headEnd).toString('latin1');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? NaN);
    if (Number.isNaN(status)) throw new Error(`not an HTTP response: ${head.slice(0, 40)}`);
    const close = /\r\nconnection:\s*close/i.test(head);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    let end: number;
    if (length !== null) {
      end = headEnd + 4 + Number(length[1]);
      if (this.buffer.length < end) return { done: false };
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      end = headEnd + 4;
      for (;;) {
        const lineEnd = this.buffer.indexOf('\r\n', end);
        if (lineEnd < 0) return { done: false };
        const size = parseInt(this.buffer.subarray(end, lineEnd).toString('latin1'), 16);
        if (Number.isNaN(size)) throw new Error('bad chunk size');
        end = lineEnd + 2 + size + 2; // no trailers from these backends
        if (this.buffer.length < end) return { done: false };
        if (size === 0) break;
      }
    } else if (status === 204 || status === 304) {
      end = headEnd + 4;
    } else {
      throw new Error('response without Content-Length or chunked framing');
    }
    this.buffer = this.buffer.subarray(end);
    return { done: true, status, close };
  }
}

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const request = Buffer.from(`GET ${options.target} HTTP/1.1\r\nHost: ${options.host}\r\nUser-Agent: causeway-bench\r\n\r\n`, 'latin1');
  const warmupMs = (options.warmupSeconds ?? 1) * 1000;
  const latencies: number[] = [];
  let errors = 0;
  let completed = 0;
  const queue: number[] = [];
  const idle: Conn[] = [];
  const all = new Set<Conn>();
  let stopped = false;

  interface Conn { socket: Socket; reader: ResponseReader; startedAt: number }
  const open = (): void => {
    const conn: Conn = { socket: connect({ port: options.port, host: '127.0.0.1', noDelay: true }), reader: new ResponseReader(), startedAt: -1 };
    all.add(conn);
    conn.socket.once('connect', () => {
      idle.push(conn);
      dispatch();
    });
    conn.socket.on('data', (chunk: Buffer) => {
      let answer: ReturnType<ResponseReader['push']>;
      try {
        answer = conn.reader.push(chunk);
      } catch {
        answer = { done: true, status: 0, close: true };
      }
      if (!answer.done) return;
      const now = performance.now();
      if (answer.status === 200) {
        if (conn.startedAt >= started + warmupMs) latencies.push(now - conn.startedAt);
        completed++;
      } else errors++;
      conn.startedAt = -1;
      if (answer.close === true) conn.socket.destroy();
      else idle.push(conn);
      dispatch();
    });
    conn.socket.on('error', () => undefined);
    conn.socket.once('close', () => {
      all.delete(conn);
      const at = idle.indexOf(conn);
      if (at >= 0) idle.splice(at, 1);
      if (conn.startedAt >= 0) errors++;
      if (!stopped) setTimeout(open, 10);
    });
  };
  const dispatch = (): void => {
    while (queue.length > 0 && idle.length > 0) {
      const conn = idle.pop()!;
      conn.startedAt = queue.shift()!;
      conn.socket.write(request);
    }
  };

  const started = performance.now();
  for (let i = 0; i < options.connections; i++) open();
  const interval = 1000 / options.rate;
  let nextDue = started;
  let offered = 0;
  const endAt = started + warmupMs + options.seconds * 1000;
  await new Promise<void>((resolve) => {
    const ticker = setInterval(() => {
      const now = performance.now();
      if (now >= endAt) {
        clearInterval(ticker);
        resolve();
        return;
      }
      while (nextDue <= now) {
        queue.push(now);
        if (nextDue >= started + warmupMs) offered++;
        nextDue += interval;
      }
      dispatch();
    }, 1);
  });
  // Answers still in flight get a bounded grace; the rest count as errors.
  const graceEnd = performance.now() + 2000;
  while (idle.length < options.connections && performance.now() < graceEnd) await new Promise((r) => setTimeout(r, 10));
  stopped = true;
  errors += queue.length;
  const sorted = Float64Array.from(latencies).sort();
  const measuredSeconds = options.seconds;
  for (const conn of [...all]) conn.socket.destroy();
  return {
    offeredRps: offered / measuredSeconds, completedRps: sorted.length / measuredSeconds,
    p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), p999Ms: percentile(sorted, 99.9), maxMs: sorted.at(-1) ?? NaN,
    completed, errors,
  };
}

/**
 * One request on a fresh connection, for checking a path before loading it: a path answering
 * 403 or 502 would otherwise measure how fast it fails.
 */
export function requestOnce(port: number, target: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const reader = new ResponseReader();
    const socket = connect({ port, host: '127.0.0.1' }, () => socket.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (chunk: Buffer) => {
      try {
        const answer = reader.push(chunk);
        if (answer.done) {
          socket.destroy();
          resolve(answer.status ?? 0);
        }
      } catch (err) {
        socket.destroy(err as Error);
      }
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before a whole response')));
  });
}
