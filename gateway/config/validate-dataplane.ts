import type { DataPlaneConfig } from './gateway-config.js';
import { H2_WINDOWS } from '../dataplane/h2-windows.js';
import { DEFAULT_POOL } from '../dataplane/http1/upstream-pool.js';
import { readers, section } from './validate-limits.js';

export const DEFAULT_DATA_PLANE: Readonly<DataPlaneConfig> = {
  connectTimeoutMs: 5000,
  idleTimeoutMs: 300_000,
  headersTimeoutMs: 30_000,
  keepAliveTimeoutMs: 60_000,
  streamIdleTimeoutMs: 120_000,
  maxHeadBytes: 64 * 1024,
  // The data plane's own defaults, defined once next to what they tune.
  ...H2_WINDOWS,
  pool: DEFAULT_POOL,
};

/** `dataPlane:` — timeouts, keep-alive pools and HTTP/2 windows (docs/configuration.md). */
export function validateDataPlane(value: unknown, errors: string[]): DataPlaneConfig {
  const raw = section(value, 'dataPlane', [
    'connectTimeout', 'idleTimeout', 'headersTimeout', 'keepAliveTimeout', 'streamIdleTimeout', 'maxHeadSize', 'streamWindow', 'sessionWindow', 'pool',
  ], errors);
  const pool = section(raw.pool, 'dataPlane.pool', ['maxPerKey', 'idleTimeout', 'maxLifetime', 'queueTimeout'], errors);
  const { count, bytes, ms } = readers(errors);
  const d = DEFAULT_DATA_PLANE;
  const config: DataPlaneConfig = {
    connectTimeoutMs: ms(raw.connectTimeout, 'dataPlane.connectTimeout', d.connectTimeoutMs, 100, 120_000),
    idleTimeoutMs: ms(raw.idleTimeout, 'dataPlane.idleTimeout', d.idleTimeoutMs, 100, 86_400_000),
    headersTimeoutMs: ms(raw.headersTimeout, 'dataPlane.headersTimeout', d.headersTimeoutMs, 100, 600_000),
    keepAliveTimeoutMs: ms(raw.keepAliveTimeout, 'dataPlane.keepAliveTimeout', d.keepAliveTimeoutMs, 100, 86_400_000),
    streamIdleTimeoutMs: ms(raw.streamIdleTimeout, 'dataPlane.streamIdleTimeout', d.streamIdleTimeoutMs, 100, 86_400_000),
    maxHeadBytes: bytes(raw.maxHeadSize, 'dataPlane.maxHeadSize', d.maxHeadBytes, 4096, 1024 * 1024),
    // RFC 9113 §6.5.2: SETTINGS_INITIAL_WINDOW_SIZE may not exceed 2^31-1.
    streamWindowBytes: bytes(raw.streamWindow, 'dataPlane.streamWindow', d.streamWindowBytes, 65_535, 2 ** 31 - 1),
    sessionWindowBytes: bytes(raw.sessionWindow, 'dataPlane.sessionWindow', d.sessionWindowBytes, 65_535, 2 ** 31 - 1),
    pool: {
      maxPerKey: count(pool.maxPerKey, 'dataPlane.pool.maxPerKey', d.pool.maxPerKey, 1, 100_000),
      idleTimeoutMs: ms(pool.idleTimeout, 'dataPlane.pool.idleTimeout', d.pool.idleTimeoutMs, 100, 3_600_000),
      maxLifetimeMs: ms(pool.maxLifetime, 'dataPlane.pool.maxLifetime', d.pool.maxLifetimeMs, 1000, 86_400_000),
      queueTimeoutMs: ms(pool.queueTimeout, 'dataPlane.pool.queueTimeout', d.pool.queueTimeoutMs, 10, 600_000),
    },
  };
  // A pooled connection must be let go before the gateway on the other end ends the stream idle.
  if (config.pool.idleTimeoutMs >= config.streamIdleTimeoutMs) {
    errors.push(`dataPlane.pool.idleTimeout: must be below dataPlane.streamIdleTimeout (${config.streamIdleTimeoutMs} ms)`);
  }
  return config;
}
