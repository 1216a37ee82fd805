import { KubeConfig } from '@kubernetes/client-node';
import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';

/**
 * The client configuration of the cluster a config field names: its kubeconfig file when
 * given; else in-cluster (the pod's service account token and CA, $KUBERNETES_SERVICE_HOST),
 * else client-node's default ($KUBECONFIG, ~/.kube/config). CW_CONFIG_READ, naming `field`,
 * when it cannot be loaded or names no cluster; an API server that does not answer is not
 * an error here (its users retry).
 */
export function kubeClientConfig(kubeconfig: string | undefined, field: string): KubeConfig {
  const config = new KubeConfig();
  const named = kubeconfig === undefined ? '' : ` ${kubeconfig}`;
  try {
    if (kubeconfig !== undefined) config.loadFromFile(kubeconfig);
    else if (process.env.KUBERNETES_SERVICE_HOST !== undefined) config.loadFromCluster();
    else config.loadFromDefault();
  } catch (err) {
    throw new CausewayError(ErrorCodes.CONFIG_READ, `${field}: cannot load the Kubernetes client configuration${named}: ${describeError(err)}`, { cause: err });
  }
  if (config.getCurrentCluster() === null) {
    throw new CausewayError(ErrorCodes.CONFIG_READ,
      `${field}: the Kubernetes client configuration names no cluster${kubeconfig === undefined ? ' (not in a cluster, and no kubeconfig found)' : ` (${kubeconfig})`}`);
  }
  return config;
}

/** What an API server's refusal of a request means, for a message: `what` is the object, `verb` the RBAC verb it needed. */
export function apiRefusal(code: number, verb: string, what: string): string {
  if (code === 404) return 'not found';
  if (code === 403) return `forbidden: the gateway's service account needs "${verb}" on ${what}`;
  if (code === 401) return 'the API server refused the credentials (401)';
  return `the API server answered ${code}`;
}

/** Races `work` against a deadline; the timer never outlives the race. */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from the API server within ${ms} ms (${what})`)), ms);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
