import path from 'node:path';
import { NAME_PATTERN, isPlainObject } from '../../registry/index.js';
import { formatHostPort, parseHostPort } from './address.js';
import { section } from './validate-limits.js';

/** One peering this gateway dials by itself with a bootstrap credential (docs/configuration.md, "Peering"). */
export interface BootstrapPeerConfig {
  /** The dialled gateway's cluster name: the peer's name here, and the credential's `to`. */
  name: string;
  /** Its federation address, `IP:port` (formatted as peers exchange it). */
  address: string;
  /** Absolute path of the file holding the `cwbt1.` credential. */
  credentialFile: string;
}

/** `peering:` — peerings made from files at start, without an operator running `peer token` / `peer add`. */
export interface PeeringConfig {
  /** Absolute path of the key that bootstrap credentials presented to this gateway are derived from; absent: none accepted. */
  bootstrapKeyFile?: string;
  peers: readonly BootstrapPeerConfig[];
}

/**
 * Validates the structure only: the files are read (and their contents checked) when the
 * gateway starts or reloads (gateway/config/peering-files.ts), so that a config can be
 * validated on a machine that does not hold its secrets (`causeway config validate`).
 */
export function validatePeering(value: unknown, cluster: string, base: string, errors: string[]): PeeringConfig {
  const raw = section(value, 'peering', ['bootstrapKeyFile', 'peers'], errors);
  const result: { bootstrapKeyFile?: string; peers: BootstrapPeerConfig[] } = { peers: [] };
  const file = (v: unknown, at: string): string | undefined => {
    if (typeof v === 'string' && v.trim() !== '') return path.resolve(base, v);
    errors.push(`${at}: must be a file path (relative to the config file)`);
    return undefined;
  };
  if (raw.bootstrapKeyFile !== undefined) {
    const key = file(raw.bootstrapKeyFile, 'peering.bootstrapKeyFile');
    if (key !== undefined) result.bootstrapKeyFile = key;
  }
  if (raw.peers === undefined) return result;
  if (!Array.isArray(raw.peers)) {
    errors.push('peering.peers: must be a list of { name, address, credentialFile }');
    return result;
  }
  const names = new Set<string>();
  raw.peers.forEach((entry: unknown, i) => {
    const at = `peering.peers[${i}]`;
    if (!isPlainObject(entry)) {
      errors.push(`${at}: must be a mapping of name, address, credentialFile`);
      return;
    }
    section(entry, at, ['name', 'address', 'credentialFile'], errors);
    const before = errors.length;
    const name = typeof entry.name === 'string' ? entry.name : '';
    if (entry.name === undefined) errors.push(`${at}.name: is required (the dialled gateway's cluster name)`);
    else if (!NAME_PATTERN.test(name)) errors.push(`${at}.name: ${JSON.stringify(entry.name)} is not a DNS-1123 label`);
    else if (name === cluster) errors.push(`${at}.name: "${name}" is this gateway's own cluster`);
    else if (names.has(name)) errors.push(`${at}.name: "${name}" is listed twice`);
    names.add(name);
    let address = '';
    if (entry.address === undefined) errors.push(`${at}.address: is required (the dialled gateway's federation address, IP:port)`);
    else {
      const parsed = typeof entry.address === 'string' ? parseHostPort(entry.address) : 'it is not a string';
      if (typeof parsed === 'string') errors.push(`${at}.address: must be IP:port such as "10.0.2.7:15012" (${parsed})`);
      else if (parsed.port === 0) errors.push(`${at}.address: port 0 cannot be dialled`);
      else address = formatHostPort(parsed);
    }
    const credentialFile = entry.credentialFile === undefined ? undefined : file(entry.credentialFile, `${at}.credentialFile`);
    if (entry.credentialFile === undefined) errors.push(`${at}.credentialFile: is required (the file holding its cwbt1. credential)`);
    if (errors.length === before && credentialFile !== undefined) result.peers.push({ name, address, credentialFile });
  });
  return result;
}
