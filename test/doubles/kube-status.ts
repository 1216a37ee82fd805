// The v1 `Status` failures of the Kubernetes API server double, with the reasons, codes and
// message texts kube-apiserver uses (k8s.io/apimachinery/pkg/api/errors), so a client that reads
// `code`, `reason` or `details.causes` sees what it would see from a real cluster.
// https://kubernetes.io/docs/reference/using-api/api-concepts/ (410 Gone responses) and
// https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md#http-status-codes

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
}

/** The v1 Status object, as the API server writes it in a failed response body or a watch ERROR event. */
export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

/** A request the double refuses: thrown by the store and the router, answered as a Status by the server. */
export class KubeStatusError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: StatusDetails) {
    super(message);
  }

  toStatus(): KubeStatus {
    return {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason,
      ...(this.details === undefined ? {} : { details: this.details }), code: this.code,
    };
  }
}

/** The resource as error texts name it: `services`, `endpointslices.discovery.k8s.io`. */
export interface GroupResource {
  group: string;
  resource: string;
}

const qualified = (gr: GroupResource): string => (gr.group === '' ? gr.resource : `${gr.resource}.${gr.group}`);

export const statusErrors = {
  unauthorized: () => new KubeStatusError(401, 'Unauthorized', 'Unauthorized'),
  /** No such path or resource type (a CRD that is not installed looks exactly like this). */
  pathNotFound: () => new KubeStatusError(404, 'NotFound', 'the server could not find the requested resource', {}),
  notFound: (gr: GroupResource, name: string) =>
    new KubeStatusError(404, 'NotFound', `${qualified(gr)} "${name}" not found`, { name, group: gr.group, kind: gr.resource }),
  alreadyExists: (gr: GroupResource, name: string) =>
    new KubeStatusError(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, { name, group: gr.group, kind: gr.resource }),
  conflict: (gr: GroupResource, name: string) => new KubeStatusError(409, 'Conflict',
    `Operation cannot be fulfilled on ${qualified(gr)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: gr.group, kind: gr.resource }),
  /** RBAC's refusal (plugin/pkg/auth/authorizer/rbac): names the user, verb, resource and scope. */
  forbidden: (user: string, verb: string, gr: GroupResource, name: string | undefined, namespace: string | undefined, subresource?: string) =>
    new KubeStatusError(403, 'Forbidden',
      `${qualified(gr)}${name === undefined ? '' : ` "${name}"`} is forbidden: User "${user}" cannot ${verb} resource "${gr.resource}${subresource === undefined ? '' : `/${subresource}`}" in API group "${gr.group}" ${namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`}`,
      { ...(name === undefined ? {} : { name }), group: gr.group, kind: gr.resource }),
  badRequest: (message: string) => new KubeStatusError(400, 'BadRequest', message),
  methodNotAllowed: (method: string) => new KubeStatusError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`, {
    causes: [{ reason: 'MethodNotAllowed', message: `method ${method} not allowed` }],
  }),
  /** A resourceVersion the server no longer has (api-concepts "410 Gone responses"); reason Expired, as `errors.NewResourceExpired`. */
  expired: (message: string) => new KubeStatusError(410, 'Expired', message),
  unsupportedMediaType: (accepted: string[]) => new KubeStatusError(415, 'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`),
  tooLarge: () => new KubeStatusError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'),
  /** Validation failed (`errors.NewInvalid`): one cause per field. */
  invalid: (kind: string, group: string, name: string, causes: Array<{ field: string; type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported'; detail: string }>) =>
    new KubeStatusError(422, 'Invalid',
      `${kind}${group === '' ? '' : `.${group}`} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.detail}`).join(', ')}`,
      { name, group, kind, causes: causes.map((c) => ({ reason: c.type, message: c.detail, field: c.field })) }),
  /** The watch cache asked for a revision it has not reached (`storage.NewTooLargeResourceVersionError`). */
  tooLargeResourceVersion: (asked: number, current: number) => new KubeStatusError(504, 'Timeout',
    `Too large resource version: ${asked}, current: ${current}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }] }),
  unavailable: () => new KubeStatusError(503, 'ServiceUnavailable', 'The server is currently unable to handle the request'),
  internal: (message: string) => new KubeStatusError(500, 'InternalError', `Internal error occurred: ${message}`),
};
