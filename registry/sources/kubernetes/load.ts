import type { KubernetesSource, KubernetesSourceOptions } from './kubernetes-source.js';

/**
 * The Kubernetes source, loaded on first use: @kubernetes/client-node takes about half a second
 * to import, which nothing but a gateway with `sources.kubernetes` should pay (the CLI and the
 * agent import the registry too).
 */
export async function createKubernetesSource(options: KubernetesSourceOptions): Promise<KubernetesSource> {
  const { KubernetesSource: Source } = await import('./kubernetes-source.js');
  return new Source(options);
}
