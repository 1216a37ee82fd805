import { KubeConfig } from '@kubernetes/client-node';
import { CausewayError, ErrorCodes, createKubernetesSource, describeError, type KubernetesSource, type Locality, type Logger } from '../../registry/index.js';
import type { KubernetesSourceConfig } from '../config/validate-kubernetes.js';

/**
 * The Kubernetes source of a gateway config: the kubeconfig file when named; else in-cluster
 * (the pod's service account token and CA, $KUBERNETES_SERVICE_HOST), else client-node's
 * default ($KUBECONFIG, ~/.kube/config). A file that cannot be read stops the start with
 * CW_CONFIG_READ; an API server that cannot be reached does not (the source retries).
 */
export function kubernetesSource(settings: KubernetesSourceConfig, options: { trustDomain: string; locality: Locality; logger: Logger }): Promise<KubernetesSource> {
  return createKubernetesSource({
    name: settings.name, kubeConfig: loadKubeConfig(settings), trustDomain: options.trustDomain, locality: options.locality,
    serviceExports: settings.serviceExports, logger: options.logger,
  });
}

/** The client configuration `sources.kubernetes` names (CW_CONFIG_READ when it cannot be loaded). */
export function loadKubeConfig(settings: Pick<KubernetesSourceConfig, 'kubeconfig'>): KubeConfig {
  const kubeConfig = new KubeConfig();
  try {
    if (settings.kubeconfig !== undefined) kubeConfig.loadFromFile(settings.kubeconfig);
    else if (process.env.KUBERNETES_SERVICE_HOST !== undefined) kubeConfig.loadFromCluster();
    else kubeConfig.loadFromDefault();
  } catch (err) {
    throw new CausewayError(ErrorCodes.CONFIG_READ, `sources.kubernetes: cannot load the Kubernetes client configuration${settings.kubeconfig === undefined ? '' : ` ${settings.kubeconfig}`}: ${describeError(err)}`, { cause: err });
  }
  if (kubeConfig.getCurrentCluster() === null) {
    throw new CausewayError(ErrorCodes.CONFIG_READ, `sources.kubernetes: the Kubernetes client configuration names no cluster${settings.kubeconfig === undefined ? ' (not in a cluster, and no kubeconfig found)' : ` (${settings.kubeconfig})`}`);
  }
  return kubeConfig;
}
