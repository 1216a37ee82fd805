import path from 'node:path';
import { section } from './validate-limits.js';

/** `sources.kubernetes` — this cluster's own API server as a registry source (docs/kubernetes.md). */
export interface KubernetesSourceConfig {
  /** Names the source in status. */
  name: string;
  /** A kubeconfig file; absent: in-cluster configuration (the pod's service account), else $KUBECONFIG / ~/.kube/config. */
  kubeconfig: string | undefined;
  /** Follow MCS ServiceExports as well as the causeway.dev/export annotation. */
  serviceExports: boolean;
  /** Write the services imported from peers as MCS ServiceImports (visibility only). */
  serviceImports: boolean;
}

const FIELDS = ['name', 'kubeconfig', 'serviceExports', 'serviceImports'] as const;

export function validateKubernetesSource(value: unknown, configDir: string, errors: string[]): KubernetesSourceConfig | undefined {
  if (value === undefined || value === null) return undefined;
  const raw = section(value, 'sources.kubernetes', FIELDS, errors);
  const name = raw.name ?? 'kubernetes';
  if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) errors.push('sources.kubernetes.name: must be lower-case letters, digits and "-"');
  const kubeconfig = raw.kubeconfig;
  if (kubeconfig !== undefined && (typeof kubeconfig !== 'string' || kubeconfig === '')) errors.push('sources.kubernetes.kubeconfig: must be a path to a kubeconfig file');
  const exports = raw.serviceExports ?? true;
  if (typeof exports !== 'boolean') errors.push('sources.kubernetes.serviceExports: must be true or false');
  const imports = raw.serviceImports ?? false;
  if (typeof imports !== 'boolean') errors.push('sources.kubernetes.serviceImports: must be true or false');
  return {
    name: typeof name === 'string' ? name : 'kubernetes',
    kubeconfig: typeof kubeconfig === 'string' && kubeconfig !== '' ? path.resolve(configDir, kubeconfig) : undefined,
    serviceExports: exports === true,
    serviceImports: imports === true,
  };
}
