// The six paths of one run, all in front of the same nginx backend, started once and left
// idle while another path is measured. Each path says where the load enters, which
// processes are its proxies (whose CPU is divided by its requests), and how curl reaches the
// backend's 1 GB file through it.
import { chmod, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { makePairCerts } from './certs.js';
import { startConnectShim } from './peers/connect-shim.js';
import { MESH, startCausewayPair, type CausewayPair } from './peers/causeway.js';
import { startGrpcBackend } from './peers/grpc-backend.js';
import { startHaproxyPair } from './peers/haproxy.js';
import { startBackend, startNginxPair } from './peers/nginx.js';
import type { TransferOptions } from './load/curl.js';

export type PathId = 'direct' | 'haproxy-http' | 'haproxy-tcp' | 'nginx' | 'causeway-http' | 'causeway-tcp';

export interface BenchPath {
  id: PathId;
  label: string;
  /** Where wrk and the open-loop client connect, the request target and Host they send. */
  port: number;
  target: string;
  host: string;
  transfer: Pick<TransferOptions, 'url' | 'proxy' | 'tunnel'>;
  /** The path's proxy processes (A, B), whose CPU per request is the comparison. */
  proxies: Record<string, number>;
  /** Processes that are neither proxy nor backend (the CONNECT shim), reported apart. */
  helpers: Record<string, number>;
  note?: string;
}

export interface StartedPaths {
  paths: BenchPath[];
  backendPid: number;
  causeway: CausewayPair;
  grpcBackend: { pid: number; port: number };
}

/**
 * `/1k` is 1024 bytes; `/1g` is a sparse file, so it costs no disk and is read from the page
 * cache. nginx's worker drops root for `nobody`: the run's temp dir (0700 from mkdtemp) becomes
 * traversable but not listable, and only www/ is readable.
 */
async function writeContent(dir: string, www: string, transferBytes: number): Promise<void> {
  await chmod(dir, 0o711);
  await mkdir(www, { recursive: true, mode: 0o755 });
  const small = await open(path.join(www, '1k'), 'w');
  await small.write(Buffer.alloc(1024, 'x'));
  await small.close();
  const big = await open(path.join(www, '1g'), 'w');
  await big.truncate(transferBytes);
  await big.close();
}

export async function startPaths(dir: string, transferBytes: number): Promise<StartedPaths> {
  const www = path.join(dir, 'www');
  await writeContent(dir, www, transferBytes);
  const certs = await makePairCerts(dir);
  const backend = await startBackend(dir, www);
  const grpcBackend = await startGrpcBackend(dir);
  const haproxyHttp = await startHaproxyPair(dir, certs, backend.port, 'http');
  const haproxyTcp = await startHaproxyPair(dir, certs, backend.port, 'tcp');
  const nginx = await startNginxPair(dir, certs, backend.port);
  const causeway = await startCausewayPair(dir, backend.port, grpcBackend.port);
  const shim = await startConnectShim(dir, causeway.outbound, MESH.tcp);
  const outboundPort = Number(causeway.outbound.split(':')[1]);
  const local = (port: number): Pick<BenchPath, 'port' | 'target' | 'host' | 'transfer'> =>
    ({ port, target: '/1k', host: `127.0.0.1:${port}`, transfer: { url: `http://127.0.0.1:${port}/1g` } });
  const pair = (a: { process: { pid: number } }, b: { process: { pid: number } }): Record<string, number> => ({ A: a.process.pid, B: b.process.pid });
  const web = `${MESH.http.host}:${MESH.http.port}`;
  const raw = `${MESH.tcp.host}:${MESH.tcp.port}`;
  const paths: BenchPath[] = [
    { id: 'direct', label: 'direct to the backend', ...local(backend.port), proxies: {}, helpers: {} },
    { id: 'haproxy-http', label: 'HAProxy pair, HTTP mode', ...local(haproxyHttp.a.port), proxies: pair(haproxyHttp.a, haproxyHttp.b), helpers: {} },
    { id: 'haproxy-tcp', label: 'HAProxy pair, TCP mode', ...local(haproxyTcp.a.port), proxies: pair(haproxyTcp.a, haproxyTcp.b), helpers: {} },
    { id: 'nginx', label: 'nginx pair', ...local(nginx.a.port), proxies: pair(nginx.a, nginx.b), helpers: {} },
    {
      id: 'causeway-http', label: 'Causeway A → B, HTTP port', port: outboundPort, target: `http://${web}/1k`, host: web,
      transfer: { url: `http://${web}/1g`, proxy: causeway.outbound },
      proxies: { A: causeway.a.child.pid!, B: causeway.b.child.pid! }, helpers: {},
      note: 'absolute-form requests to A\'s outbound listener',
    },
    {
      id: 'causeway-tcp', label: 'Causeway A → B, TCP port', port: shim.port, target: '/1k', host: raw,
      transfer: { url: `http://${raw}/1g`, proxy: causeway.outbound, tunnel: true },
      proxies: { A: causeway.a.child.pid!, B: causeway.b.child.pid! }, helpers: { shim: shim.process.pid },
      note: 'one CONNECT tunnel per client connection, opened by a socat shim (wrk cannot CONNECT; curl -p does for the transfer)',
    },
  ];
  return { paths, backendPid: backend.process.pid, causeway, grpcBackend: { pid: grpcBackend.process.pid, port: grpcBackend.port } };
}
