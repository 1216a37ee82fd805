// The HAProxy pair, in HTTP mode or TCP mode: plain in at A, mTLS with per-side CAs A → B
// (TLS 1.3 only, each side verifying the other against the other side's CA), plain to the
// backend. nbthread 1: one thread, as one gateway is one process.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PairCerts } from '../certs.js';
import { freePort, startProcess, waitListening, type BenchProcess } from '../processes.js';

const HAPROXY = '/usr/sbin/haproxy';

export interface HaproxyInstance {
  process: BenchProcess;
  port: number;
}

async function startHaproxy(name: string, dir: string, port: number, body: string, mode: 'http' | 'tcp'): Promise<HaproxyInstance> {
  const home = path.join(dir, name);
  await mkdir(home, { recursive: true });
  const config = path.join(home, 'haproxy.cfg');
  await writeFile(config, `
global
  nbthread 1
  maxconn 8000
  ssl-default-bind-options ssl-min-ver TLSv1.3
  ssl-default-server-options ssl-min-ver TLSv1.3
defaults
  mode ${mode}
  timeout connect 5s
  timeout client 60s
  timeout server 60s
${body}
`);
  // -db: foreground, no daemon, no master process: the pid is the one process doing the work.
  const process = startProcess(`haproxy ${name}`, HAPROXY, ['-db', '-f', config], path.join(home, 'haproxy.log'));
  await waitListening(port, process);
  return { process, port };
}

export async function startHaproxyPair(dir: string, certs: PairCerts, backendPort: number, mode: 'http' | 'tcp'): Promise<{ a: HaproxyInstance; b: HaproxyInstance }> {
  const portA = await freePort();
  const portB = await freePort();
  const b = await startHaproxy(`haproxy-${mode}-b`, dir, portB, `
frontend eastwest
  bind 127.0.0.1:${portB} ssl crt ${certs.serverB.combined} ca-file ${certs.caA} verify required
  default_backend local
backend local
  server backend 127.0.0.1:${backendPort}`, mode);
  const a = await startHaproxy(`haproxy-${mode}-a`, dir, portA, `
frontend outbound
  bind 127.0.0.1:${portA}
  default_backend remote
backend remote${mode === 'http' ? `
  # B is our own peer proxy: any idle A → B connection may carry any client's next request,
  # as Causeway's pooled streams do ("safe", the default, gives each client's first request a
  # connection of its own: a TLS handshake per request when clients do not keep alive).
  http-reuse always` : ''}
  server b 127.0.0.1:${portB} ssl crt ${certs.clientA.combined} ca-file ${certs.caB} verify required verifyhost ${certs.serverNameB} sni str(${certs.serverNameB})`, mode);
  return { a, b };
}
