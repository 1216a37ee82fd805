import { readers, section } from './validate-limits.js';

/** `agents:` — how the gateway treats VM and bare-metal agents (docs/configuration.md, docs/vm.md). */
export interface AgentsConfig {
  /** After an agent's channel drops, how long its endpoints keep their last health before they turn unhealthy. */
  leaseMs: number;
  /** Ping interval of the agent channel; two missed pongs close it (and start the lease). */
  pingIntervalMs: number;
}

export const DEFAULT_AGENTS: Readonly<AgentsConfig> = { leaseMs: 15_000, pingIntervalMs: 5_000 };

export function validateAgents(value: unknown, errors: string[]): AgentsConfig {
  const raw = section(value, 'agents', ['lease', 'pingInterval'], errors);
  const { ms } = readers(errors);
  const leaseMs = ms(raw.lease, 'agents.lease', DEFAULT_AGENTS.leaseMs, 1000, 3_600_000);
  const pingIntervalMs = ms(raw.pingInterval, 'agents.pingInterval', DEFAULT_AGENTS.pingIntervalMs, 100, 60_000);
  // A lease shorter than a missed-pong window would expire agents whose channel is still being judged.
  if (raw.lease !== undefined && raw.pingInterval !== undefined && leaseMs < 2 * pingIntervalMs) {
    errors.push(`agents.lease: ${leaseMs} ms is shorter than two ping intervals (${2 * pingIntervalMs} ms)`);
  }
  return { leaseMs, pingIntervalMs };
}
