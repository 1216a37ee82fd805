import { isIP } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parses `host:port` or `[v6]:port` where host is an IP literal. Names are refused on
 * purpose: Causeway never resolves anything through DNS, so an address that needs a lookup
 * is a configuration error, not something to resolve at run time.
 */
export function parseHostPort(value: string): HostPort | string {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:[\]]+):(\d+)$/.exec(value);
  if (match === null) return `"${value}" is not host:port`;
  const host = match[1] ?? '';
  const port = Number(match[2]);
  if (isIP(host) === 0) return `"${host}" is not an IP address (names are never resolved)`;
  if (!Number.isInteger(port) || port < 0 || port > 65535) return `port ${match[2]} is out of range 0-65535`;
  return { host, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

export function isUnspecified(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}
