import { connect, type IncomingHttpHeaders } from 'node:http2';

export interface ProbeCredentials {
  certPem?: string;
  keyPem?: string;
  /** The server's root: we check only that the handshake completes, not the server's name. */
  caPem: string;
}

export type ProbeResult = { outcome: 'answered'; status: number; headers: IncomingHttpHeaders } | { outcome: 'refused'; error: string };

/**
 * Opens an HTTP/2 session over TLS 1.3 to a gateway port with the given client
 * certificate and sends one request. "refused" means the connection was torn down before
 * any response arrived — what a gateway does to a certificate it does not accept.
 */
export function h2Probe(address: string, credentials: ProbeCredentials, headers: Record<string, string>, timeoutMs = 10_000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const session = connect(`https://${address}`, {
      ca: credentials.caPem,
      ...(credentials.certPem === undefined ? {} : { cert: credentials.certPem, key: credentials.keyPem }),
      minVersion: 'TLSv1.3',
      checkServerIdentity: () => undefined,
    });
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ outcome: 'refused', error: 'timeout' }), timeoutMs);
    session.on('error', (err) => finish({ outcome: 'refused', error: err.message }));
    session.on('close', () => finish({ outcome: 'refused', error: 'closed' }));
    const stream = session.request(headers);
    stream.on('response', (h) => finish({ outcome: 'answered', status: Number(h[':status']), headers: h }));
    stream.on('error', (err) => finish({ outcome: 'refused', error: err.message }));
    stream.on('close', () => finish({ outcome: 'refused', error: `stream closed (code ${stream.rstCode})` }));
    if (headers[':method'] !== 'CONNECT') stream.end();
  });
}
