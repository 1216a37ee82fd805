import { isIP } from 'node:net';
import {
  checkFields, join, readBoolean, readChoice, readCounter, readInteger, readList, readName, readObject, readText,
} from './field-checks.js';
import { validateExportTo } from './export-scope.js';
import {
  ENDPOINT_KINDS, HEALTH_STATES, type Endpoint, type EndpointKind, type GatewayRecord, type Locality,
  type ServiceDeclaration, type ServicePort, type ServiceRecord,
} from './model.js';

/**
 * Validation of catalog input — config declarations, records from peers, restored state.
 * Every function COLLECTS problems as path-qualified strings
 * (`services[2].endpoints[0].address: "pay.example" is not an IP address`) and returns a
 * fresh, normalised value only when it found none, so the caller can reject a whole input
 * and change nothing (the xDS NACK model).
 */

const LOCALITY_FIELDS = ['cloud', 'region', 'zone', 'cluster'] as const;
const PORT_FIELDS = ['name', 'port', 'protocol'] as const;
const ENDPOINT_FIELDS = ['address', 'ports', 'identity', 'kind', 'health', 'weight', 'labels', 'locality', 'sidecarPort'] as const;
const DECLARATION_FIELDS = ['name', 'namespace', 'export', 'exportTo', 'ports', 'endpoints'] as const;
const RECORD_FIELDS = ['origin', 'name', 'namespace', 'version', 'deleted', 'exported', 'exportTo', 'ports', 'endpoints'] as const;
const VERSION_FIELDS = ['origin', 'epoch', 'seq'] as const;
const GATEWAY_FIELDS = ['cluster', 'trustDomain', 'identity', 'eastWestAddress', 'locality'] as const;
const PROTOCOLS: readonly ServicePort['protocol'][] = ['http', 'http2', 'grpc', 'tcp'];

/** Defaults a source's declarations inherit (the gateway's own locality, usually). */
export interface DeclarationDefaults {
  locality: Locality;
  kind?: EndpointKind;
}

/** Runs `check`; its result only when it added no problem. */
function clean<T>(errors: string[], check: () => T | undefined): T | undefined {
  const before = errors.length;
  const value = check();
  return errors.length === before ? value : undefined;
}

/**
 * A locality. With `defaults` (declarations) every field is optional and falls back to
 * the default; `cluster` may not differ from it, since a cluster only declares endpoints of
 * its own (single writer). Without defaults (records) every field is required.
 */
export function validateLocality(value: unknown, path: string, errors: string[], defaults?: Locality): Locality | undefined {
  return clean(errors, () => {
    if (value === undefined && defaults !== undefined) return { ...defaults };
    const o = readObject(value, path, errors);
    if (o === undefined) return undefined;
    checkFields(o, LOCALITY_FIELDS, path, errors);
    const field = (f: (typeof LOCALITY_FIELDS)[number]): string | undefined =>
      o[f] === undefined && defaults !== undefined ? defaults[f]
        : f === 'cluster' ? readName(o[f], join(path, f), errors) : readText(o[f], join(path, f), errors, 128);
    const locality = { cloud: field('cloud'), region: field('region'), zone: field('zone'), cluster: field('cluster') };
    if (defaults !== undefined && o.cluster !== undefined && o.cluster !== defaults.cluster) {
      errors.push(`${join(path, 'cluster')}: "${String(o.cluster)}" differs from this cluster "${defaults.cluster}" (a cluster declares only its own endpoints)`);
    }
    return locality as Locality;
  });
}

/** A service port `{name, port, protocol?}`; protocol defaults to http. */
export function validateServicePort(value: unknown, path: string, errors: string[]): ServicePort | undefined {
  return clean(errors, () => {
    const o = readObject(value, path, errors);
    if (o === undefined) return undefined;
    checkFields(o, PORT_FIELDS, path, errors);
    const name = readName(o.name, join(path, 'name'), errors);
    const port = readInteger(o.port, join(path, 'port'), errors, 1, 65535);
    const protocol = o.protocol === undefined ? 'http' : readChoice(o.protocol, join(path, 'protocol'), errors, PROTOCOLS);
    return { name, port, protocol } as ServicePort;
  });
}

/** An IP literal, v4 or v6. Causeway never resolves names (design brief: never through DNS). */
function readAddress(value: unknown, path: string, errors: string[]): string | undefined {
  // A v6 zone index (`fe80::1%eth0`) names an interface of one host: meaningless elsewhere.
  if (typeof value === 'string' && isIP(value) !== 0 && !value.includes('%')) return value;
  errors.push(`${path}: ${value === undefined ? 'is missing' : `${JSON.stringify(value)} is not an IP address`}`);
  return undefined;
}

/** `spiffe://<trust-domain>/...`; the full SPIFFE ID rules are federation/trust's job. */
function readIdentity(value: unknown, path: string, errors: string[]): string | undefined {
  if (typeof value === 'string' && /^spiffe:\/\/[^/]+/.test(value) && value.length <= 2048) return value;
  errors.push(`${path}: ${value === undefined ? 'is missing' : `${JSON.stringify(value)} is not a SPIFFE ID (spiffe://<trust-domain>/...)`}`);
  return undefined;
}

function readStringMap(value: unknown, path: string, errors: string[]): Record<string, string> | undefined {
  const o = readObject(value, path, errors, 'a map of strings');
  if (o === undefined) return undefined;
  const entries: [string, string][] = [];
  for (const [key, v] of Object.entries(o)) {
    if (key === '' || key.length > 253) errors.push(`${path}: label name ${JSON.stringify(key)} must be 1-253 characters`);
    else if (typeof v !== 'string') errors.push(`${join(path, key)}: ${JSON.stringify(v)} must be a string`);
    else entries.push([key, v]);
  }
  // fromEntries defines own properties: a "__proto__" key cannot reach the prototype.
  return Object.fromEntries(entries);
}

function readPortMap(value: unknown, path: string, errors: string[]): Record<string, number> | undefined {
  const o = readObject(value, path, errors, 'a map of port name to port number');
  if (o === undefined) return undefined;
  const entries: [string, number][] = [];
  for (const [key, v] of Object.entries(o)) {
    const name = readName(key, `${path}[${JSON.stringify(key)}]`, errors);
    const port = readInteger(v, join(path, key), errors, 1, 65535);
    if (name !== undefined && port !== undefined) entries.push([name, port]);
  }
  return Object.fromEntries(entries);
}

/**
 * An endpoint. With `defaults` (declarations) kind, health, weight, labels and locality are
 * optional; without (records from peers, restored state) every field is required.
 * Whether its ports match the service's ports is checked by the caller, which knows them.
 */
export function validateEndpoint(value: unknown, path: string, errors: string[], defaults?: DeclarationDefaults): Endpoint | undefined {
  return clean(errors, () => {
    const o = readObject(value, path, errors);
    if (o === undefined) return undefined;
    checkFields(o, ENDPOINT_FIELDS, path, errors);
    const optional = <T>(field: string, fallback: T, read: (v: unknown, p: string) => T | undefined): T | undefined =>
      o[field] === undefined && defaults !== undefined ? fallback : read(o[field], join(path, field));
    return {
      address: readAddress(o.address, join(path, 'address'), errors),
      ports: readPortMap(o.ports, join(path, 'ports'), errors),
      locality: validateLocality(o.locality, join(path, 'locality'), errors, defaults?.locality),
      kind: optional('kind', defaults?.kind ?? 'pod', (v, p) => readChoice(v, p, errors, ENDPOINT_KINDS)),
      identity: readIdentity(o.identity, join(path, 'identity'), errors),
      health: optional('health', 'healthy', (v, p) => readChoice(v, p, errors, HEALTH_STATES)),
      weight: optional('weight', 1, (v, p) => readInteger(v, p, errors, 1, 1000)),
      labels: optional('labels', {}, (v, p) => readStringMap(v, p, errors)),
      ...(o.sidecarPort === undefined ? {} : { sidecarPort: readInteger(o.sidecarPort, join(path, 'sidecarPort'), errors, 1, 65535) }),
    } as Endpoint;
  });
}

/** Ports unique by name and by number. */
function readServicePorts(value: unknown, path: string, errors: string[], required: boolean): ServicePort[] {
  const list = readList(value, path, errors) ?? [];
  if (required && Array.isArray(value) && list.length === 0) errors.push(`${path}: needs at least one port`);
  const ports: ServicePort[] = [];
  list.forEach((item, i) => {
    const port = validateServicePort(item, `${path}[${i}]`, errors);
    if (port === undefined) return;
    const byName = ports.findIndex((p) => p.name === port.name);
    const byNumber = ports.findIndex((p) => p.port === port.port);
    if (byName >= 0) errors.push(`${path}[${i}].name: "${port.name}" is already ${path}[${byName}]`);
    else if (byNumber >= 0) errors.push(`${path}[${i}].port: ${port.port} is already ${path}[${byNumber}]`);
    ports.push(port);
  });
  return ports;
}

/**
 * Endpoints naming only the service's ports, no duplicates. A declared endpoint needs every
 * port; a record's endpoint may serve a subset (records merge several sources' declarations
 * with different ports, and the data plane skips an endpoint without the wanted port).
 */
function readEndpoints(
  value: unknown, path: string, errors: string[], ports: readonly ServicePort[], defaults?: DeclarationDefaults,
): Endpoint[] {
  const list = readList(value, path, errors) ?? [];
  const endpoints: Endpoint[] = [];
  const seen = new Map<string, number>();
  list.forEach((item, i) => {
    const at = `${path}[${i}]`;
    const endpoint = validateEndpoint(item, at, errors, defaults);
    if (endpoint === undefined) return;
    if (defaults !== undefined) for (const p of ports) if (endpoint.ports[p.name] === undefined) errors.push(`${at}.ports.${p.name}: is missing`);
    for (const name of Object.keys(endpoint.ports)) {
      if (!ports.some((p) => p.name === name)) errors.push(`${at}.ports.${name}: the service has no port named "${name}"`);
    }
    const identity = endpointKey(endpoint);
    const first = seen.get(identity);
    if (first !== undefined) errors.push(`${at}: duplicates ${path}[${first}] (same address and ports)`);
    else seen.set(identity, i);
    endpoints.push(endpoint);
  });
  return endpoints;
}

/** What makes two endpoints the same: address and port numbers (LocalRegistry unions by it). */
export function endpointKey(endpoint: Endpoint): string {
  const ports = Object.keys(endpoint.ports).sort().map((name) => `${name}=${endpoint.ports[name]}`);
  return `${endpoint.address}|${ports.join(',')}`;
}

/**
 * A service as a source declares it:
 * `{ name, namespace, export?, exportTo?, ports: [{name, port, protocol?}], endpoints: [...] }`.
 * `exportTo` (peer names and `key=value` selectors, export-scope.ts) narrows an export, so it
 * needs `export: true`: on a service that is not exported it would read as an export.
 */
export function validateDeclaration(value: unknown, path: string, errors: string[], defaults: DeclarationDefaults): ServiceDeclaration | undefined {
  return clean(errors, () => {
    const o = readObject(value, path, errors);
    if (o === undefined) return undefined;
    checkFields(o, DECLARATION_FIELDS, path, errors);
    const ports = readServicePorts(o.ports, join(path, 'ports'), errors, true);
    const exported = readBoolean(o.export, join(path, 'export'), errors, false);
    let exportTo: string[] | undefined;
    if (o.exportTo !== undefined) {
      exportTo = validateExportTo(o.exportTo, join(path, 'exportTo'), errors);
      if (exported === false) errors.push(`${join(path, 'exportTo')}: needs export: true (a service that is not exported goes to no peer)`);
    }
    return {
      name: readName(o.name, join(path, 'name'), errors),
      namespace: readName(o.namespace, join(path, 'namespace'), errors),
      exported,
      ...(exportTo === undefined ? {} : { exportTo }),
      ports,
      endpoints: readEndpoints(o.endpoints ?? [], join(path, 'endpoints'), errors, ports, defaults),
    } as ServiceDeclaration;
  });
}

/**
 * A ServiceRecord as it arrives from a peer or from restored state. Version counters may be
 * numbers or decimal strings (uint64 on the wire). A live record has at least one port; a
 * tombstone carries no endpoints.
 */
export function validateServiceRecord(value: unknown, path: string, errors: string[]): ServiceRecord | undefined {
  return clean(errors, () => {
    const o = readObject(value, path, errors);
    if (o === undefined) return undefined;
    checkFields(o, RECORD_FIELDS, path, errors);
    const origin = readName(o.origin, join(path, 'origin'), errors);
    const deleted = readBoolean(o.deleted, join(path, 'deleted'), errors);
    const versionAt = join(path, 'version');
    const v = readObject(o.version, versionAt, errors);
    let version: ServiceRecord['version'] | undefined;
    if (v !== undefined) {
      checkFields(v, VERSION_FIELDS, versionAt, errors);
      const vOrigin = readName(v.origin, join(versionAt, 'origin'), errors);
      if (vOrigin !== undefined && origin !== undefined && vOrigin !== origin) {
        errors.push(`${join(versionAt, 'origin')}: "${vOrigin}" differs from the record's origin "${origin}"`);
      }
      version = { origin: vOrigin ?? '', epoch: readCounter(v.epoch, join(versionAt, 'epoch'), errors) ?? 0, seq: readCounter(v.seq, join(versionAt, 'seq'), errors) ?? 0 };
    }
    const ports = readServicePorts(o.ports, join(path, 'ports'), errors, deleted === false);
    const endpoints = readEndpoints(o.endpoints, join(path, 'endpoints'), errors, ports);
    if (deleted === true && endpoints.length > 0) errors.push(`${join(path, 'endpoints')}: a deleted record carries no endpoints`);
    // Only local records carry exportTo (restored state, LocalRegistry); the wire never does.
    const exportTo = o.exportTo === undefined ? undefined : validateExportTo(o.exportTo, join(path, 'exportTo'), errors);
    return {
      origin, name: readName(o.name, join(path, 'name'), errors), namespace: readName(o.namespace, join(path, 'namespace'), errors),
      version, deleted, exported: readBoolean(o.exported, join(path, 'exported'), errors),
      ...(exportTo === undefined ? {} : { exportTo }), ports, endpoints,
    } as ServiceRecord;
  });
}

/** A remote cluster's east-west gateway, as learned on a peer link or restored. */
export function validateGatewayRecord(value: unknown, path: string, errors: string[]): GatewayRecord | undefined {
  return clean(errors, () => {
    const o = readObject(value, path, errors);
    if (o === undefined) return undefined;
    checkFields(o, GATEWAY_FIELDS, path, errors);
    const address = readText(o.eastWestAddress, join(path, 'eastWestAddress'), errors);
    if (address !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/.test(address)) {
      errors.push(`${join(path, 'eastWestAddress')}: "${address}" is not host:port`);
    }
    return {
      cluster: readName(o.cluster, join(path, 'cluster'), errors),
      trustDomain: readText(o.trustDomain, join(path, 'trustDomain'), errors),
      identity: readIdentity(o.identity, join(path, 'identity'), errors),
      eastWestAddress: address,
      locality: validateLocality(o.locality, join(path, 'locality'), errors),
    } as GatewayRecord;
  });
}
