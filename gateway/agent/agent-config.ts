import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import {
  CausewayError, ErrorCodes, NAME_PATTERN, describeError, isPlainObject, validateExportTo, validateServicePort,
  type ServicePort,
} from '../../registry/index.js';
import { parseSpiffeId } from '../../federation/index.js';
import { parseHostPort, type HostPort } from '../config/address.js';
import { parseMeshAuthority } from '../dataplane/mesh-address.js';
import { readers, section } from '../config/validate-limits.js';
import { parseCheck, type ServiceCheck } from './service-check-config.js';
import type { ForwardPort } from './agent-outbound.js';

/** One service on this host, as the agent registers it. */
export interface AgentService {
  name: string;
  namespace: string;
  /** Mesh ports; `targetPort` is where the service listens on this host (default `port`). */
  ports: Array<ServicePort & { targetPort?: number }>;
  export: boolean;
  /** The peers it is exported to (peer names, `key=value` selectors); undefined: every peer. */
  exportTo?: string[];
  labels: Record<string, string>;
  weight: number | undefined;
  check: ServiceCheck | undefined;
}

/** `causeway agent --config FILE` (docs/vm.md has every field). */
export interface AgentConfig {
  dataDir: string;
  joinTokenFile: string | undefined;
  identity: string | undefined;
  gateway: {
    /** The identity listener (agent channel, SVIDs); default: the address in the join token. */
    identity: HostPort | undefined;
    /** The gateway's outbound listener for this host's apps; default: the identity host, port 15001. */
    outbound: HostPort | undefined;
  };
  kind: 'vm' | 'metal';
  /** The address the gateway reaches this host's endpoints at; default: the channel's source address. */
  address: string | undefined;
  locality: { cloud?: string; region?: string; zone?: string };
  /** The sidecar's inbound mTLS listener; undefined (`inbound: false`) registers plain endpoints. */
  inbound: HostPort | undefined;
  outbound: { listen: HostPort | undefined; forward: ForwardPort[] };
  services: AgentService[];
  /** Reconnect backoff cap of the agent channel. */
  maxBackoffMs: number;
  logLevel: string;
}

const TOP_FIELDS = ['dataDir', 'joinTokenFile', 'identity', 'gateway', 'kind', 'address', 'locality', 'inbound', 'outbound', 'services', 'maxBackoff', 'logLevel'];
const SERVICE_FIELDS = ['name', 'namespace', 'ports', 'export', 'exportTo', 'labels', 'weight', 'check'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function parseAgentConfigText(text: string, file?: string): AgentConfig {
  const where = file ?? 'agent config';
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    const problems = document.errors.map((e) => `${e.code}: ${e.message.split('\n')[0] ?? ''}`);
    throw new CausewayError(ErrorCodes.CONFIG_INVALID, `${where}: not valid YAML: ${problems[0] ?? ''}`, { details: problems });
  }
  return validateAgentConfig(document.toJS({ maxAliasCount: 100 }), file === undefined ? process.cwd() : path.dirname(path.resolve(file)), where);
}

export async function loadAgentConfig(file: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CausewayError(ErrorCodes.CONFIG_READ, `${file}: cannot read config: ${describeError(err)}`, { cause: err });
  }
  return parseAgentConfigText(text, file);
}

/** Validates the whole document; every problem is named with its path, and nothing is applied on any. */
export function validateAgentConfig(value: unknown, configDir: string, where = 'agent config'): AgentConfig {
  const errors: string[] = [];
  if (!isPlainObject(value)) throw new CausewayError(ErrorCodes.CONFIG_INVALID, `${where}: must be a mapping (dataDir, services, ...)`);
  const raw = section(value, '', TOP_FIELDS, errors);
  const { ms } = readers(errors);
  const text = (v: unknown, at: string): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') {
      errors.push(`${at}: must be a non-empty string`);
      return undefined;
    }
    return v;
  };
  const hostPort = (v: unknown, at: string): HostPort | undefined => {
    const s = text(v, at);
    if (s === undefined) return undefined;
    const parsed = parseHostPort(s);
    if (typeof parsed === 'string') {
      errors.push(`${at}: ${parsed}`);
      return undefined;
    }
    return parsed;
  };
  const file = (v: unknown, at: string): string | undefined => {
    const s = text(v, at);
    return s === undefined ? undefined : path.resolve(configDir, s);
  };

  // The systemd unit's StateDirectory (terraform/modules/gateway-vm/files): writable under its sandbox.
  const dataDir = file(raw.dataDir, 'dataDir') ?? '/var/lib/causeway';
  const identity = text(raw.identity, 'identity');
  if (identity !== undefined) {
    try {
      if (parseSpiffeId(identity).path === '') errors.push(`identity: ${identity} names no workload (a SPIFFE ID with a path)`);
    } catch (err) {
      errors.push(`identity: ${describeError(err)}`);
    }
  }
  const gatewayRaw = section(raw.gateway, 'gateway', ['identity', 'outbound'], errors);
  const kind = raw.kind ?? 'vm';
  if (kind !== 'vm' && kind !== 'metal') errors.push(`kind: ${JSON.stringify(kind)} must be "vm" or "metal"`);
  const address = text(raw.address, 'address');
  if (address !== undefined && typeof parseHostPort(`${address.includes(':') ? `[${address}]` : address}:1`) === 'string') errors.push(`address: "${address}" is not an IP address`);
  const localityRaw = section(raw.locality, 'locality', ['cloud', 'region', 'zone'], errors);
  const locality: AgentConfig['locality'] = {};
  for (const key of ['cloud', 'region', 'zone'] as const) {
    const v = text(localityRaw[key], `locality.${key}`);
    if (v !== undefined) locality[key] = v;
  }
  let inbound: HostPort | undefined;
  if (raw.inbound === false) inbound = undefined;
  else {
    const inboundRaw = section(raw.inbound, 'inbound', ['listen'], errors);
    inbound = hostPort(inboundRaw.listen ?? '0.0.0.0:15006', 'inbound.listen');
  }
  const outboundRaw = section(raw.outbound, 'outbound', ['listen', 'forward'], errors);
  const outboundListen = outboundRaw.listen === false ? undefined : hostPort(outboundRaw.listen ?? '127.0.0.1:15001', 'outbound.listen');
  const forward: ForwardPort[] = [];
  if (outboundRaw.forward !== undefined && !Array.isArray(outboundRaw.forward)) errors.push('outbound.forward: must be a list of {listen, service}');
  (Array.isArray(outboundRaw.forward) ? outboundRaw.forward : []).forEach((item: unknown, i) => {
    const at = `outbound.forward[${i}]`;
    const entry = section(item, at, ['listen', 'service'], errors);
    const listen = hostPort(entry.listen, `${at}.listen`);
    const service = text(entry.service, `${at}.service`);
    if (entry.listen === undefined) errors.push(`${at}.listen: is required (a local host:port)`);
    if (service === undefined) {
      if (entry.service === undefined) errors.push(`${at}.service: is required (<service>.<namespace>:<port>)`);
      return;
    }
    const authority = parseMeshAuthority(service);
    if (typeof authority === 'string') errors.push(`${at}.service: ${authority}`);
    else if (listen !== undefined) forward.push({ listen, service });
  });

  const services: AgentService[] = [];
  if (!Array.isArray(raw.services)) errors.push('services: is required: a list of the services on this host');
  const keys = new Set<string>();
  (Array.isArray(raw.services) ? raw.services : []).forEach((item: unknown, i) => {
    const at = `services[${i}]`;
    const entry = section(item, at, SERVICE_FIELDS, errors);
    if (!isPlainObject(item)) return;
    const name = text(entry.name, `${at}.name`);
    const namespace = text(entry.namespace, `${at}.namespace`) ?? 'default';
    if (name === undefined && entry.name === undefined) errors.push(`${at}.name: is required`);
    if (name !== undefined && !NAME_PATTERN.test(name)) errors.push(`${at}.name: "${name}" is not a DNS-1123 label`);
    if (!NAME_PATTERN.test(namespace)) errors.push(`${at}.namespace: "${namespace}" is not a DNS-1123 label`);
    const ports: AgentService['ports'] = [];
    if (!Array.isArray(entry.ports) || entry.ports.length === 0) errors.push(`${at}.ports: is required: a list of {name, port, targetPort?, protocol?}`);
    (Array.isArray(entry.ports) ? entry.ports : []).forEach((p: unknown, j) => {
      const { targetPort, ...rest } = isPlainObject(p) ? p : { targetPort: undefined };
      const port = validateServicePort(isPlainObject(p) ? rest : p, `${at}.ports[${j}]`, errors);
      if (targetPort !== undefined && (typeof targetPort !== 'number' || !Number.isInteger(targetPort) || targetPort < 1 || targetPort > 65535)) {
        errors.push(`${at}.ports[${j}].targetPort: must be a port from 1 to 65535 (where the service listens on this host)`);
      } else if (port !== undefined) ports.push(targetPort === undefined ? port : { ...port, targetPort });
    });
    if (entry.export !== undefined && typeof entry.export !== 'boolean') errors.push(`${at}.export: must be true or false`);
    const exportTo = entry.exportTo === undefined ? undefined : validateExportTo(entry.exportTo, `${at}.exportTo`, errors);
    if (entry.exportTo !== undefined && entry.export !== true) errors.push(`${at}.exportTo: needs export: true (a service that is not exported goes to no peer)`);
    const labels: Record<string, string> = {};
    if (entry.labels !== undefined) {
      if (!isPlainObject(entry.labels)) errors.push(`${at}.labels: must be a mapping of strings`);
      else for (const [k, v] of Object.entries(entry.labels)) {
        if (typeof v !== 'string') errors.push(`${at}.labels.${k}: must be a string`);
        else labels[k] = v;
      }
    }
    const weight = entry.weight;
    if (weight !== undefined && (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > 1000)) errors.push(`${at}.weight: must be a whole number from 1 to 1000`);
    const check = entry.check === undefined ? undefined : parseCheck(entry.check, `${at}.check`, errors);
    if (name === undefined) return;
    const key = `${name}.${namespace}`;
    if (keys.has(key)) errors.push(`${at}: ${key} is listed twice`);
    keys.add(key);
    services.push({ name, namespace, ports, export: entry.export === true, ...(exportTo === undefined ? {} : { exportTo }), labels, weight: typeof weight === 'number' ? weight : undefined, check });
  });
  const logLevel = text(raw.logLevel, 'logLevel') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) errors.push(`logLevel: "${logLevel}" must be one of ${LOG_LEVELS.join(', ')}`);
  const config: AgentConfig = {
    dataDir, joinTokenFile: file(raw.joinTokenFile, 'joinTokenFile'), identity,
    gateway: { identity: hostPort(gatewayRaw.identity, 'gateway.identity'), outbound: hostPort(gatewayRaw.outbound, 'gateway.outbound') },
    kind: kind === 'metal' ? 'metal' : 'vm', address, locality, inbound,
    outbound: { listen: outboundListen, forward }, services,
    maxBackoffMs: ms(raw.maxBackoff, 'maxBackoff', 15_000, 100, 300_000),
    logLevel,
  };
  if (errors.length > 0) {
    throw new CausewayError(ErrorCodes.CONFIG_INVALID, `${where}: ${errors[0] ?? ''}`, { details: errors });
  }
  return config;
}
