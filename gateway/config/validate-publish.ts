import { isIP } from 'node:net';
import { NAME_PATTERN, checkFields, isPlainObject } from '../../registry/index.js';
import { formatHostPort, isUnspecified, type HostPort } from './address.js';
import { clashes, type ForwardConfig, type TakenAddress } from './validate-forward.js';

/**
 * `sources.consul[].publish` (docs/consul.md, "Publish federated services into Consul"):
 * which federated services this gateway registers in that Consul datacenter as external
 * services, where Consul-native clients connect, and the forward ports they get.
 */
export interface PublishConfig {
  /** Patterns of mesh service keys: `billing.prod`, `payments.*`, `*.prod`, `*`. Empty: nothing is published (and what was, is withdrawn). */
  services: readonly string[];
  /** The IP Consul-native clients connect to (this gateway's); the forward ports listen on it. */
  address: string;
  /** The forward ports, one per published service port, fixed once given. */
  ports: { first: number; last: number };
  /** The Consul node the services are registered on; undefined: `causeway-<gatewayName>`. */
  node: string | undefined;
}

const FIELDS = ['services', 'address', 'ports', 'node'] as const;
/** A Consul node name: letters, digits, `-`, `_` and `.` (agent/config: a DNS-compatible name is advised). */
const NODE_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,62}[A-Za-z0-9])?$/;

/** Whether `pattern` (`<name|*>.<namespace|*>`, or `*`) matches the service key `key`. */
export function servicePatternMatches(pattern: string, key: string): boolean {
  if (pattern === '*') return true;
  const [name, namespace] = pattern.split('.');
  const dot = key.indexOf('.');
  return (name === '*' || name === key.slice(0, dot)) && (namespace === '*' || namespace === key.slice(dot + 1));
}

/** `publish:` of one Consul entry at `at`; undefined when absent (nothing is published). */
export function validatePublish(value: unknown, at: string, errors: string[]): PublishConfig | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) {
    errors.push(`${at}: must be a mapping { services, address, ports, node }`);
    return undefined;
  }
  checkFields(value, FIELDS, at, errors);
  const services: string[] = [];
  if (!Array.isArray(value.services)) {
    errors.push(`${at}.services: ${value.services === undefined ? 'is required' : 'must be a list'} (patterns of mesh services to publish: "billing.prod", "payments.*"; [] publishes nothing)`);
  } else {
    value.services.forEach((pattern: unknown, i) => {
      const [name, namespace, more] = typeof pattern === 'string' ? pattern.split('.') : [];
      const part = (p: string | undefined): boolean => p === '*' || (p !== undefined && NAME_PATTERN.test(p));
      if (typeof pattern === 'string' && (pattern === '*' || (more === undefined && part(name) && part(namespace)))) services.push(pattern);
      else errors.push(`${at}.services[${i}]: ${JSON.stringify(pattern)?.slice(0, 100)} is not a service pattern "<name>.<namespace>" ("*" for any name or namespace)`);
    });
  }
  let address = '';
  if (typeof value.address !== 'string' || isIP(value.address) === 0 || isUnspecified(value.address)) {
    const what = 'an IP address of this gateway, what Consul-native clients connect to (not 0.0.0.0 or ::)';
    errors.push(`${at}.address: ${value.address === undefined ? `is required (${what})` : `${JSON.stringify(value.address)?.slice(0, 100)} is not ${what}`}`);
  } else address = value.address;
  const ports = readRange(value.ports, `${at}.ports`, errors);
  let node: string | undefined;
  if (value.node !== undefined) {
    if (typeof value.node === 'string' && NODE_NAME.test(value.node)) node = value.node;
    else errors.push(`${at}.node: ${JSON.stringify(value.node)?.slice(0, 100)} is not a Consul node name (letters, digits, "-", "_", ".")`);
  }
  return ports === undefined ? undefined : { services, address, ports, node };
}

/** `"21000-21099"` (or one port, `21000`) within 1-65535. */
function readRange(value: unknown, at: string, errors: string[]): PublishConfig['ports'] | undefined {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(typeof value === 'number' ? String(value) : typeof value === 'string' ? value : '');
  const first = Number(match?.[1]);
  const last = match?.[2] === undefined ? first : Number(match[2]);
  if (match === null || first < 1 || last > 65535 || first > last) {
    const what = 'a port range "<first>-<last>" within 1-65535, such as "21000-21099"';
    errors.push(`${at}: ${value === undefined ? `is required (${what})` : `${JSON.stringify(value)?.slice(0, 100)} is not ${what}`}`);
    return undefined;
  }
  return { first, last };
}

/** What the cross-checks read of each Consul entry. */
interface PublishingEntry {
  name: string;
  datacenter: string | undefined;
  publish?: PublishConfig | undefined;
}

/**
 * Checks across the config: a publish range may not take a port of a listener or a forward
 * port on the same address, nor overlap another entry's range there; two entries publishing
 * into the same datacenter need their own nodes (each withdraws from its node what it does
 * not publish).
 */
export function checkPublishing(entries: readonly PublishingEntry[], forwards: readonly ForwardConfig[], taken: readonly TakenAddress[], errors: string[]): void {
  const fixed = [...taken, ...forwards.map((f, i) => ({ at: `outbound.forward[${i}].listen`, address: f.listen }))];
  const ranges: Array<{ at: string; host: string; first: number; last: number }> = [];
  const nodes = new Map<string, string>();
  entries.forEach((entry, i) => {
    const publish = entry.publish;
    if (publish === undefined) return;
    const at = `sources.consul[${i}].publish`;
    const { first, last } = publish.ports;
    const inRange = (a: HostPort): boolean => a.port >= first && a.port <= last && clashes(a, { host: publish.address, port: a.port });
    for (const t of fixed) {
      if (inRange(t.address)) errors.push(`${at}.ports: ${first}-${last} takes ${formatHostPort(t.address)}, already ${t.at}`);
    }
    for (const r of ranges) {
      if (r.first <= last && first <= r.last && clashes({ host: r.host, port: 1 }, { host: publish.address, port: 1 })) {
        errors.push(`${at}.ports: ${first}-${last} overlaps ${r.at} (${r.first}-${r.last}) on ${publish.address}`);
      }
    }
    ranges.push({ at: `${at}.ports`, host: publish.address, first, last });
    const node = `${publish.node ?? '(default node)'} in ${entry.datacenter ?? "(the agent's datacenter)"}`;
    const other = nodes.get(node);
    if (other !== undefined) errors.push(`${at}.node: ${node} is also ${other}'s; give one of them its own publish.node`);
    nodes.set(node, `sources.consul[${i}] (${entry.name})`);
  });
}
