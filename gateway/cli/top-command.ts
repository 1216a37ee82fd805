import { parseDurationMs } from '../config/durations.js';
import { adminRequest, resolveTarget } from './admin-client.js';
import { TARGET_OPTIONS, targetFlags, usageError, type Command } from './command.js';
import { print, table } from './output.js';
import type { TrafficSnapshot } from '../telemetry/traffic-window.js';

/** Clear the screen and home the cursor (ECMA-48 ED 2 and CUP), only on a terminal. */
const CLEAR = '\u001b[2J\u001b[H';

/** One screen of `causeway top`: totals, the edges by rate, the latest notable events. */
export function renderTraffic(snapshot: TrafficSnapshot, target: string): string {
  const { totals } = snapshot;
  const lines = [
    `${target}  ${snapshot.at}  (last ${snapshot.windowSeconds} s)`,
    `requests ${totals.requests}  errors ${totals.errors}  denials ${totals.denials}  failovers ${totals.failovers}  (since start)`,
    '',
  ];
  if (snapshot.edges.length === 0) lines.push('no traffic in the window');
  else {
    lines.push(table(['DIRECTION', 'FROM', 'TO', 'SERVICE', 'RPS', 'SUCCESS', 'P99', 'REQUESTS'], snapshot.edges.map((e) => [
      e.direction, e.from, e.to, e.service, e.rps.toFixed(1), e.successRate === null ? '-' : `${(e.successRate * 100).toFixed(1)}%`,
      e.p99Ms === null ? '-' : `${e.p99Ms.toFixed(1)} ms`, String(e.requests),
    ])));
  }
  if (snapshot.recent.length > 0) {
    lines.push('', 'RECENT');
    for (const e of snapshot.recent.slice(0, 10)) lines.push(`${e.at}  ${e.kind.padEnd(9)} ${e.service}  ${e.message}${e.count > 1 ? `  (×${e.count})` : ''}`);
  }
  return lines.join('\n');
}

export const top: Command = {
  summary: 'live traffic per edge (rate, success rate, p99) and recent failovers, denials and ejections, refreshing',
  usage: 'causeway top [--interval 1s] [--once] [target options]',
  options: { ...TARGET_OPTIONS, interval: { type: 'string' }, once: { type: 'boolean' } },
  async run({ values, format }) {
    const intervalMs = values.interval === undefined ? 1000 : parseDurationMs(values.interval);
    if (intervalMs === undefined || intervalMs < 100 || intervalMs > 3_600_000) throw usageError(`--interval: "${String(values.interval)}" is not a duration from 100ms to 1h`);
    const target = await resolveTarget(targetFlags(values));
    const screen = process.stdout.isTTY === true && format !== 'json' && values.once !== true;
    for (;;) {
      const snapshot = await adminRequest<TrafficSnapshot>(target, 'GET', '/v1/traffic');
      // JSON: one snapshot per line, for a pipe (`causeway top -o json | jq`).
      if (format === 'json') print(JSON.stringify(snapshot));
      else print(`${screen ? CLEAR : ''}${renderTraffic(snapshot, target.baseUrl)}${screen || values.once === true ? '' : '\n'}`);
      if (values.once === true) return;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  },
};
