import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';
import { operatorIntermediateOf, type IntermediateSource } from '../../federation/index.js';

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

/**
 * An operator intermediate read from a Kubernetes Secret through the API server (GET
 * /api/v1/namespaces/{ns}/secrets/{name}): `tls.crt` (the intermediate, then any above it),
 * `tls.key`, `ca.crt` (the organisation root(s)). Read at start and on every `trust rotate`,
 * so a renewed Secret is adopted without a restart. The gateway's service account needs
 * `get` on that one Secret.
 */
export function secretIntermediate(ref: SecretRef): IntermediateSource {
  const where = `Secret ${ref.namespace}/${ref.name}`;
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
      let timer: NodeJS.Timeout | undefined;
      let secret;
      try {
        secret = await Promise.race([
          api.readNamespacedSecret({ name: ref.name, namespace: ref.namespace }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer from the API server within ${READ_TIMEOUT_MS} ms`)), READ_TIMEOUT_MS);
          }),
        ]);
      } catch (err) {
        if (err instanceof ApiException) {
          const reason = err.code === 404 ? 'not found'
            : err.code === 403 ? 'forbidden: the gateway\'s service account needs "get" on this Secret'
              : err.code === 401 ? 'the API server refused the credentials (401)' : `the API server answered ${err.code}`;
          throw failed(where, reason);
        }
        throw failed(where, `cannot read it: ${describeError(err)}`);
      } finally {
        clearTimeout(timer);
      }
      const data = secret.data ?? {};
      const value = (key: string): string => {
        const encoded = data[key];
        if (encoded === undefined || encoded === '') throw failed(where, `has no "${key}" key (expected ${Object.values(SECRET_KEYS).join(', ')})`);
        return Buffer.from(encoded, 'base64').toString('utf8');
      };
      return operatorIntermediateOf(value(SECRET_KEYS.cert), value(SECRET_KEYS.key), value(SECRET_KEYS.roots), {
        certs: `${where} key ${SECRET_KEYS.cert}`, roots: `${where} key ${SECRET_KEYS.roots}`,
      });
    },
  };
}
