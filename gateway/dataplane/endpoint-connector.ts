import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { CausewayError, ErrorCodes, describeError, type Endpoint } from '../../registry/index.js';
import { mtlsClientOptions, type SvidSource, type TrustReader } from '../../federation/index.js';
import { formatIpAddress } from './mesh-address.js';
import { connectTcp, refuseLookup } from './tcp-connect.js';

/** What a listener needs to reach endpoints behind an agent's sidecar: its own SVID and our bundle. */
export interface SidecarCredentials {
  svid: SvidSource;
  trust: TrustReader;
  trustDomain: string;
}

/** ALPN of the sidecar hop: bytes for one local port, nothing else (design brief: the agent is a small edge gateway). */
export const SIDECAR_ALPN = 'causeway-sidecar/1';

/**
 * The TLS server name that tells the agent's inbound listener which local port a connection is
 * for. SNI is the one field of the ClientHello (RFC 6066 §3) a TLS server sees before it
 * answers, so the sidecar can refuse a port it does not serve in the handshake. The `.invalid`
 * TLD (RFC 6761 §6.4) keeps it from ever meaning a real DNS name.
 */
export function sidecarServerName(port: number): string {
  return `port-${port}.sidecar.invalid`;
}

/** The local port a sidecar server name asks for, or undefined when it is not one. */
export function portOfSidecarServerName(name: string | false | null | undefined): number | undefined {
  const match = typeof name === 'string' ? /^port-(\d{1,5})\.sidecar\.invalid$/.exec(name) : null;
  const port = match === null ? NaN : Number(match[1]);
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
}

type Target = Pick<Endpoint, 'address' | 'identity' | 'sidecarPort'>;

/**
 * A byte stream to `port` of `endpoint`. An ordinary endpoint is dialed over TCP. An endpoint
 * behind a sidecar (`sidecarPort`) is dialed with mTLS at the sidecar: our SVID as the client
 * certificate, only our own trust domain's roots, and the server must be the endpoint's own
 * workload identity — so a host that took over the address cannot pose as the service.
 */
export function connectEndpoint(endpoint: Target, port: number, timeoutMs: number, sidecar: SidecarCredentials | undefined): Promise<Socket> {
  if (endpoint.sidecarPort === undefined) return connectTcp(endpoint.address, port, timeoutMs);
  const where = `${formatIpAddress(endpoint.address, endpoint.sidecarPort)} (sidecar of port ${port})`;
  return new Promise((resolve, reject) => {
    let socket: TLSSocket;
    try {
      socket = sidecarConnection(endpoint, port, sidecar);
    } catch (err) {
      reject(err);
      return;
    }
    const timer = setTimeout(() => fail(new Error(`no TLS session within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    function fail(err: Error): void {
      clearTimeout(timer);
      socket.removeListener('secureConnect', onSecure);
      socket.destroy();
      reject(new CausewayError(ErrorCodes.UPSTREAM_CONNECT, `connect to ${where} failed: ${describeError(err)}`, { cause: err }));
    }
    function onSecure(): void {
      clearTimeout(timer);
      socket.removeListener('error', fail);
      resolve(socket);
    }
    socket.once('secureConnect', onSecure);
    socket.once('error', fail);
  });
}

/**
 * The connection itself, returned at once (http2.connect's createConnection wants it
 * synchronously); it is usable after 'secureConnect'.
 */
export function sidecarConnection(endpoint: Target, port: number, sidecar: SidecarCredentials | undefined): TLSSocket {
  if (endpoint.sidecarPort === undefined) throw new Error('sidecarConnection: the endpoint has no sidecar');
  if (sidecar === undefined) {
    throw new CausewayError(ErrorCodes.UPSTREAM_CONNECT, `${endpoint.address} is reached through an agent sidecar, and this listener has no SVID to present to it`);
  }
  // allowHalfOpen is read by tls.connect (it reaches the TLSSocket) though @types/node omits it:
  // a FIN in one direction is carried through the tunnel, as for a TCP endpoint.
  const options: ConnectionOptions & { allowHalfOpen: boolean; noDelay: boolean } = {
    ...mtlsClientOptions({
      svid: sidecar.svid.current(), trust: sidecar.trust, expectTrustDomain: sidecar.trustDomain, expectSpiffeId: endpoint.identity,
      alpn: [SIDECAR_ALPN], servername: sidecarServerName(port),
    }),
    host: endpoint.address, port: endpoint.sidecarPort, lookup: refuseLookup, allowHalfOpen: true, noDelay: true,
  };
  return tlsConnect(options);
}
