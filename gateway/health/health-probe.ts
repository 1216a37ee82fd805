import { request } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import { refuseLookup } from '../dataplane/tcp-connect.js';

/** One check's outcome. `reason` is what the transition log and the status API show. */
export interface ProbeResult {
  ok: boolean;
  /** `HTTP 200`, `connected`, `HTTP 503`, `connect ECONNREFUSED`, `timeout after 1000 ms`, ... */
  reason: string;
}

export interface ProbeTarget {
  /** An IP literal from the catalog; names are never resolved. */
  address: string;
  port: number;
  timeoutMs: number;
  /** Aborted when the check is stopped (checker closed, endpoint gone, policy changed). */
  signal: AbortSignal;
}

export interface HttpProbeTarget extends ProbeTarget {
  path: string;
  /** `<service>:<port>`, the authority callers use for the service (Host, RFC 9110 §7.2). */
  host: string;
  expectStatus: (status: number) => boolean;
}

/** A TCP check: healthy when the connection is established within the timeout. */
export function probeTcp(target: ProbeTarget): Promise<ProbeResult> {
  return settleOnce(target, (finish) => {
    const socket = connect({ host: target.address, port: target.port, lookup: refuseLookup });
    socket.once('connect', () => finish({ ok: true, reason: 'connected' }));
    socket.once('error', (err: NodeJS.ErrnoException) => finish({ ok: false, reason: `connect ${err.code ?? err.message}` }));
    return () => { socket.destroy(); };
  });
}

/**
 * An HTTP check: `GET <path>` over HTTP/1.1 on a connection of its own (`connection: close`,
 * no pooling, so a check never rides a connection a backend already judged), healthy when the
 * status passes `expectStatus`. Only the status line is waited for; the body is not read, and
 * the timeout bounds connect and answer together (Envoy's health check `timeout`).
 */
export function probeHttp(target: HttpProbeTarget): Promise<ProbeResult> {
  return settleOnce(target, (finish) => {
    let connected = false;
    const req = request({
      host: target.address, port: target.port, method: 'GET', path: target.path, agent: false, setHost: false,
      lookup: refuseLookup,
      headers: { host: target.host, 'user-agent': 'causeway-health-check', connection: 'close', accept: '*/*' },
    });
    req.once('socket', (socket: Socket) => {
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => { connected = true; });
    });
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      finish({ ok: target.expectStatus(status), reason: `HTTP ${status}` });
    });
    req.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? err.message;
      if (!connected) finish({ ok: false, reason: `connect ${code}` });
      else if (code.startsWith('HPE_')) finish({ ok: false, reason: `malformed answer (${code})` });
      else finish({ ok: false, reason: `closed before an answer (${code})` });
    });
    req.end();
    return () => { req.destroy(); };
  });
}

/**
 * Runs one probe to a single outcome: the first of its own verdict, the timeout, or the abort.
 * Whatever happens, the socket is destroyed and the timer cleared before the promise settles.
 */
function settleOnce(target: ProbeTarget, start: (finish: (result: ProbeResult) => void) => () => void): Promise<ProbeResult> {
  if (isIP(target.address) === 0) return Promise.resolve({ ok: false, reason: `${target.address} is not an IP address` });
  if (target.signal.aborted) return Promise.resolve({ ok: false, reason: 'aborted' });
  return new Promise((resolve) => {
    let done = false;
    let cleanup: () => void = () => undefined;
    const finish = (result: ProbeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      target.signal.removeEventListener('abort', onAbort);
      cleanup();
      resolve(result);
    };
    const onAbort = (): void => finish({ ok: false, reason: 'aborted' });
    const timer = setTimeout(() => finish({ ok: false, reason: `timeout after ${target.timeoutMs} ms` }), target.timeoutMs);
    timer.unref();
    target.signal.addEventListener('abort', onAbort, { once: true });
    cleanup = start(finish);
    // A verdict reached synchronously inside start() ran the no-op cleanup: run the real one.
    if (done) cleanup();
  });
}
