// Decoding and validating `PUT /v1/catalog/register` and `PUT /v1/catalog/deregister` bodies the way
// Consul does (https://developer.hashicorp.com/consul/api-docs/catalog#register-entity): Node and
// Address are required; Service.ID defaults to Service.Service; an ID without a name is refused; a
// check's CheckID defaults to its Name, its Node to the request's node, and its Status to critical.
// A body that does not decode gets "Request decode failed: ..." (Consul's HTTP handlers' wording).
import { CHECK_STATUSES, type CheckStatus, type Registration } from './consul-catalog-state.js';

/** A refusal with Consul's status and plain-text reason. */
export class ConsulHttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

type Json = Record<string, unknown>;

const decodeFailed = (why: string): ConsulHttpError => new ConsulHttpError(400, `Request decode failed: ${why}`);
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseObject(raw: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw decodeFailed((err as Error).message);
  }
  if (!isObject(parsed)) throw decodeFailed('json: cannot unmarshal into Go value of type structs.RegisterRequest');
  return parsed;
}

/**
 * Field lookup that is case-insensitive, as Go's encoding/json matches keys (the `consul` client and
 * curl examples send `Node`, some tools `node`), with a Go-like type error.
 */
function field(obj: Json, name: string, type: 'string' | 'number' | 'object' | 'array' | 'strings' | 'map', where: string): unknown {
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key === undefined ? undefined : obj[key];
  if (v === undefined || v === null) return undefined;
  const bad = (): never => { throw decodeFailed(`json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go struct field ${where}.${name}`); };
  switch (type) {
    case 'string': if (typeof v !== 'string') bad(); break;
    case 'number': if (typeof v !== 'number' || !Number.isInteger(v)) bad(); break;
    case 'object': if (!isObject(v)) bad(); break;
    case 'array': if (!Array.isArray(v)) bad(); break;
    case 'strings': if (!Array.isArray(v) || v.some((t) => typeof t !== 'string')) bad(); break;
    case 'map': if (!isObject(v) || Object.values(v).some((t) => typeof t !== 'string')) bad(); break;
  }
  return v;
}

export function decodeRegistration(raw: string, datacenter: string): Registration {
  const body = parseObject(raw);
  const node = (field(body, 'Node', 'string', 'RegisterRequest') as string | undefined) ?? '';
  const address = (field(body, 'Address', 'string', 'RegisterRequest') as string | undefined) ?? '';
  const dc = field(body, 'Datacenter', 'string', 'RegisterRequest') as string | undefined;
  const nodeMeta = field(body, 'NodeMeta', 'map', 'RegisterRequest') as Record<string, string> | undefined;
  const svc = field(body, 'Service', 'object', 'RegisterRequest') as Json | undefined;
  const one = field(body, 'Check', 'object', 'RegisterRequest') as Json | undefined;
  const many = (field(body, 'Checks', 'array', 'RegisterRequest') as unknown[] | undefined) ?? [];
  if (dc !== undefined && dc !== '' && dc !== datacenter) throw new ConsulHttpError(500, 'No path to datacenter');
  if (node === '') throw new ConsulHttpError(400, 'Must provide node');
  if (address === '') throw new ConsulHttpError(400, 'Must provide address');

  const reg: Registration = { node, address };
  if (nodeMeta !== undefined) reg.nodeMeta = { ...nodeMeta };
  if (svc !== undefined) {
    const name = (field(svc, 'Service', 'string', 'NodeService') as string | undefined) ?? '';
    const id = (field(svc, 'ID', 'string', 'NodeService') as string | undefined) || name;
    if (id !== '' && name === '') throw new ConsulHttpError(400, 'Must provide service name with ID');
    const port = (field(svc, 'Port', 'number', 'NodeService') as number | undefined) ?? 0;
    if (port < 0 || port > 65535) throw decodeFailed(`json: cannot unmarshal number ${port} into Go struct field NodeService.Port of type int`);
    if (name !== '') {
      reg.service = {
        id, service: name, port,
        address: (field(svc, 'Address', 'string', 'NodeService') as string | undefined) ?? '',
        tags: [...((field(svc, 'Tags', 'strings', 'NodeService') as string[] | undefined) ?? [])],
        meta: { ...((field(svc, 'Meta', 'map', 'NodeService') as Record<string, string> | undefined) ?? {}) },
      };
    }
  }
  // Consul folds the single `Check` into `Checks` before validating them.
  const checks = [...many, ...(one === undefined ? [] : [one])];
  reg.checks = checks.map((c, i) => {
    if (!isObject(c)) throw decodeFailed(`json: cannot unmarshal into Go struct field RegisterRequest.Checks[${i}]`);
    const name = (field(c, 'Name', 'string', 'HealthCheck') as string | undefined) ?? '';
    const checkId = (field(c, 'CheckID', 'string', 'HealthCheck') as string | undefined) || name;
    const checkNode = (field(c, 'Node', 'string', 'HealthCheck') as string | undefined) || node;
    const status = ((field(c, 'Status', 'string', 'HealthCheck') as string | undefined) || 'critical') as CheckStatus;
    const serviceId = (field(c, 'ServiceID', 'string', 'HealthCheck') as string | undefined) ?? '';
    if (checkId === '') throw new ConsulHttpError(400, 'Must provide a CheckID or Name for every check');
    if (checkNode !== node) throw new ConsulHttpError(400, "Check node doesn't match register request node");
    if (!CHECK_STATUSES.includes(status)) throw new ConsulHttpError(400, `Invalid check status: "${status}"`);
    return { checkId, name: name || checkId, status, serviceId, notes: (field(c, 'Notes', 'string', 'HealthCheck') as string | undefined) ?? '' };
  });
  return reg;
}

export function decodeDeregistration(raw: string, datacenter: string): { node: string; serviceId?: string; checkId?: string } {
  const body = parseObject(raw);
  const node = (field(body, 'Node', 'string', 'DeregisterRequest') as string | undefined) ?? '';
  const dc = field(body, 'Datacenter', 'string', 'DeregisterRequest') as string | undefined;
  const serviceId = field(body, 'ServiceID', 'string', 'DeregisterRequest') as string | undefined;
  const checkId = field(body, 'CheckID', 'string', 'DeregisterRequest') as string | undefined;
  if (dc !== undefined && dc !== '' && dc !== datacenter) throw new ConsulHttpError(500, 'No path to datacenter');
  if (node === '') throw new ConsulHttpError(400, 'Must provide node');
  return { node, ...(serviceId === undefined ? {} : { serviceId }), ...(checkId === undefined ? {} : { checkId }) };
}
