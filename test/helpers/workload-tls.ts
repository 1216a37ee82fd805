import { execFile } from 'node:child_process';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect as h2connect, type IncomingHttpHeaders as H2Headers } from 'node:http2';
import { connect as tlsConnect, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';
import { checkServerSpiffeId } from '../../federation/index.js';

/**
 * A workload calling the outbound listener with mTLS, as a SPIFFE-aware client does: it
 * presents its X.509-SVID, trusts only its trust domain's bundle, and checks the gateway by
 * its SPIFFE ID (there is no host name to check).
 */
export interface WorkloadCredentials {
  certPem?: string;
  keyPem?: string;
  /** The roots the client trusts (its own trust domain's bundle). */
  caPem: readonly string[];
  /** The gateway's SPIFFE ID the client expects; with `trustDomain`. */
  expectServerId: string;
  trustDomain: string;
}

export type WorkloadAnswer =
  | { outcome: 'answered'; status: number; headers: IncomingHttpHeaders | H2Headers; body: string; alpn: string | false | null; serverId: string }
  | { outcome: 'refused'; error: string };

function serverIdOf(cert: PeerCertificate): string {
  return (cert.subjectaltname ?? '').replace(/^URI:/, '');
}

function tlsOptions(port: number, creds: WorkloadCredentials, alpn: string[] | undefined): ConnectionOptions {
  return {
    host: '127.0.0.1', port, ca: [...creds.caPem], minVersion: 'TLSv1.3',
    ...(creds.certPem === undefined ? {} : { cert: creds.certPem, key: creds.keyPem }),
    ...(alpn === undefined ? {} : { ALPNProtocols: alpn }),
    checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerSpiffeId(cert, creds.trustDomain, creds.expectServerId),
  };
}

/**
 * One HTTP/1.1 request over TLS to the outbound listener (`path` absolute-form, as to a
 * proxy, or `CONNECT`-free origin-form with a mesh Host). `alpn` undefined: no ALPN at all,
 * as curl's HTTPS proxy client. "refused" = the connection ended before any answer.
 */
export function tlsHttp1(
  port: number, creds: WorkloadCredentials,
  request: { method?: string; path: string; headers?: Record<string, string>; body?: string; alpn?: string[] },
  timeoutMs = 10_000,
): Promise<WorkloadAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    let socket: TLSSocket | undefined;
    const finish = (answer: WorkloadAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => finish({ outcome: 'refused', error: 'timeout' }), timeoutMs);
    const req = httpRequest({
      method: request.method ?? 'GET', path: request.path, headers: { connection: 'close', ...request.headers },
      createConnection: () => {
        socket = tlsConnect(tlsOptions(port, creds, request.alpn));
        return socket;
      },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => finish({
        outcome: 'answered', status: res.statusCode ?? 0, headers: res.headers, body,
        alpn: socket?.alpnProtocol ?? null, serverId: socket === undefined ? '' : serverIdOf(socket.getPeerCertificate()),
      }));
      res.on('error', (err) => finish({ outcome: 'refused', error: err.message }));
    });
    req.on('error', (err) => finish({ outcome: 'refused', error: err.message }));
    req.end(request.body);
  });
}

/** One HTTP/2 request over TLS (ALPN h2) to the outbound listener, `:authority` the mesh name. */
export function tlsH2(port: number, creds: WorkloadCredentials, headers: Record<string, string>, body?: string, timeoutMs = 10_000): Promise<WorkloadAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    const session = h2connect(`https://127.0.0.1:${port}`, { ...tlsOptions(port, creds, ['h2']) });
    const finish = (answer: WorkloadAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => finish({ outcome: 'refused', error: 'timeout' }), timeoutMs);
    session.on('error', (err) => finish({ outcome: 'refused', error: err.message }));
    session.on('close', () => finish({ outcome: 'refused', error: 'session closed' }));
    const stream = session.request({ ':method': 'GET', ':path': '/', ...headers });
    let status = 0;
    let answered: H2Headers = {};
    let text = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => {
      status = Number(h[':status']);
      answered = h;
    });
    stream.on('data', (chunk: string) => { text += chunk; });
    stream.on('end', () => {
      const socket = session.socket as TLSSocket;
      finish(status === 0 ? { outcome: 'refused', error: 'no answer' } : {
        outcome: 'answered', status, headers: answered, body: text, alpn: session.alpnProtocol ?? null, serverId: serverIdOf(socket.getPeerCertificate()),
      });
    });
    stream.on('error', (err) => finish({ outcome: 'refused', error: err.message }));
    stream.end(body);
  });
}

/** curl, with --silent --show-error and a deadline; never throws. */
export function curl(args: string[], timeoutSeconds = 20): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['--silent', '--show-error', '--max-time', String(timeoutSeconds), ...args], (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}
