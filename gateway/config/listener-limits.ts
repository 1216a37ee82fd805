import { readFileSync } from 'node:fs';
import type { ConnectionLimits, FederationListenerLimits } from '../../federation/index.js';
import type { LimitsConfig } from './gateway-config.js';

/** Listeners that accept connections from the network and share the descriptor budget. */
const NETWORK_LISTENERS = 4; // east-west, federation, identity, outbound

/** Assumed where the limit cannot be read (not Linux): the usual soft default. */
const FALLBACK_OPEN_FILES = 1024;

/**
 * The soft RLIMIT_NOFILE of this process (`ulimit -n`). Node has no getrlimit, so it is read
 * from /proc/self/limits on Linux; elsewhere the common default is assumed.
 */
export function openFileLimit(readLimits: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number {
  try {
    const line = readLimits().split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line === undefined ? undefined : /^Max open files\s+(\d+|unlimited)/.exec(line)?.[1];
    if (soft === 'unlimited') return Number.MAX_SAFE_INTEGER;
    if (soft !== undefined) return Number(soft);
  } catch {
    // No /proc: fall through.
  }
  return FALLBACK_OPEN_FILES;
}

/**
 * The connection caps of each TLS listener. Without a configured `maxConnections`, the
 * descriptors left after `fileDescriptorReserve` are split between the network listeners,
 * so that a flood on any of them is refused before the process runs out of descriptors —
 * while the admin listener, the data dir and upstream connections still get theirs.
 */
export function connectionLimits(limits: LimitsConfig, openFiles: number = openFileLimit()): ConnectionLimits {
  const derived = Math.max(32, Math.floor((openFiles - limits.fileDescriptorReserve) / NETWORK_LISTENERS));
  return {
    maxPendingHandshakes: limits.maxPendingHandshakes,
    maxPendingHandshakesPerSource: limits.maxPendingHandshakesPerSource,
    maxConnections: limits.maxConnections ?? derived,
  };
}

/** The federation listener's limits from the config. */
export function federationLimits(limits: LimitsConfig, openFiles?: number): FederationListenerLimits {
  const f = limits.federation;
  return {
    handshakeTimeoutMs: limits.handshakeTimeoutMs,
    connections: connectionLimits(limits, openFiles),
    idleTimeoutMs: f.idleTimeoutMs,
    maxMessageBytes: f.maxMessageBytes,
    anonymousMaxMessageBytes: f.anonymousMaxMessageBytes,
    anonymousMaxConcurrentStreams: f.anonymousMaxConcurrentStreams,
    anonymousIdleTimeoutMs: f.anonymousIdleTimeoutMs,
  };
}
