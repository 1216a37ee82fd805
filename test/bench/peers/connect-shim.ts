// wrk cannot open a CONNECT tunnel, and this build's outbound listener has no fixed local
// port per upstream, so the TCP-port row puts socat in front: it accepts wrk's connections on
// a loopback port and opens one CONNECT tunnel through A's outbound listener per connection
// (socat's PROXY address, RFC 9110 §9.3.6) — what a TCP client of the mesh does. Its CPU is
// reported on its own line and is not counted as Causeway's.
import path from 'node:path';
import { freePort, startProcess, waitListening, type BenchProcess } from '../processes.js';

export interface ConnectShim {
  process: BenchProcess;
  port: number;
}

export async function startConnectShim(dir: string, proxy: string, target: { host: string; port: number }): Promise<ConnectShim> {
  const port = await freePort();
  const [proxyHost, proxyPort] = proxy.split(':');
  const process = startProcess('socat CONNECT shim', 'socat', [
    `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr,backlog=1024`,
    `PROXY:${proxyHost}:${target.host}:${target.port},proxyport=${proxyPort},nodelay`,
  ], path.join(dir, 'socat.log'));
  await waitListening(port, process);
  return { process, port };
}
