/**
 * The node metadata key by which an xDS-enabled gRPC server names the certificate provider
 * instance of its bootstrap (gRFC A29 `certificate_providers`) that holds its SVID and bundle:
 * the server listener then requires mTLS through it and carries RBAC (server-listener.ts).
 * The control plane cannot see a client's bootstrap, and a listener naming an instance the
 * bootstrap lacks is NACKed, so the client says so itself (as Istio's proxyless agents do
 * through node metadata).
 */
export const CERTIFICATE_PROVIDER_KEY = 'causeway.dev/certificate-provider';

const INSTANCE_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * The instance name from a request's `node` (google.protobuf.Struct as proto-loader decodes it:
 * `{fields: {key: {stringValue}}}`), or undefined when absent or not a plain name.
 */
export function certificateProviderOf(node: unknown): string | undefined {
  const fields = (node as { metadata?: { fields?: Record<string, { stringValue?: unknown } | undefined> } } | undefined)?.metadata?.fields;
  const value = fields?.[CERTIFICATE_PROVIDER_KEY]?.stringValue;
  return typeof value === 'string' && INSTANCE_NAME.test(value) ? value : undefined;
}
