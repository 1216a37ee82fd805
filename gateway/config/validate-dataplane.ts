import type { DataPlaneConfig } from './gateway-config.js';
import { H2_WINDOWS } from '../dataplane/h2-windows.js';
import { DEFAULT_POOL } from '../dataplane/http1/upstream-pool.js';
import { ANSWER_MARGIN_MS, DEFAULT_TUNNEL } from '../dataplane/tunnel-client.js';
import { readers, section } from './validate-limits.js';

const CONNECT_TIMEOUT_MS = 5000;

export const DEFAULT_DATA_PLANE: Readonly<DataPlaneConfig> = {
  connectTimeoutMs: CONNECT_TIMEOUT_MS,
  idleTimeoutMs: 300_000,
  headersTimeoutMs: 30_000,
  keepAliveTimeoutMs: 60_000,
  streamIdleTimeoutMs: 120_000,
  maxHeadBytes: 64 * 1024,
  // The data plane's own defaults, defined once next to what they tune.
  ...H2_WINDOWS,
  pool: DEFAULT_POOL,
  tunnel: { ...DEFAULT_TUNNEL, responseTimeoutMs: CONNECT_TIMEOUT_MS + ANSWER_MARGIN_MS },
};

/** `dataPlane:` — timeouts, keep-alive pools and HTTP/2 windows (docs/configuration.md). */
export function validateDataPlane(value: unknown, errors: string[]): DataPlaneConfig {
  const raw = section(value, 'dataPlane', [
    'connectTimeout', 'idleTimeout', 'headersTimeout', 'keepAliveTimeout', 'streamIdleTimeout', 'maxHeadSize', 'streamWindow', 'sessionWindow', 'pool', 'tunnel',
  ], errors);
  const pool = section(raw.pool, 'dataPlane.pool', ['maxPerKey', 'idleTimeout', 'maxLifetime', 'queueTimeout'], errors);
  const tunnel = section(raw.tunnel, 'dataPlane.tunnel', ['pingInterval', 'pingTimeout', 'responseTimeout'], errors);
  const { count, bytes, ms } = readers(errors);
  const d = DEFAULT_DATA_PLANE;
  const connectTimeoutMs = ms(raw.connectTimeout, 'dataPlane.connectTimeout', d.connectTimeoutMs, 100, 120_000);
  const config: DataPlaneConfig = {
    connectTimeoutMs,
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
    tunnel: {
      pingIntervalMs: ms(tunnel.pingInterval, 'dataPlane.tunnel.pingInterval', d.tunnel.pingIntervalMs, 100, 60_000),
      pingTimeoutMs: ms(tunnel.pingTimeout, 'dataPlane.tunnel.pingTimeout', d.tunnel.pingTimeoutMs, 100, 60_000),
      // The CONNECT answer follows the remote gateway's own connect to its endpoint: by default
      // it gets that connect timeout (the same setting on every gateway) and a margin for the hop.
      responseTimeoutMs: ms(tunnel.responseTimeout, 'dataPlane.tunnel.responseTimeout', connectTimeoutMs + ANSWER_MARGIN_MS, 100, 600_000),
    },
  };
  // A pooled connection must be let go before the gateway on the other end ends the stream idle.
  if (config.pool.idleTimeoutMs >= config.streamIdleTimeoutMs) {
    errors.push(`dataPlane.pool.idleTimeout: must be below dataPlane.streamIdleTimeout (${config.streamIdleTimeoutMs} ms)`);
  }
  return config;
}
