import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A self-signed serving certificate for 127.0.0.1, made by openssl (as kubeadm's would be). */
function servingCertificate(): { cert: string; key: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kube-double-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=kube-apiserver', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    return { cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'), key: readFileSync(path.join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A test double of the Kubernetes API server (HTTPS, bearer tokens), faithful to the part Causeway uses: GET of a
 * namespaced Secret (`/api/v1/namespaces/{namespace}/secrets/{name}`) answering a v1 Secret
 * with base64 `data`, or a v1 `Status` failure (401 without the bearer token, 403 for a
 * namespace the token may not read, 404 for a missing Secret) — the shapes client-node parses.
 */
export class KubeApiDouble {
  private readonly server: Server;
  private readonly secrets = new Map<string, Record<string, string>>();
  readonly requests: string[] = [];
  readonly forbiddenNamespaces = new Set<string>();

  private readonly tls = servingCertificate();

  constructor(private readonly token: string) {
    this.server = createServer({ cert: this.tls.cert, key: this.tls.key }, (req, res) => this.handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Sets a Secret's data (plain text values; stored base64 as the API does). */
  putSecret(namespace: string, name: string, data: Record<string, string>): void {
    this.secrets.set(`${namespace}/${name}`, Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])));
  }

  /** A kubeconfig pointing at this double with its bearer token (or another one). */
  kubeconfig(server: string, token = this.token): string {
    return [
      'apiVersion: v1', 'kind: Config', 'current-context: test',
      'clusters:', '- name: test', '  cluster:', `    server: ${server}`,
      `    certificate-authority-data: ${Buffer.from(this.tls.cert).toString('base64')}`,
      'users:', '- name: test', '  user:', `    token: ${token}`,
      'contexts:', '- name: test', '  context:', '    cluster: test', '    user: test',
    ].join('\n');
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push(`${req.method} ${req.url}`);
    const status = (code: number, reason: string, message: string): void => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) return status(401, 'Unauthorized', 'Unauthorized');
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/?]+)/.exec(req.url ?? '');
    if (req.method !== 'GET' || match === null) return status(404, 'NotFound', 'the server could not find the requested resource');
    const [, namespace = '', name = ''] = match;
    if (this.forbiddenNamespaces.has(namespace)) {
      return status(403, 'Forbidden', `secrets "${name}" is forbidden: User cannot get resource "secrets" in the namespace "${namespace}"`);
    }
    const data = this.secrets.get(`${namespace}/${name}`);
    if (data === undefined) return status(404, 'NotFound', `secrets "${name}" not found`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      kind: 'Secret', apiVersion: 'v1', type: 'kubernetes.io/tls',
      metadata: { name, namespace, resourceVersion: '1', uid: `${namespace}-${name}` }, data,
    }));
  }
}
