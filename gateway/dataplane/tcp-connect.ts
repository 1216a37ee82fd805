import { connect, isIP, type LookupFunction, type Socket } from 'node:net';
import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';
import { formatIpAddress } from './mesh-address.js';

/**
 * A lookup that always fails. net.connect only calls `lookup` for host names, and the data
 * plane only ever dials IP literals from the catalog; passing this makes a name that slipped
 * through an error instead of a silent DNS query (design brief: never resolved through DNS).
 */
export const refuseLookup: LookupFunction = (hostname, _options, callback) => {
  const err = Object.assign(new Error(`refusing to resolve "${hostname}": the data plane never uses DNS`), { code: 'ENOTFOUND' });
  process.nextTick(() => callback(err, '', 4));
};

/**
 * Opens a TCP connection to an IP literal, failing with CW_UPSTREAM_CONNECT when it does not
 * complete within `timeoutMs`. The socket allows half-open connections so that a FIN in one
 * direction (RFC 9293 §3.6) is carried through the tunnel instead of closing both directions.
 */
export function connectTcp(host: string, port: number, timeoutMs: number): Promise<Socket> {
  const where = formatIpAddress(host, port);
  if (isIP(host) === 0) {
    return Promise.reject(new CausewayError(ErrorCodes.UPSTREAM_CONNECT, `${host} is not an IP address; names are never resolved`));
  }
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, allowHalfOpen: true, lookup: refuseLookup });
    const timer = setTimeout(() => {
      fail(new CausewayError(ErrorCodes.UPSTREAM_CONNECT, `connect to ${where} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
    function fail(err: CausewayError): void {
      clearTimeout(timer);
      socket.removeListener('connect', onConnect);
      socket.destroy();
      reject(err);
    }
    function onConnect(): void {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      socket.setNoDelay(true);
      resolve(socket);
    }
    function onError(err: Error): void {
      fail(new CausewayError(ErrorCodes.UPSTREAM_CONNECT, `connect to ${where} failed: ${describeError(err)}`, { cause: err }));
    }
    socket.once('connect', onConnect);
    socket.once('error', onError);
  });
}
