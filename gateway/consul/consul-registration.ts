import type { ServicePort, ServiceKey } from '../../registry/index.js';

/** Service meta keys on every instance this gateway publishes (Consul meta keys: letters, digits, `-`, `_`). */
export const CONSUL_META = {
  /** The mesh service key, `billing.prod`. */
  service: 'causeway-service',
  /** The mesh service port the instance stands for, `8080`. */
  port: 'causeway-port',
  protocol: 'causeway-protocol',
  /** The SPIFFE ID of the publishing gateway. */
  gateway: 'causeway-gateway',
} as const;

/** What Consul is told of the federated service's health. */
export interface PublishedHealth {
  status: 'passing' | 'critical';
  /** Why, in a sentence (the check's Notes). */
  notes: string;
}

/** One published instance: a mesh service port at its forward port. */
export interface PublishedInstance {
  /** Consul service ID, unique on the node: `causeway-billing-prod-8080`. */
  id: string;
  key: ServiceKey;
  port: ServicePort;
  forwardPort: number;
}

export interface NodeIdentity {
  node: string;
  address: string;
  /** The publishing gateway's SPIFFE ID. */
  gateway: string;
}

/** The Consul service name of a mesh service: `<name>-<namespace>` (a DNS label when both are short enough). */
export function consulServiceName(key: ServiceKey): string {
  return key.replace('.', '-');
}

export function instanceId(key: ServiceKey, port: number): string {
  return `causeway-${consulServiceName(key)}-${port}`;
}

export function checkId(id: string): string {
  return `causeway:${id}`;
}

/**
 * The `PUT /v1/catalog/register` body of one instance, in the consul client's form: an external
 * node (consul-esm's node meta: `external-node`, and `external-probe: false` so that no ESM
 * probes it), the service at the publish address and its forward port, and one check whose
 * status this gateway keeps (https://developer.hashicorp.com/consul/tutorials/connect-services/service-registration-external-services).
 */
export function registration(node: NodeIdentity, instance: PublishedInstance, health: PublishedHealth): {
  node: string;
  address: string;
  nodemeta: Record<string, string>;
  service: { id: string; service: string; tags: string[]; address: string; port: number; meta: Record<string, string> };
  check: { checkid: string; name: string; serviceid: string; status: PublishedHealth['status']; notes: string };
} {
  return {
    node: node.node,
    address: node.address,
    nodemeta: { 'external-node': 'true', 'external-probe': 'false', [CONSUL_META.gateway]: node.gateway },
    service: {
      id: instance.id,
      service: consulServiceName(instance.key),
      // A service with several ports has an instance per port, told apart by tag (`http.billing-prod.service.consul`).
      tags: [instance.port.name],
      address: node.address,
      port: instance.forwardPort,
      meta: {
        'external-source': 'causeway', [CONSUL_META.service]: instance.key, [CONSUL_META.port]: String(instance.port.port),
        [CONSUL_META.protocol]: instance.port.protocol, [CONSUL_META.gateway]: node.gateway,
      },
    },
    check: {
      checkid: checkId(instance.id), name: 'Causeway federation', serviceid: instance.id, status: health.status, notes: health.notes,
    },
  };
}
