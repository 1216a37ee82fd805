// An open-loop HTTP/1.1 client for the failover test and benchmark. Requests are sent at a
// fixed rate whether or not earlier ones were answered: a stuck request must not slow the
// send rate and so hide the outage it is stuck in (the "coordinated omission" of closed-loop
// load generators). Each request goes through a forward proxy (a gateway's outbound
// listener) in absolute form on a keep-alive connection from a pool, has its own deadline,
// and leaves one record: when it was sent, how it ended, and which cluster answered.
import { Agent, request as httpRequest } from 'node:http';

export type Outcome = 'ok' | 'status' | 'timeout' | 'error';

export interface RequestRecord {
  seq: number;
  /** Client clock (ms, performance.now()) when the request went out. */
  sentMs: number;
  /** When it ended: answer complete, error, or its deadline. Undefined while in flight. */
  endMs: number | undefined;
  outcome: Outcome | undefined;
  /** HTTP status, when an answer came. */
  status?: number;
  /** The cluster whose backend answered (`x-cluster`), on a 200. */
  cluster?: string;
  /** `causeway-error` of a refusal, or the socket error's code. */
  code?: string;
}

export interface OpenLoopClientOptions {
  /** The forward proxy, `host:port`. */
  proxy: string;
  /** Absolute-form target, e.g. `http://payments.prod:8080/`. */
  url: string;
  /** Requests per second. Default 200. */
  rate?: number;
  /** Per request, from send to the last byte of the answer. Default 2000 ms. */
  timeoutMs?: number;
  /** Keep-alive connections to the proxy at most. Default 1024 (above rate × timeout at 200/s). */
  maxSockets?: number;
  /** Response header naming the cluster that served. Default `x-cluster`. */
  clusterHeader?: string;
}

/** The client clock every record and event mark is on. */
export const clientNow = (): number => performance.now();

export class OpenLoopClient {
  readonly records: RequestRecord[] = [];
  readonly rate: number;
  readonly timeoutMs: number;
  private readonly agent: Agent;
  private readonly proxy: { host: string; port: number };
  private readonly hostHeader: string;
  private readonly clusterHeader: string;
  private ticker: NodeJS.Timeout | undefined;
  private startedMs = 0;
  private sent = 0;
  private inFlight = 0;
  private drained: (() => void) | undefined;

  constructor(private readonly options: OpenLoopClientOptions) {
    this.rate = options.rate ?? 200;
    this.timeoutMs = options.timeoutMs ?? 2000;
    if (!(this.rate > 0) || !(this.timeoutMs > 0)) throw new RangeError('rate and timeoutMs must be positive');
    const colon = options.proxy.lastIndexOf(':');
    this.proxy = { host: options.proxy.slice(0, colon), port: Number(options.proxy.slice(colon + 1)) };
    this.hostHeader = new URL(options.url).host;
    this.clusterHeader = options.clusterHeader ?? 'x-cluster';
    // LIFO reuse keeps the pool as small as the load needs; a socket whose request timed out
    // is destroyed with it, so a stuck upstream costs the client connections, not send rate.
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 1024, scheduling: 'lifo' });
  }

  /** Starts sending. Request n is due at start + n / rate; a late timer sends what is due at once. */
  start(): void {
    if (this.ticker !== undefined) return;
    this.startedMs = clientNow();
    const tick = (): void => {
      const due = Math.floor(((clientNow() - this.startedMs) * this.rate) / 1000) + 1;
      while (this.sent < due) this.send();
    };
    tick();
    this.ticker = setInterval(tick, Math.max(1, Math.min(10, Math.floor(1000 / this.rate / 2))));
  }

  /** Stops sending; resolves when every request in flight has ended (each within its deadline). */
  async stop(): Promise<RequestRecord[]> {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.ticker = undefined;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.agent.destroy();
    return this.records;
  }

  /** Kills every connection at once (cleanup after a failure); records in flight end as errors. */
  destroy(): void {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.ticker = undefined;
    this.agent.destroy();
  }

  private send(): void {
    const record: RequestRecord = { seq: this.sent++, sentMs: clientNow(), endMs: undefined, outcome: undefined };
    this.records.push(record);
    this.inFlight += 1;
    let ended = false;
    const end = (outcome: Outcome, extra: Partial<RequestRecord> = {}): void => {
      if (ended) return;
      ended = true;
      clearTimeout(deadline);
      Object.assign(record, extra, { outcome, endMs: clientNow() });
      this.inFlight -= 1;
      if (this.inFlight === 0 && this.drained !== undefined) this.drained();
    };
    const req = httpRequest({
      host: this.proxy.host, port: this.proxy.port, agent: this.agent, method: 'GET', path: this.options.url,
      headers: { host: this.hostHeader, 'user-agent': 'causeway-failover-client' },
    });
    const deadline = setTimeout(() => {
      end('timeout');
      req.destroy();
    }, this.timeoutMs);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const cluster = res.headers[this.clusterHeader];
        if (status === 200 && typeof cluster === 'string') end('ok', { status, cluster });
        else end('status', { status, code: String(res.headers['causeway-error'] ?? '') || undefined });
      });
      res.on('error', (err: NodeJS.ErrnoException) => end('error', { status: res.statusCode, code: err.code ?? err.message }));
      // A connection cut in the middle of the body: no 'end'.
      res.on('close', () => end('error', { status: res.statusCode, code: 'ABORTED' }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => end('error', { code: err.code ?? err.message }));
    req.end();
  }
}
