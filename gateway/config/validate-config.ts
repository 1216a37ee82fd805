import path from 'node:path';
import {
  CausewayError, ErrorCodes, NAME_PATTERN, checkFields, isPlainObject, validateDeclaration, type Locality, type ServiceDeclaration,
} from '../../registry/index.js';
import { isValidTrustDomain, parseSpiffeId } from '../../federation/index.js';
import { isUnspecified, parseHostPort, type HostPort } from './address.js';
import { parseDuration } from './durations.js';
import { DEFAULT_PORTS, type GatewayConfig, type ListenerAddresses } from './gateway-config.js';
import { validateLimits } from './validate-limits.js';
import { validateDataPlane } from './validate-dataplane.js';
import { takenByListeners, validateForwards, type ForwardConfig } from './validate-forward.js';
import { checkPublishing } from './validate-publish.js';
import { validateSources } from './validate-sources.js';
import { validateAgents } from './validate-agents.js';
import { validateTelemetry } from './validate-telemetry.js';
import { validateXds } from './validate-xds.js';
import { validatePeering } from './validate-peering.js';
import { validateIssuance, validateTrust } from './validate-trust.js';

export { parseDuration };
import type { AccessRule } from '../dataplane/access-rules.js';

const TOP_LEVEL_FIELDS = [
  'cluster', 'trustDomain', 'gatewayName', 'locality', 'dataDir', 'listen', 'advertise', 'outbound',
  'services', 'sources', 'agents', 'access', 'policy', 'gatewaySvidTtl', 'trust', 'issuance', 'limits', 'dataPlane', 'telemetry', 'xds', 'peering', 'logLevel',
] as const;
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];


function requireName(value: unknown, at: string, errors: string[]): string {
  if (typeof value !== 'string' || value === '') {
    errors.push(`${at}: is required (a DNS-1123 label such as "cluster-a")`);
    return '';
  }
  if (!NAME_PATTERN.test(value)) errors.push(`${at}: "${value}" is not a DNS-1123 label (lower-case letters, digits, "-")`);
  return value;
}

function optionalString(value: unknown, at: string, errors: string[], fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') {
    errors.push(`${at}: must be a non-empty string`);
    return fallback;
  }
  return value;
}

function validateAddress(value: unknown, at: string, errors: string[], fallback: HostPort): HostPort {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') {
    errors.push(`${at}: must be a "host:port" string`);
    return fallback;
  }
  const parsed = parseHostPort(value);
  if (typeof parsed === 'string') {
    errors.push(`${at}: ${parsed}`);
    return fallback;
  }
  return parsed;
}

function validateListen(value: unknown, errors: string[]): ListenerAddresses {
  const defaults: ListenerAddresses = {
    eastWest: { host: '127.0.0.1', port: DEFAULT_PORTS.eastWest },
    federation: { host: '127.0.0.1', port: DEFAULT_PORTS.federation },
    outbound: { host: '127.0.0.1', port: DEFAULT_PORTS.outbound },
    admin: { host: '127.0.0.1', port: DEFAULT_PORTS.admin },
    identity: { host: '127.0.0.1', port: DEFAULT_PORTS.identity },
  };
  if (value === undefined) return defaults;
  if (!isPlainObject(value)) {
    errors.push('listen: must be a mapping of eastWest, federation, outbound, admin, identity');
    return defaults;
  }
  checkFields(value, Object.keys(defaults), 'listen', errors);
  return {
    eastWest: validateAddress(value.eastWest, 'listen.eastWest', errors, defaults.eastWest),
    federation: validateAddress(value.federation, 'listen.federation', errors, defaults.federation),
    outbound: validateAddress(value.outbound, 'listen.outbound', errors, defaults.outbound),
    admin: validateAddress(value.admin, 'listen.admin', errors, defaults.admin),
    identity: validateAddress(value.identity, 'listen.identity', errors, defaults.identity),
  };
}

function validateAdvertise(value: unknown, errors: string[]): GatewayConfig['advertise'] {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    errors.push('advertise: must be a mapping of eastWest, federation, identity');
    return {};
  }
  checkFields(value, ['eastWest', 'federation', 'identity'], 'advertise', errors);
  const result: { eastWest?: HostPort; federation?: HostPort; identity?: HostPort } = {};
  for (const key of ['eastWest', 'federation', 'identity'] as const) {
    if (value[key] === undefined) continue;
    const parsed = validateAddress(value[key], `advertise.${key}`, errors, { host: '', port: 0 });
    if (parsed.port === 0 && parsed.host !== '') errors.push(`advertise.${key}: port 0 cannot be advertised`);
    if (parsed.host !== '') result[key] = parsed;
  }
  return result;
}

function validateLocality(value: unknown, errors: string[]): Omit<Locality, 'cluster'> {
  const locality = { cloud: 'local', region: 'local', zone: 'local' };
  if (value === undefined) return locality;
  if (!isPlainObject(value)) {
    errors.push('locality: must be a mapping of cloud, region, zone');
    return locality;
  }
  checkFields(value, ['cloud', 'region', 'zone'], 'locality', errors);
  for (const key of ['cloud', 'region', 'zone'] as const) locality[key] = optionalString(value[key], `locality.${key}`, errors, 'local');
  return locality;
}

function validateAccess(value: unknown, errors: string[]): AccessRule[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    errors.push('access: must be a list of { to, from } rules');
    return [];
  }
  const rules: AccessRule[] = [];
  value.forEach((rule: unknown, i) => {
    const at = `access[${i}]`;
    if (!isPlainObject(rule)) {
      errors.push(`${at}: must be a mapping with "to" and "from"`);
      return;
    }
    checkFields(rule, ['to', 'from'], at, errors);
    const to = rule.to;
    if (typeof to !== 'string' || (to !== '*' && !/^[a-z0-9-]+\.[a-z0-9-]+$/.test(to))) {
      errors.push(`${at}.to: must be a service key "name.namespace" or "*"`);
    }
    const from = rule.from;
    if (!Array.isArray(from) || from.length === 0) {
      errors.push(`${at}.from: must be a non-empty list of SPIFFE ID patterns or "anonymous"`);
      return;
    }
    from.forEach((pattern: unknown, j) => {
      if (pattern === 'anonymous') return;
      if (typeof pattern !== 'string') {
        errors.push(`${at}.from[${j}]: must be a string`);
        return;
      }
      const exact = pattern.endsWith('/*') ? pattern.slice(0, -2) : pattern;
      try {
        parseSpiffeId(exact);
      } catch (err) {
        errors.push(`${at}.from[${j}]: "${pattern}" is not a SPIFFE ID or "spiffe://<td>/<path>/*" pattern (${(err as Error).message})`);
      }
    });
    if (typeof to === 'string') rules.push({ to, from: from.filter((p): p is string => typeof p === 'string') });
  });
  return rules;
}

/** `policy: { directory }`; the default is `<dataDir>/policies`, a relative path is the config file's. */
function validatePolicy(value: unknown, base: string, dataDir: string, errors: string[]): GatewayConfig['policy'] {
  const fallback = { directory: path.join(dataDir, 'policies') };
  if (value === undefined) return fallback;
  if (!isPlainObject(value)) {
    errors.push('policy: must be a mapping with directory');
    return fallback;
  }
  checkFields(value, ['directory'], 'policy', errors);
  if (value.directory === undefined) return fallback;
  if (typeof value.directory !== 'string' || value.directory === '') {
    errors.push('policy.directory: must be a non-empty path (default <dataDir>/policies)');
    return fallback;
  }
  return { directory: path.resolve(base, value.directory) };
}

function validateServices(value: unknown, cluster: string, locality: Omit<Locality, 'cluster'>, errors: string[]): ServiceDeclaration[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    errors.push('services: must be a list');
    return [];
  }
  const services: ServiceDeclaration[] = [];
  const seen = new Set<string>();
  value.forEach((item: unknown, i) => {
    const declaration = validateDeclaration(item, `services[${i}]`, errors, { locality: { ...locality, cluster } });
    if (declaration === undefined) return;
    const key = `${declaration.name}.${declaration.namespace}`;
    if (seen.has(key)) errors.push(`services[${i}]: ${key} is declared twice`);
    seen.add(key);
    services.push(declaration);
  });
  return services;
}

/**
 * Validates a parsed config document, collecting every problem with its path, and returns
 * a deeply frozen GatewayConfig. Throws CW_CONFIG_INVALID listing all problems.
 */
export function validateConfig(raw: unknown, source: { file?: string } = {}): GatewayConfig {
  const errors: string[] = [];
  const where = source.file ?? 'config';
  if (!isPlainObject(raw)) {
    throw new CausewayError(ErrorCodes.CONFIG_INVALID, `${where}: the document must be a mapping`);
  }
  checkFields(raw, TOP_LEVEL_FIELDS, '', errors);
  const cluster = requireName(raw.cluster, 'cluster', errors);
  const trustDomain = typeof raw.trustDomain === 'string' ? raw.trustDomain : '';
  if (!isValidTrustDomain(trustDomain)) {
    errors.push(`trustDomain: ${raw.trustDomain === undefined ? 'is required' : `"${String(raw.trustDomain)}" is not a valid SPIFFE trust domain`} (e.g. "us-east-1.aws.example.org")`);
  }
  const gatewayName = raw.gatewayName === undefined ? 'gateway' : requireName(raw.gatewayName, 'gatewayName', errors);
  const locality = validateLocality(raw.locality, errors);
  let dataDir = '';
  if (typeof raw.dataDir !== 'string' || raw.dataDir === '') errors.push('dataDir: is required (a directory for keys and state)');
  else dataDir = path.resolve(source.file === undefined ? process.cwd() : path.dirname(source.file), raw.dataDir);
  const listen = validateListen(raw.listen, errors);
  const advertise = validateAdvertise(raw.advertise, errors);
  for (const key of ['eastWest', 'federation', 'identity'] as const) {
    // Peers dial the advertised address; a wildcard bind gives them nothing to dial.
    if (isUnspecified(listen[key].host) && advertise[key] === undefined) {
      errors.push(`advertise.${key}: is required when listen.${key} is the wildcard address ${listen[key].host}`);
    }
  }
  let identifyCallersBySourceAddress = false;
  let forward: ForwardConfig[] = [];
  if (raw.outbound !== undefined) {
    if (!isPlainObject(raw.outbound)) errors.push('outbound: must be a mapping');
    else {
      checkFields(raw.outbound, ['identifyCallersBySourceAddress', 'forward'], 'outbound', errors);
      const flag = raw.outbound.identifyCallersBySourceAddress;
      if (flag !== undefined && typeof flag !== 'boolean') errors.push('outbound.identifyCallersBySourceAddress: must be true or false');
      identifyCallersBySourceAddress = flag === true;
      forward = validateForwards(raw.outbound.forward, takenByListeners(listen), errors);
    }
  }
  const services = validateServices(raw.services, cluster, locality, errors);
  const access = validateAccess(raw.access, errors);
  const policy = validatePolicy(raw.policy, source.file === undefined ? process.cwd() : path.dirname(source.file), dataDir, errors);
  const ttl = raw.gatewaySvidTtl === undefined ? 86400 : parseDuration(raw.gatewaySvidTtl);
  if (ttl === undefined || ttl < 120 || ttl > 30 * 86400) errors.push('gatewaySvidTtl: must be a duration from 2m to 30d such as "24h"');
  const base = source.file === undefined ? process.cwd() : path.dirname(source.file);
  const trust = validateTrust(raw.trust, errors, base);
  const issuance = validateIssuance(raw.issuance, errors, base);
  const limits = validateLimits(raw.limits, errors);
  const dataPlane = validateDataPlane(raw.dataPlane, errors);
  const sources = validateSources(raw.sources, trustDomain, base, errors);
  const agents = validateAgents(raw.agents, errors);
  const telemetry = validateTelemetry(raw.telemetry, base, errors);
  const xds = validateXds(raw.xds, identifyCallersBySourceAddress, errors);
  const peering = validatePeering(raw.peering, cluster, base, errors);
  checkPublishing(sources.consul, forward, takenByListeners(listen), errors);
  const logLevel = optionalString(raw.logLevel, 'logLevel', errors, 'info');
  if (!LOG_LEVELS.includes(logLevel)) errors.push(`logLevel: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);

  if (errors.length > 0) {
    const first = errors[0] ?? '';
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    throw new CausewayError(ErrorCodes.CONFIG_INVALID, `${where}: ${first}${more}`, { details: errors });
  }
  return deepFreeze({
    cluster, trustDomain, gatewayName, locality, dataDir, listen, advertise,
    outbound: { identifyCallersBySourceAddress, forward }, services, sources, agents, access, policy,
    gatewaySvidTtlSeconds: ttl ?? 86400, trust, issuance, limits, dataPlane, telemetry, peering, logLevel, ...(xds === undefined ? {} : { xds }),
  });
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
