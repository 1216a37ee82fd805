import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';

export interface SpiffeHttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The SPIFFE ID the server authenticated with. */
  serverId: string;
}

/**
 * An HTTPS client for the `https_spiffe` profile: trusts only the given roots and checks
 * the server's SPIFFE ID (its URI SAN) instead of a host name.
 */
export function spiffeHttps(url: string, options: {
  rootsPem: string[]; expectServerId: string; method?: string; headers?: Record<string, string>; body?: string;
  certPem?: string; keyPem?: string;
}): Promise<SpiffeHttpsResponse> {
  return new Promise((resolve, reject) => {
    let serverId = '';
    const req = request(url, {
      method: options.method ?? 'GET',
      ca: options.rootsPem,
      ...(options.certPem === undefined ? {} : { cert: options.certPem, key: options.keyPem }),
      minVersion: 'TLSv1.3',
      headers: options.headers,
      timeout: 10_000,
      agent: false,
      checkServerIdentity: (_host, cert) => {
        serverId = new X509Certificate(cert.raw).subjectAltName?.replace(/^URI:/, '') ?? '';
        return serverId === options.expectServerId ? undefined : new Error(`server is ${serverId}, expected ${options.expectServerId}`);
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), serverId }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(options.body);
  });
}
