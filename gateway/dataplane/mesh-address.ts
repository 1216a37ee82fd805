import { isIP } from 'node:net';
import { NAME_PATTERN, type ServiceKey } from '../../registry/index.js';

/** `<service>.<namespace>:<port>` as a caller names a mesh service (design brief, east-west `:authority`). */
export interface MeshAuthority {
  key: ServiceKey;
  name: string;
  namespace: string;
  port: number;
}

/**
 * Parses a mesh host (`echo.demo`) and port. Returns a reason string when the host is not
 * shaped like a service key: such a host can never be in the catalog, and it is never
 * handed to DNS either — Causeway only connects to IP literals taken from the catalog.
 */
export function parseMeshHost(host: string, port: number): MeshAuthority | string {
  const dot = host.indexOf('.');
  const name = dot < 0 ? host : host.slice(0, dot);
  const namespace = dot < 0 ? '' : host.slice(dot + 1);
  if (!NAME_PATTERN.test(name) || !NAME_PATTERN.test(namespace)) {
    return `"${host}" is not a mesh service name <service>.<namespace>`;
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `port ${port} is out of range 1-65535`;
  return { key: `${name}.${namespace}`, name, namespace, port };
}

/**
 * Parses an authority-form target `<service>.<namespace>:<port>` (RFC 9112 §3.2.3 for HTTP/1.1
 * CONNECT; RFC 7540 §8.3 `:authority` for HTTP/2 CONNECT). The port is mandatory there.
 */
export function parseMeshAuthority(authority: string): MeshAuthority | string {
  const match = /^([^:]+):(\d{1,5})$/.exec(authority);
  if (match === null) return `"${authority}" is not <service>.<namespace>:<port>`;
  return parseMeshHost((match[1] ?? '').toLowerCase(), Number(match[2]));
}

export function formatMeshAuthority(target: Pick<MeshAuthority, 'key' | 'port'>): string {
  return `${target.key}:${target.port}`;
}

/** An IP literal and port: the only kind of address the data plane ever dials. */
export interface IpAddress {
  host: string;
  port: number;
}

/**
 * Parses `ip:port` or `[v6]:port` (a gateway's east-west address). A name is refused rather
 * than resolved: an address that needs DNS is a bad catalog entry, not something to look up.
 */
export function parseIpAddress(value: string): IpAddress | string {
  const match = /^\[([^\]]+)\]:(\d{1,5})$/.exec(value) ?? /^([^:[\]]+):(\d{1,5})$/.exec(value);
  if (match === null) return `"${value}" is not ip:port`;
  const host = match[1] ?? '';
  const port = Number(match[2]);
  if (isIP(host) === 0) return `"${host}" is not an IP address (names are never resolved)`;
  if (port < 1 || port > 65535) return `port ${port} is out of range 1-65535`;
  return { host, port };
}

export function formatIpAddress(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** What a `causeway-endpoint` header may hold; anything else from a peer is dropped, not echoed. */
export function isIpAddressText(value: string): boolean {
  return typeof parseIpAddress(value) !== 'string';
}
