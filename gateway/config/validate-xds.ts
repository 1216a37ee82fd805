import { isPlainObject } from '../../registry/index.js';
import { parseHostPort, type HostPort } from './address.js';
import { section } from './validate-limits.js';

/** `xds:` — the xDS server for Envoy and proxyless gRPC clients (docs/xds.md). Absent: none. */
export interface XdsConfig {
  /** Where the ADS listener binds (design brief port 15010). */
  listen: HostPort;
  /**
   * Also serve plaintext clients, each named by its source address (needs
   * outbound.identifyCallersBySourceAddress): for xDS clients that cannot use TLS to their
   * control plane, such as grpc-js. Off: mTLS with an SVID of this trust domain only.
   */
  plaintext: boolean;
}

export const DEFAULT_XDS_PORT = 15010;

export function validateXds(value: unknown, identifyCallersBySourceAddress: boolean, errors: string[]): XdsConfig | undefined {
  if (value === undefined) return undefined;
  const raw = section(value, 'xds', ['listen', 'plaintext'], errors);
  if (!isPlainObject(value)) return undefined;
  let listen: HostPort = { host: '127.0.0.1', port: DEFAULT_XDS_PORT };
  if (raw.listen !== undefined) {
    const parsed = typeof raw.listen === 'string' ? parseHostPort(raw.listen) : 'it is not a string';
    if (typeof parsed === 'string') errors.push(`xds.listen: must be host:port such as "127.0.0.1:15010" (${parsed})`);
    else listen = parsed;
  }
  if (raw.plaintext !== undefined && typeof raw.plaintext !== 'boolean') errors.push('xds.plaintext: must be true or false');
  const plaintext = raw.plaintext === true;
  if (plaintext && !identifyCallersBySourceAddress) {
    errors.push('xds.plaintext: needs outbound.identifyCallersBySourceAddress: true (a plaintext client is named by its source address, or refused)');
  }
  return { listen, plaintext };
}
