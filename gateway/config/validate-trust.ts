import path from 'node:path';
import { checkFields, isPlainObject } from '../../registry/index.js';
import { parseDuration } from './durations.js';
import type { IssuanceConfig, TrustConfig } from './gateway-config.js';

const DEFAULT_TRUST: TrustConfig = {
  publishWindowSeconds: 300, bundleRefreshHintSeconds: 300, workloadSvidTtlSeconds: 3600, maxWorkloadSvidTtlSeconds: 86400,
};

function duration(value: unknown, at: string, errors: string[], fallback: number, min: number, max: number, example: string): number {
  if (value === undefined) return fallback;
  const seconds = parseDuration(value);
  if (seconds === undefined || seconds < min || seconds > max) {
    errors.push(`${at}: must be a duration from ${min}s to ${max}s such as "${example}"`);
    return fallback;
  }
  return seconds;
}

function file(value: unknown, at: string, errors: string[], base: string): string {
  if (typeof value !== 'string' || value === '') {
    errors.push(`${at}: is required (a file path)`);
    return '';
  }
  return path.resolve(base, value);
}

/**
 * `trust:` — the CA and its rotation timeline. Without `intermediate` the gateway keeps a
 * self-managed root per trust domain in its data dir; with it, it signs with the operator's
 * intermediate (files, e.g. a mounted Kubernetes Secret) under an organisation root.
 */
export function validateTrust(value: unknown, errors: string[], base: string): TrustConfig {
  if (value === undefined) return DEFAULT_TRUST;
  if (!isPlainObject(value)) {
    errors.push('trust: must be a mapping');
    return DEFAULT_TRUST;
  }
  checkFields(value, ['intermediate', 'publishWindow', 'bundleRefreshHint', 'workloadSvidTtl', 'maxWorkloadSvidTtl'], 'trust', errors);
  const trust: TrustConfig = {
    publishWindowSeconds: duration(value.publishWindow, 'trust.publishWindow', errors, 300, 1, 7 * 86400, '5m'),
    bundleRefreshHintSeconds: duration(value.bundleRefreshHint, 'trust.bundleRefreshHint', errors, 300, 1, 86400, '5m'),
    workloadSvidTtlSeconds: duration(value.workloadSvidTtl, 'trust.workloadSvidTtl', errors, 3600, 60, 30 * 86400, '1h'),
    maxWorkloadSvidTtlSeconds: duration(value.maxWorkloadSvidTtl, 'trust.maxWorkloadSvidTtl', errors, 86400, 60, 30 * 86400, '24h'),
  };
  if (trust.workloadSvidTtlSeconds > trust.maxWorkloadSvidTtlSeconds) errors.push('trust.workloadSvidTtl: must not exceed trust.maxWorkloadSvidTtl');
  // Bundle-endpoint consumers re-fetch every refresh hint: a new root must be published at
  // least that long before it signs, or they would meet certificates they cannot verify.
  if (trust.publishWindowSeconds < trust.bundleRefreshHintSeconds) {
    errors.push(`trust.publishWindow: must be at least trust.bundleRefreshHint (${trust.bundleRefreshHintSeconds}s), so bundle-endpoint consumers learn a new root before it signs`);
  }
  const intermediate = value.intermediate;
  if (intermediate !== undefined) {
    if (!isPlainObject(intermediate)) errors.push('trust.intermediate: must be a mapping of cert, key, roots (files) or secret (a Kubernetes Secret)');
    else if (intermediate.secret !== undefined) {
      checkFields(intermediate, ['secret', 'kubeconfig'], 'trust.intermediate', errors);
      const ref = intermediate.secret;
      if (!isPlainObject(ref)) errors.push('trust.intermediate.secret: must be a mapping of namespace, name');
      else {
        checkFields(ref, ['namespace', 'name'], 'trust.intermediate.secret', errors);
        const name = (v: unknown, at: string): string => {
          // Kubernetes object names: DNS-1123 subdomains; namespaces: labels (both lower case).
          if (typeof v !== 'string' || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(v)) errors.push(`${at}: must be a Kubernetes object name`);
          return typeof v === 'string' ? v : '';
        };
        trust.intermediate = {
          kind: 'secret',
          secret: {
            namespace: name(ref.namespace, 'trust.intermediate.secret.namespace'),
            name: name(ref.name, 'trust.intermediate.secret.name'),
            ...(intermediate.kubeconfig === undefined ? {} : { kubeconfig: file(intermediate.kubeconfig, 'trust.intermediate.kubeconfig', errors, base) }),
          },
        };
      }
    } else {
      checkFields(intermediate, ['cert', 'key', 'roots', 'secret', 'kubeconfig'], 'trust.intermediate', errors);
      trust.intermediate = {
        kind: 'files',
        files: {
          certFile: file(intermediate.cert, 'trust.intermediate.cert', errors, base),
          keyFile: file(intermediate.key, 'trust.intermediate.key', errors, base),
          rootsFile: file(intermediate.roots, 'trust.intermediate.roots', errors, base),
        },
      };
    }
  }
  return trust;
}

/** `issuance:` — the workload SVID API's rate limit and the optional Kubernetes service account issuer. */
export function validateIssuance(value: unknown, errors: string[], base: string): IssuanceConfig {
  const issuance: IssuanceConfig = { rateLimit: { perSecond: 5, burst: 20 } };
  if (value === undefined) return issuance;
  if (!isPlainObject(value)) {
    errors.push('issuance: must be a mapping');
    return issuance;
  }
  checkFields(value, ['rateLimit', 'kubernetes'], 'issuance', errors);
  if (value.rateLimit !== undefined) {
    const r = value.rateLimit;
    if (!isPlainObject(r)) errors.push('issuance.rateLimit: must be a mapping of perSecond, burst');
    else {
      checkFields(r, ['perSecond', 'burst'], 'issuance.rateLimit', errors);
      const perSecond = r.perSecond ?? 5;
      const burst = r.burst ?? 20;
      if (typeof perSecond !== 'number' || !(perSecond > 0) || perSecond > 10_000) errors.push('issuance.rateLimit.perSecond: must be a number above 0 (at most 10000)');
      if (typeof burst !== 'number' || !Number.isInteger(burst) || burst < 1 || burst > 100_000) errors.push('issuance.rateLimit.burst: must be a whole number from 1 to 100000');
      if (typeof perSecond === 'number' && typeof burst === 'number') issuance.rateLimit = { perSecond, burst };
    }
  }
  if (value.kubernetes !== undefined) {
    const k = value.kubernetes;
    if (!isPlainObject(k)) errors.push('issuance.kubernetes: must be a mapping of issuer, audience and jwksFile or kubeconfig');
    else {
      checkFields(k, ['issuer', 'audience', 'jwksFile', 'kubeconfig', 'maxTokenTtl'], 'issuance.kubernetes', errors);
      const text = (v: unknown, at: string): string => {
        if (typeof v !== 'string' || v === '') errors.push(`${at}: is required`);
        return typeof v === 'string' ? v : '';
      };
      issuance.kubernetes = {
        issuer: text(k.issuer, 'issuance.kubernetes.issuer'),
        audience: text(k.audience, 'issuance.kubernetes.audience'),
        // Without a file, the keys come from the API server and are kept current (gateway/kubernetes/api-jwks.ts).
        ...(k.jwksFile === undefined ? {} : { jwksFile: file(k.jwksFile, 'issuance.kubernetes.jwksFile', errors, base) }),
        ...(k.kubeconfig === undefined ? {} : { kubeconfig: file(k.kubeconfig, 'issuance.kubernetes.kubeconfig', errors, base) }),
        // Projected tokens live 1 h by default; a longer-lived token is refused (legacy Secret tokens have no exp at all).
        maxTokenTtlSeconds: duration(k.maxTokenTtl, 'issuance.kubernetes.maxTokenTtl', errors, 86400, 60, 7 * 86400, '24h'),
      };
      if (k.jwksFile !== undefined && k.kubeconfig !== undefined) {
        errors.push('issuance.kubernetes.kubeconfig: reads the keys from the API server, which jwksFile replaces; give one of the two');
      }
    }
  }
  return issuance;
}
