import { checkFields, isPlainObject } from '../../registry/index.js';
import { parseDurationMs } from './durations.js';
import type { LimitsConfig } from './gateway-config.js';
import { parseByteSize } from './sizes.js';

export const DEFAULT_LIMITS: Readonly<LimitsConfig> = {
  handshakeTimeoutMs: 10_000,
  maxPendingHandshakes: 512,
  maxPendingHandshakesPerSource: 64,
  fileDescriptorReserve: 256,
  maxHeaderListSize: 64 * 1024,
  eastWest: { maxConcurrentStreams: 1000 },
  outbound: { maxConcurrentStreams: 1000 },
  federation: {
    maxMessageBytes: 64 * 1024 * 1024,
    anonymousMaxMessageBytes: 64 * 1024,
    anonymousMaxConcurrentStreams: 10,
    idleTimeoutMs: 300_000,
    anonymousIdleTimeoutMs: 30_000,
    heartbeatIntervalMs: 5_000,
    deadAfterMs: 15_000,
  },
};

export type Reader = (value: unknown, at: string, fallback: number, min: number, max: number) => number;

export function readers(errors: string[]): { count: Reader; bytes: Reader; ms: Reader } {
  const check = (parse: (v: unknown) => number | undefined, shape: string): Reader => (value, at, fallback, min, max) => {
    if (value === undefined) return fallback;
    const parsed = parse(value);
    if (parsed === undefined || parsed < min || parsed > max) {
      errors.push(`${at}: must be ${shape} from ${min} to ${max}`);
      return fallback;
    }
    return parsed;
  };
  return {
    count: check((v) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined), 'a whole number'),
    bytes: check(parseByteSize, 'a size in bytes (65536, "64KiB", "64MiB")'),
    ms: check(parseDurationMs, 'a duration ("500ms", "10s", "5m"; a number is seconds) in ms'),
  };
}

export function section(value: unknown, at: string, fields: readonly string[], errors: string[]): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    errors.push(`${at}: must be a mapping of ${fields.join(', ')}`);
    return {};
  }
  checkFields(value, fields, at, errors);
  return value;
}

const FEDERATION_FIELDS = [
  'maxMessageSize', 'anonymousMaxMessageSize', 'anonymousMaxConcurrentStreams', 'idleTimeout', 'anonymousIdleTimeout', 'heartbeatInterval', 'deadAfter',
] as const;

/** `limits:` — connection, stream, message and liveness limits of the listeners (docs/configuration.md). */
export function validateLimits(value: unknown, errors: string[]): LimitsConfig {
  const raw = section(value, 'limits', [
    'handshakeTimeout', 'maxPendingHandshakes', 'maxPendingHandshakesPerSource', 'maxConnections', 'fileDescriptorReserve',
    'maxHeaderListSize', 'eastWest', 'outbound', 'federation',
  ], errors);
  const { count, bytes, ms } = readers(errors);
  const d = DEFAULT_LIMITS;
  const eastWest = section(raw.eastWest, 'limits.eastWest', ['maxConcurrentStreams'], errors);
  const outbound = section(raw.outbound, 'limits.outbound', ['maxConcurrentStreams'], errors);
  const fed = section(raw.federation, 'limits.federation', FEDERATION_FIELDS, errors);
  const limits: LimitsConfig = {
    handshakeTimeoutMs: ms(raw.handshakeTimeout, 'limits.handshakeTimeout', d.handshakeTimeoutMs, 100, 300_000),
    maxPendingHandshakes: count(raw.maxPendingHandshakes, 'limits.maxPendingHandshakes', d.maxPendingHandshakes, 1, 1_000_000),
    maxPendingHandshakesPerSource: count(raw.maxPendingHandshakesPerSource, 'limits.maxPendingHandshakesPerSource', d.maxPendingHandshakesPerSource, 1, 1_000_000),
    fileDescriptorReserve: count(raw.fileDescriptorReserve, 'limits.fileDescriptorReserve', d.fileDescriptorReserve, 16, 1_000_000),
    // RFC 9113 §6.5.2 leaves the size to the receiver; below 4 KiB ordinary requests fail.
    maxHeaderListSize: bytes(raw.maxHeaderListSize, 'limits.maxHeaderListSize', d.maxHeaderListSize, 4096, 16 * 1024 * 1024),
    eastWest: { maxConcurrentStreams: count(eastWest.maxConcurrentStreams, 'limits.eastWest.maxConcurrentStreams', d.eastWest.maxConcurrentStreams, 1, 100_000) },
    outbound: { maxConcurrentStreams: count(outbound.maxConcurrentStreams, 'limits.outbound.maxConcurrentStreams', d.outbound.maxConcurrentStreams, 1, 100_000) },
    federation: {
      // 4 MiB is gRPC's own default; a snapshot of a large catalog needs more.
      maxMessageBytes: bytes(fed.maxMessageSize, 'limits.federation.maxMessageSize', d.federation.maxMessageBytes, 4 * 1024 * 1024, 1024 * 1024 * 1024),
      anonymousMaxMessageBytes: bytes(fed.anonymousMaxMessageSize, 'limits.federation.anonymousMaxMessageSize', d.federation.anonymousMaxMessageBytes, 16 * 1024, 4 * 1024 * 1024),
      anonymousMaxConcurrentStreams: count(fed.anonymousMaxConcurrentStreams, 'limits.federation.anonymousMaxConcurrentStreams', d.federation.anonymousMaxConcurrentStreams, 1, 1000),
      idleTimeoutMs: ms(fed.idleTimeout, 'limits.federation.idleTimeout', d.federation.idleTimeoutMs, 1000, 86_400_000),
      anonymousIdleTimeoutMs: ms(fed.anonymousIdleTimeout, 'limits.federation.anonymousIdleTimeout', d.federation.anonymousIdleTimeoutMs, 1000, 3_600_000),
      heartbeatIntervalMs: ms(fed.heartbeatInterval, 'limits.federation.heartbeatInterval', d.federation.heartbeatIntervalMs, 50, 300_000),
      deadAfterMs: ms(fed.deadAfter, 'limits.federation.deadAfter', d.federation.deadAfterMs, 200, 3_600_000),
    },
  };
  const max = raw.maxConnections;
  if (typeof max === 'number' && Number.isSafeInteger(max) && max >= 1 && max <= 10_000_000) limits.maxConnections = max;
  else if (max !== undefined && max !== 'auto') errors.push('limits.maxConnections: must be "auto" or a whole number from 1 to 10000000');
  if (limits.maxPendingHandshakesPerSource > limits.maxPendingHandshakes) {
    errors.push('limits.maxPendingHandshakesPerSource: must not exceed limits.maxPendingHandshakes');
  }
  // Two heartbeats may be lost before a link is declared dead.
  if (limits.federation.deadAfterMs < 2 * limits.federation.heartbeatIntervalMs) {
    errors.push(`limits.federation.deadAfter: must be at least twice limits.federation.heartbeatInterval (${limits.federation.heartbeatIntervalMs} ms)`);
  }
  return limits;
}
