import { isIP } from 'node:net';

/**
 * Checks `host:port` or `[v6]:port` with an IP literal host and a port 1-65535 — the form of
 * federation and east-west addresses peers exchange. Names are refused: Causeway never
 * resolves anything through DNS. Returns the problem as text, or undefined when valid.
 */
export function hostPortProblem(value: string): string | undefined {
  const match = /^\[([^\]]+)\]:(\d{1,5})$/.exec(value) ?? /^([^:[\]]+):(\d{1,5})$/.exec(value);
  if (match === null) return `"${value}" is not host:port`;
  const host = match[1] ?? '';
  const port = Number(match[2]);
  const family = isIP(host);
  if (family === 0) return `"${host}" is not an IP address (names are never resolved)`;
  if (family === 6 && !value.startsWith('[')) return `"${value}": an IPv6 address needs brackets, [${host}]:port`;
  if (port < 1 || port > 65535) return `port ${match[2]} is out of range 1-65535`;
  return undefined;
}

/** The gRPC target for a validated host:port (IPv6 keeps its brackets, as grpc-js expects). */
export function grpcTarget(hostPort: string): string {
  return `ipv${hostPort.startsWith('[') ? '6' : '4'}:${hostPort}`;
}
