import path from 'node:path';
import { readers, section } from './validate-limits.js';

/** `telemetry:` — metrics cardinality and the access log (docs/configuration.md, docs/observability.md). */
export interface TelemetryConfig {
  metrics: {
    /** Source identities given series of their own; later ones are counted as `other`. */
    maxSourceIdentities: number;
    /** Destination services given series of their own; later ones are counted as `other`. */
    maxServices: number;
  };
  /** Absent: no access log. */
  accessLog?: {
    /** A file (appended to), or `-` for standard output. */
    path: string;
    /** The fraction of successful requests logged, 0 to 1; failures and denials are always logged. */
    sample: number;
  };
}

export const DEFAULT_TELEMETRY: Readonly<TelemetryConfig> = { metrics: { maxSourceIdentities: 100, maxServices: 1000 } };

export function validateTelemetry(value: unknown, base: string, errors: string[]): TelemetryConfig {
  const raw = section(value, 'telemetry', ['metrics', 'accessLog'], errors);
  const { count } = readers(errors);
  const metrics = section(raw.metrics, 'telemetry.metrics', ['maxSourceIdentities', 'maxServices'], errors);
  const d = DEFAULT_TELEMETRY.metrics;
  const config: TelemetryConfig = {
    metrics: {
      maxSourceIdentities: count(metrics.maxSourceIdentities, 'telemetry.metrics.maxSourceIdentities', d.maxSourceIdentities, 1, 100_000),
      maxServices: count(metrics.maxServices, 'telemetry.metrics.maxServices', d.maxServices, 1, 100_000),
    },
  };
  if (raw.accessLog === undefined) return config;
  const log = section(raw.accessLog, 'telemetry.accessLog', ['path', 'sample'], errors);
  let file = '-';
  if (typeof log.path !== 'string' || log.path === '') errors.push('telemetry.accessLog.path: is required (a file, or "-" for standard output)');
  else file = log.path === '-' ? '-' : path.resolve(base, log.path);
  let sample = 1;
  if (log.sample !== undefined) {
    if (typeof log.sample !== 'number' || !(log.sample >= 0 && log.sample <= 1)) errors.push('telemetry.accessLog.sample: must be a number from 0 to 1 (the fraction of successful requests logged)');
    else sample = log.sample;
  }
  config.accessLog = { path: file, sample };
  return config;
}
