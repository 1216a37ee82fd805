import { request } from 'node:http';
import { parseHostPort } from '../config/address.js';

export interface ProxyResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  latencyMs: number;
}

/**
 * A GET through a forward proxy, the way `curl -x` sends it: absolute-form request target
 * (RFC 9112 §3.2.2) to the proxy's address. The mesh name is never resolved here either.
 */
export function proxyGet(proxyAddress: string, url: string, timeoutMs = 10_000): Promise<ProxyResponse> {
  const proxy = parseHostPort(proxyAddress);
  if (typeof proxy === 'string') return Promise.reject(new Error(`proxy address ${proxy}`));
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: proxy.host, port: proxy.port, method: 'GET', path: url, headers: { host: new URL(url).host }, timeout: timeoutMs });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${proxyAddress} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({
        status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'),
        latencyMs: performance.now() - started,
      }));
    });
    req.end();
  });
}
