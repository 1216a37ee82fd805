import type { KubeConfig } from '@kubernetes/client-node';
import { createKubernetesSource, type KubernetesSource, type Locality, type Logger } from '../../registry/index.js';
import { kubeClientConfig } from './kube-client-config.js';
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
  return kubeClientConfig(settings.kubeconfig, 'sources.kubernetes');
}
