import { ApiException, CoreV1Api, KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';
import { operatorIntermediateOf, type IntermediateSource, type OperatorIntermediate } from '../../federation/index.js';
import { apiRefusal, withDeadline } from './kube-client-config.js';

export interface SecretRef {
  namespace: string;
  name: string;
  /** A kubeconfig file; default: in-cluster service account, else $KUBECONFIG / ~/.kube/config. */
  kubeconfig?: string;
}

/** The keys of a `kubernetes.io/tls` Secret as cert-manager writes them. */
export const SECRET_KEYS = { cert: 'tls.crt', key: 'tls.key', roots: 'ca.crt' } as const;

const READ_TIMEOUT_MS = 10_000;

function failed(where: string, reason: string): CausewayError {
  return new CausewayError(ErrorCodes.CA_INIT, `${where}: ${reason}`);
}

/** "Secret <namespace>/<name>", for messages. */
export function secretName(ref: SecretRef): string {
  return `Secret ${ref.namespace}/${ref.name}`;
}

/**
 * The operator intermediate a Secret holds: `tls.crt` (the intermediate, then any above it),
 * `tls.key`, `ca.crt` (the organisation root(s)). CW_CA_INIT naming the Secret and the key
 * when a key is missing or holds no PEM certificate; the CA checks the rest (key match,
 * chain, URI SAN) when it adopts the material.
 */
export function intermediateOfSecret(ref: SecretRef, secret: V1Secret): OperatorIntermediate {
  const where = secretName(ref);
  const data = secret.data ?? {};
  const value = (key: string): string => {
    const encoded = data[key];
    if (encoded === undefined || encoded === '') throw failed(where, `has no "${key}" key (expected ${Object.values(SECRET_KEYS).join(', ')})`);
    return Buffer.from(encoded, 'base64').toString('utf8');
  };
  return operatorIntermediateOf(value(SECRET_KEYS.cert), value(SECRET_KEYS.key), value(SECRET_KEYS.roots), {
    certs: `${where} key ${SECRET_KEYS.cert}`, roots: `${where} key ${SECRET_KEYS.roots}`,
  });
}

/**
 * An operator intermediate read from a Kubernetes Secret through the API server (GET
 * /api/v1/namespaces/{ns}/secrets/{name}). Read at start and on every `trust rotate`; the
 * gateway also follows the Secret's renewals by itself (ca-secret-renewals.ts). The gateway's
 * service account needs `get` (and, to follow renewals, `watch`) on that one Secret.
 */
export function secretIntermediate(ref: SecretRef): IntermediateSource {
  const where = secretName(ref);
  return {
    describe: where,
    read: async () => {
      const config = new KubeConfig();
      try {
        if (ref.kubeconfig === undefined) config.loadFromDefault();
        else config.loadFromFile(ref.kubeconfig);
      } catch (err) {
        throw failed(where, `cannot load the Kubernetes client configuration: ${describeError(err)}`);
      }
      const api = config.makeApiClient(CoreV1Api);
      let secret;
      try {
        secret = await withDeadline(api.readNamespacedSecret({ name: ref.name, namespace: ref.namespace }), READ_TIMEOUT_MS, `GET ${where}`);
      } catch (err) {
        if (err instanceof ApiException) throw failed(where, apiRefusal(err.code, 'get', 'this Secret'));
        throw failed(where, `cannot read it: ${describeError(err)}`);
      }
      return intermediateOfSecret(ref, secret);
    },
  };
}
