import {
  NAME_PATTERN, serviceKey, validateGatewayRecord, validateServiceRecord, type GatewayRecord, type Locality, type ServiceRecord,
} from '../../registry/index.js';
import { isValidTrustDomain, parseSpiffeId } from '../trust/index.js';
import { hostPortProblem } from './address.js';
import {
  PROTOCOL_VERSION, type WireEndpoint, type WireHello, type WireLocality, type WireServiceRecord,
} from './proto.js';

/**
 * Conversion between link messages (as proto-loader decodes them, see proto.ts) and the
 * catalog model, with validation that COLLECTS every problem as a path-qualified string —
 * a frame with any problem is rejected whole (NACK) and changes nothing.
 */

/** A uint64 as decoded (decimal string) or written (number) → a safe integer, or a problem. */
export function readLong(value: unknown, path: string, errors: string[]): number | undefined {
  const n = typeof value === 'string' && /^\d{1,20}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    errors.push(`${path}: ${JSON.stringify(value)} is not a non-negative integer below 2^53`);
    return undefined;
  }
  return n;
}

export function toWireLocality(l: Locality): WireLocality {
  return { cloud: l.cloud, region: l.region, zone: l.zone, cluster: l.cluster };
}

/** A catalog record as a wire record. */
export function toWireRecord(r: ServiceRecord): WireServiceRecord {
  return {
    origin: r.origin,
    name: r.name,
    namespace: r.namespace,
    version: { origin: r.version.origin, epoch: r.version.epoch, seq: r.version.seq },
    deleted: r.deleted,
    exported: r.exported,
    ports: r.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
    endpoints: r.endpoints.map((e): WireEndpoint => ({
      address: e.address,
      ports: { ...e.ports },
      locality: toWireLocality(e.locality),
      kind: e.kind,
      identity: e.identity,
      health: e.health,
      weight: e.weight,
      labels: { ...e.labels },
    })),
  };
}

/**
 * The plain ServiceRecord shape of a wire record, before validation: proto3 defaults and
 * nulls for unset sub-messages are turned into "missing" so validation names them.
 */
function fromWireRecord(w: WireServiceRecord): unknown {
  if (w === null || typeof w !== 'object') return w;
  const version = w.version ?? undefined;
  return {
    origin: w.origin,
    name: w.name,
    namespace: w.namespace,
    version: version === undefined ? undefined : { origin: version.origin, epoch: version.epoch, seq: version.seq },
    deleted: w.deleted,
    exported: w.exported,
    ports: Array.isArray(w.ports) ? w.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })) : w.ports,
    endpoints: Array.isArray(w.endpoints)
      ? w.endpoints.map((e) => ({
          address: e.address,
          ports: e.ports,
          locality: e.locality ?? undefined,
          kind: e.kind,
          identity: e.identity,
          health: e.health,
          weight: e.weight,
          labels: e.labels,
        }))
      : w.endpoints,
  };
}

/**
 * Decodes the records of a Snapshot or Delta sent by `peerCluster`. Every record must pass
 * validateServiceRecord and have origin (and version origin) == the peer's cluster: a peer is
 * the single writer of its own records and may not speak for anyone else (no transit).
 */
export function decodeRecords(wire: unknown, peerCluster: string, errors: string[]): ServiceRecord[] {
  if (!Array.isArray(wire)) {
    errors.push('records: is not a list');
    return [];
  }
  const records: ServiceRecord[] = [];
  const seen = new Map<string, number>();
  wire.forEach((w: WireServiceRecord, i) => {
    const path = `records[${i}]`;
    const before = errors.length;
    const record = validateServiceRecord(fromWireRecord(w), path, errors);
    if (record === undefined) {
      if (errors.length === before) errors.push(`${path}: is not a service record`);
      return;
    }
    if (record.origin !== peerCluster) {
      errors.push(`${path}.origin: "${record.origin}" is not the sending peer's cluster "${peerCluster}"`);
    } else if (record.version.origin !== record.origin) {
      errors.push(`${path}.version.origin: "${record.version.origin}" differs from the record's origin "${record.origin}"`);
    }
    const key = serviceKey(record.name, record.namespace);
    const first = seen.get(key);
    if (first !== undefined) errors.push(`${path}: duplicates records[${first}] (${key})`);
    else seen.set(key, i);
    if (errors.length === before) records.push(record);
  });
  return records;
}

/** Validates a Hello (shape only; the link checks it against the authenticated peer). */
export function decodeHello(w: WireHello | null | undefined, errors: string[]): GatewayRecord | undefined {
  if (w === null || w === undefined || typeof w !== 'object') {
    errors.push('hello: is missing');
    return undefined;
  }
  const before = errors.length;
  if (w.protocolVersion !== PROTOCOL_VERSION) {
    errors.push(`hello.protocolVersion: ${String(w.protocolVersion)} is not supported (this gateway speaks ${PROTOCOL_VERSION})`);
  }
  if (typeof w.cluster !== 'string' || !NAME_PATTERN.test(w.cluster)) errors.push(`hello.cluster: ${JSON.stringify(w.cluster)} is not a DNS-1123 label`);
  if (typeof w.trustDomain !== 'string' || !isValidTrustDomain(w.trustDomain)) {
    errors.push(`hello.trustDomain: ${JSON.stringify(w.trustDomain)} is not a valid trust domain`);
  }
  try {
    parseSpiffeId(String(w.gatewayId));
  } catch (err) {
    errors.push(`hello.gatewayId: ${(err as Error).message}`);
  }
  const addressProblem = typeof w.eastWestAddress === 'string' ? hostPortProblem(w.eastWestAddress) : 'is missing';
  if (addressProblem !== undefined) errors.push(`hello.eastWestAddress: ${addressProblem}`);
  const l = w.locality;
  if (l === null || l === undefined) errors.push('hello.locality: is missing');
  else {
    for (const field of ['cloud', 'region', 'zone', 'cluster'] as const) {
      if (typeof l[field] !== 'string') errors.push(`hello.locality.${field}: must be a string`);
    }
  }
  if (errors.length > before || l === null || l === undefined) return undefined;
  // The same rules the catalog applies (empty locality fields, over-long text, ...), checked
  // here so that a bad Hello is refused as a frame instead of failing inside the catalog.
  return validateGatewayRecord({
    cluster: w.cluster,
    trustDomain: w.trustDomain,
    identity: w.gatewayId,
    eastWestAddress: w.eastWestAddress,
    // A peer that leaves locality.cluster empty still means itself.
    locality: { cloud: l.cloud, region: l.region, zone: l.zone, cluster: l.cluster === '' ? w.cluster : l.cluster },
  }, 'hello', errors);
}
