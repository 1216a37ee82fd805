// Test fixture: a remote gateway's east-west listener in a process of its own, so that a test
// can freeze it with SIGSTOP (a blackholed gateway: its sockets stay open, nothing answers) and
// thaw it with SIGCONT. Real TLS, real HTTP/2, a TCP echo backend in the same process.
//
// Run as `node eastwest-process.js '<json>'` with { dir, peerTrustDomain, peerBundle, port? }.
// Prints one JSON line { port, identity, trustDomain, bundle } once listening; SIGTERM ends it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Catalog, type GatewayRecord } from '../../../../registry/index.js';
import { CertificateAuthority, SvidRotator, TrustStore, decodeBundle, encodeBundle } from '../../../../federation/index.js';
import { EastWestServer } from '../../../../gateway/dataplane/eastwest-server.js';
import { endpointOf, recordOf } from './sides.js';

interface Args {
  dir: string;
  peerTrustDomain: string;
  peerBundle: string;
  port?: number;
}

interface Ready {
  port: number;
  identity: string;
  trustDomain: string;
  bundle: string;
}

export const FROZEN_CLUSTER = 'f';

async function main(args: Args): Promise<void> {
  const trustDomain = `${FROZEN_CLUSTER}.test`;
  const ca = await CertificateAuthority.loadOrCreate({ dir: path.join(args.dir, 'ca'), trustDomain });
  const svid = new SvidRotator({ ca, spiffeId: `spiffe://${trustDomain}/gateway/gw-${FROZEN_CLUSTER}`, ttlSeconds: 3600 });
  const trust = new TrustStore();
  trust.set(ca.bundle());
  trust.set(decodeBundle(args.peerTrustDomain, args.peerBundle));
  const echo = createTcpServer({ allowHalfOpen: true }, (socket) => {
    socket.on('data', (chunk) => socket.write(chunk));
    socket.on('end', () => socket.end('bye'));
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const catalog = new Catalog({ localCluster: FROZEN_CLUSTER });
  catalog.applyLocal(recordOf(FROZEN_CLUSTER, 'tcpecho', [endpointOf((echo.address() as AddressInfo).port)]));
  const server = new EastWestServer({
    svid, trust, catalog, localTrustDomain: trustDomain,
    access: () => [{ to: '*', from: [`spiffe://${args.peerTrustDomain}/*`] }],
    connectTimeoutMs: 1000,
  });
  const bound = await server.listen('127.0.0.1', args.port ?? 0);
  const ready: Ready = { port: bound.port, identity: svid.current().spiffeId, trustDomain, bundle: encodeBundle(ca.bundle()) };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  process.once('SIGTERM', () => {
    void server.close(0).then(() => {
      echo.close();
      svid.close();
      process.exit(0);
    });
  });
}

/** A running child: its gateway record (cluster `f`), and the signals a test sends it. */
export interface RemoteGatewayProcess {
  gateway: GatewayRecord;
  trustDomain: string;
  bundle: string;
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

/** Starts the child and waits for it to listen. */
export async function startRemoteGateway(args: Args): Promise<RemoteGatewayProcess> {
  const script = fileURLToPath(import.meta.url);
  const child: ChildProcess = spawn(process.execPath, [script, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = await new Promise<Ready>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split('\n')[0];
      if (text.includes('\n') && line !== undefined) resolve(JSON.parse(line) as Ready);
    });
    child.once('exit', (code, signal) => reject(new Error(`east-west child exited (${code ?? signal}) before listening`)));
  });
  const gateway: GatewayRecord = {
    cluster: FROZEN_CLUSTER, trustDomain: ready.trustDomain, identity: ready.identity, eastWestAddress: `127.0.0.1:${ready.port}`,
    locality: { cloud: 'local', region: 'region-f', zone: 'z1', cluster: FROZEN_CLUSTER },
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    gateway, trustDomain: ready.trustDomain, bundle: ready.bundle,
    freeze: () => child.kill('SIGSTOP'),
    thaw: () => child.kill('SIGCONT'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // A frozen child cannot act on SIGTERM until it runs again.
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] !== undefined) {
  main(JSON.parse(process.argv[2]) as Args).catch((err: unknown) => {
    process.stderr.write(`east-west child failed: ${String(err)}\n`);
    process.exit(1);
  });
}
