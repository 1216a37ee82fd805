import { checkFields, isPlainObject } from '../../registry/index.js';
import { parseMeshAuthority, type MeshAuthority } from '../dataplane/mesh-address.js';
import { formatHostPort, isUnspecified, parseHostPort, type HostPort } from './address.js';
import type { ListenerAddresses } from './gateway-config.js';

/** One fixed local forward port (`outbound.forward[]`): every connection to `listen` is a tunnel to `service`. */
export interface ForwardConfig {
  listen: HostPort;
  service: MeshAuthority;
}

/** An address some listener already takes, and the config path that takes it. */
export interface TakenAddress {
  at: string;
  address: HostPort;
}

/**
 * `outbound.forward` — for TCP (and Consul-native) clients that cannot be told to use a
 * proxy: `listen` an IP literal and port, `service` a mesh authority `<name>.<namespace>:<port>`.
 * Two entries may not bind the same address, nor one a listener's; `0.0.0.0`/`::` take the
 * port on every address. Port 0 picks a free port (tests) and clashes with nothing.
 */
export function validateForwards(value: unknown, taken: readonly TakenAddress[], errors: string[]): ForwardConfig[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    errors.push('outbound.forward: must be a list of { listen: "<ip>:<port>", service: "<name>.<namespace>:<port>" }');
    return [];
  }
  const forwards: ForwardConfig[] = [];
  const seen: TakenAddress[] = [...taken];
  value.forEach((item: unknown, i) => {
    const at = `outbound.forward[${i}]`;
    if (!isPlainObject(item)) {
      errors.push(`${at}: must be a mapping { listen: "<ip>:<port>", service: "<name>.<namespace>:<port>" }`);
      return;
    }
    checkFields(item, ['listen', 'service'], at, errors);
    const listen = readListen(item.listen, `${at}.listen`, errors);
    const service = readService(item.service, `${at}.service`, errors);
    if (listen !== undefined) {
      const clash = seen.find((t) => clashes(t.address, listen));
      if (clash !== undefined) errors.push(`${at}.listen: ${formatHostPort(listen)} is already taken by ${clash.at} (${formatHostPort(clash.address)})`);
      seen.push({ at: `${at}.listen`, address: listen });
    }
    if (listen !== undefined && service !== undefined) forwards.push({ listen, service });
  });
  return forwards;
}

/** The addresses the gateway's own listeners take (`listen.*`). */
export function takenByListeners(listen: ListenerAddresses): TakenAddress[] {
  return (Object.keys(listen) as Array<keyof ListenerAddresses>).map((key) => ({ at: `listen.${key}`, address: listen[key] }));
}

/** Two binds that cannot both succeed: the same port on the same address, or on every address. */
export function clashes(a: HostPort, b: HostPort): boolean {
  if (a.port === 0 || b.port === 0 || a.port !== b.port) return false;
  return a.host === b.host || isUnspecified(a.host) || isUnspecified(b.host);
}

function readListen(value: unknown, at: string, errors: string[]): HostPort | undefined {
  return read(value, at, errors, '"<ip>:<port>", such as "127.0.0.1:9001"', parseHostPort, '');
}

function readService(value: unknown, at: string, errors: string[]): MeshAuthority | undefined {
  return read(value, at, errors, '"<name>.<namespace>:<port>", such as "echo.demo:8080"', parseMeshAuthority, ' (a mesh service "<name>.<namespace>:<port>", such as "echo.demo:8080")');
}

/** A required string field parsed by `parse` (which returns a reason when it refuses). */
function read<T>(value: unknown, at: string, errors: string[], shape: string, parse: (text: string) => T | string, after: string): T | undefined {
  if (typeof value !== 'string' || value === '') {
    errors.push(`${at}: ${value === undefined ? 'is required' : 'must be a string'} (${shape})`);
    return undefined;
  }
  const parsed = parse(value);
  if (typeof parsed === 'string') {
    errors.push(`${at}: ${parsed}${after}`);
    return undefined;
  }
  return parsed;
}
