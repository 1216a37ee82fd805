import { isIP } from 'node:net';
import {
  CausewayError, ErrorCodes, checkFields, isPlainObject, validateDeclaration, type EndpointKind, type Locality, type ServiceDeclaration,
} from '../../registry/index.js';

/**
 * The agent control channel's frames (docs/protocol.md, "Agent channel"): one JSON object
 * per WebSocket text message, `{v: 1, type, ...}`. Every frame is validated whole before
 * anything is applied; a refused frame gets `{v: 1, type: "error", code, message}` and
 * changes nothing.
 */

export const AGENT_PROTOCOL_VERSION = 1;

/** The host's services, replacing whatever this agent registered before. */
export interface RegisterFrame {
  type: 'register';
  /** The host name the agent reports (shown by `causeway agents`). */
  host: string | undefined;
  declarations: ServiceDeclaration[];
}

/** Health of one registered service's endpoint(s) on this host changed. */
export interface HealthFrame {
  type: 'health';
  /** `<name>.<namespace>` of a service this agent registered. */
  service: string;
  health: 'healthy' | 'unhealthy';
}

export type AgentFrame = RegisterFrame | HealthFrame | { type: 'heartbeat' } | { type: 'deregister' };

/** What a register frame's services are checked against. */
export interface FrameContext {
  /** The agent's SVID SPIFFE ID (verified at the TLS layer). */
  agentId: string;
  /** The gateway's locality: an agent may refine cloud/region/zone, never the cluster. */
  locality: Locality;
  /** The channel's remote address: the endpoints' address unless the frame names one. */
  remoteAddress: string;
}

export const MAX_SERVICES_PER_AGENT = 256;

/** A host name in a register frame (RFC 1123 labels). */
export const AGENT_HOST_PATTERN = /^[A-Za-z0-9]([-A-Za-z0-9.]{0,251}[A-Za-z0-9])?$/;
const SERVICE_FIELDS = ['name', 'namespace', 'export', 'exportTo', 'ports', 'identity', 'labels', 'weight', 'health'];

/**
 * The security rule of the channel: which workload identities an agent may register
 * services under. An agent vouches only for its own SVID's SPIFFE ID — the identity its join
 * token granted and the gateway signed. (A wider grant per agent, e.g. `.../ns/web/sa/*`,
 * needs the grant recorded at issuance; until then the SVID is the whole grant.)
 */
export function agentMayAssert(agentId: string, identity: string): boolean {
  return identity === agentId;
}

/** Parses one text message; throws CW_FRAME_INVALID or CW_IDENTITY_NOT_GRANTED naming every problem. */
export function parseAgentFrame(text: string, context: FrameContext): AgentFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CausewayError(ErrorCodes.FRAME_INVALID, `the frame is not JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(value)) throw new CausewayError(ErrorCodes.FRAME_INVALID, 'a frame is a JSON object {"v": 1, "type": ...}');
  if (value.v !== AGENT_PROTOCOL_VERSION) {
    throw new CausewayError(ErrorCodes.FRAME_INVALID, `v: ${JSON.stringify(value.v) ?? 'missing'} is not a protocol version this gateway speaks (1)`);
  }
  const errors: string[] = [];
  switch (value.type) {
    case 'heartbeat':
    case 'deregister':
      checkFields(value, ['v', 'type'], '', errors);
      finish(errors);
      return { type: value.type };
    case 'health': {
      checkFields(value, ['v', 'type', 'service', 'health'], '', errors);
      if (typeof value.service !== 'string' || !/^[^.\s]+\.[^.\s]+$/.test(value.service)) errors.push('service: must be "<name>.<namespace>"');
      if (value.health !== 'healthy' && value.health !== 'unhealthy') errors.push('health: must be "healthy" or "unhealthy"');
      finish(errors);
      return { type: 'health', service: value.service as string, health: value.health as 'healthy' | 'unhealthy' };
    }
    case 'register':
      if (value.host !== undefined && (typeof value.host !== 'string' || !AGENT_HOST_PATTERN.test(value.host))) {
        throw new CausewayError(ErrorCodes.FRAME_INVALID, `host: ${JSON.stringify(value.host)?.slice(0, 100)} is not a host name`);
      }
      return { type: 'register', host: value.host as string | undefined, declarations: registerDeclarations(value, context) };
    default:
      throw new CausewayError(ErrorCodes.FRAME_INVALID, `type: ${JSON.stringify(value.type) ?? 'missing'} is not register, health, heartbeat or deregister`);
  }
}

/**
 * `{v, type: "register", kind: "vm"|"metal", address?, locality?, inbound?, services: [{name, namespace,
 * export?, exportTo?, ports: [{name, port, targetPort?, protocol?}], identity?, labels?, weight?, health?}]}` → declarations,
 * one endpoint each (this host), checked by the registry's own validateDeclaration.
 */
function registerDeclarations(frame: Record<string, unknown>, context: FrameContext): ServiceDeclaration[] {
  const errors: string[] = [];
  checkFields(frame, ['v', 'type', 'kind', 'host', 'address', 'locality', 'inbound', 'services'], '', errors);
  const kind: EndpointKind | undefined = frame.kind === 'vm' || frame.kind === 'metal' ? frame.kind : undefined;
  if (kind === undefined) errors.push('kind: must be "vm" or "metal"');
  const address = frame.address ?? unmapped(context.remoteAddress);
  if (typeof address !== 'string' || isIP(address) === 0) errors.push(`address: ${JSON.stringify(address)} is not an IP address`);
  if (frame.locality !== undefined && !isPlainObject(frame.locality)) errors.push('locality: must be an object {cloud?, region?, zone?}');
  const inbound = frame.inbound;
  if (inbound !== undefined && (typeof inbound !== 'number' || !Number.isInteger(inbound) || inbound < 1 || inbound > 65535)) {
    errors.push(`inbound: ${JSON.stringify(inbound)} is not a port 1-65535 (the agent's inbound mTLS listener)`);
  }
  const services = Array.isArray(frame.services) ? frame.services : undefined;
  if (services === undefined) errors.push('services: must be a list');
  else if (services.length > MAX_SERVICES_PER_AGENT) errors.push(`services: ${services.length} services; an agent registers at most ${MAX_SERVICES_PER_AGENT}`);
  finish(errors);

  const refused: string[] = [];
  const declarations: ServiceDeclaration[] = [];
  const keys = new Set<string>();
  (services as unknown[]).forEach((service, i) => {
    const path = `services[${i}]`;
    if (!isPlainObject(service)) {
      errors.push(`${path}: must be an object`);
      return;
    }
    checkFields(service, SERVICE_FIELDS, path, errors);
    const identity = service.identity ?? context.agentId;
    if (typeof identity === 'string' && !agentMayAssert(context.agentId, identity)) {
      refused.push(`${path}.identity: ${identity} is not this agent's identity (${context.agentId})`);
    }
    // A port's `targetPort` is where the service listens on the host, when callers use another
    // (the mesh port): the endpoint gets the target, the service the mesh port.
    const ports = Array.isArray(service.ports) ? service.ports : [];
    const endpointPorts = Object.fromEntries(ports.flatMap((p: unknown) => (isPlainObject(p) && typeof p.name === 'string' ? [[p.name, p.targetPort ?? p.port]] : [])));
    const servicePorts = Array.isArray(service.ports)
      ? service.ports.map((p: unknown) => {
        if (!isPlainObject(p) || p.targetPort === undefined) return p;
        const { targetPort, ...rest } = p;
        if (typeof targetPort !== 'number' || !Number.isInteger(targetPort) || targetPort < 1 || targetPort > 65535) {
          errors.push(`${path}.ports: targetPort ${JSON.stringify(targetPort)} is not a port 1-65535`);
        }
        return rest;
      })
      : service.ports;
    const endpoint: Record<string, unknown> = { address, ports: endpointPorts, identity, kind };
    if (frame.locality !== undefined) endpoint.locality = frame.locality;
    // Behind the agent's inbound listener, the endpoint is reached only with mTLS through it.
    if (inbound !== undefined) endpoint.sidecarPort = inbound;
    if (service.labels !== undefined) endpoint.labels = service.labels;
    if (service.weight !== undefined) endpoint.weight = service.weight;
    // The agent's current check result, so a re-registration never shows a failing service healthy.
    if (service.health !== undefined) endpoint.health = service.health;
    const declaration = validateDeclaration({
      name: service.name, namespace: service.namespace, ports: servicePorts, endpoints: [endpoint],
      ...(service.export === undefined ? {} : { export: service.export }),
      ...(service.exportTo === undefined ? {} : { exportTo: service.exportTo }),
    }, path, errors, { locality: context.locality, kind: kind ?? 'vm' });
    if (declaration === undefined) return;
    const key = `${declaration.name}.${declaration.namespace}`;
    if (keys.has(key)) errors.push(`${path}: ${key} is registered twice`);
    keys.add(key);
    declarations.push(declaration);
  });
  // An identity outside the grant is the refusal that matters most: it is named first.
  if (refused.length > 0) {
    throw new CausewayError(ErrorCodes.IDENTITY_NOT_GRANTED, refused[0] ?? '', { details: [...refused, ...errors] });
  }
  finish(errors);
  return declarations;
}

function finish(errors: readonly string[]): void {
  if (errors.length > 0) throw new CausewayError(ErrorCodes.FRAME_INVALID, errors[0] ?? '', { details: errors });
}

/** `::ffff:10.0.0.5` (an IPv4 peer on a dual-stack socket) → `10.0.0.5`. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** The frame sent back: an ack of `of`, or a refusal. */
export function ackFrame(of: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ v: AGENT_PROTOCOL_VERSION, type: 'ack', of, ...extra });
}

export function errorFrame(code: string, message: string, details?: readonly string[]): string {
  return JSON.stringify({ v: AGENT_PROTOCOL_VERSION, type: 'error', code, message, ...(details === undefined || details.length === 0 ? {} : { details }) });
}
