// `npm run bench:agent` — the VM agent's figures (issue 10, "Measure"), in one run on this host:
//   - join: from starting `causeway agent` with a fresh token and an empty data dir to the first
//     call from the peered cluster answered by the VM's app, and to the first call the VM's app
//     makes into the peered cluster through the agent;
//   - the agent process's RSS once settled;
//   - health: from the VM app failing its check to the endpoint showing unhealthy at the peered
//     gateway, against the check interval;
//   - the sidecar hop's cost: latency of calls from cluster-b to billing.legacy answered by the
//     VM (gateway → agent mTLS → app) against the same calls answered by a plain endpoint of
//     the same cluster (gateway → app), as a ratio — the peer is the direct path in the same run.
//   CW_BENCH_CALLS (200), CW_BENCH_ROUNDS (5).
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { CLIENT_ADDRESS, MESH_PORT, VM_ADDRESS, startAgentWorld } from '../helpers/agent-world.js';

const calls = Number(process.env.CW_BENCH_CALLS ?? 200);
const rounds = Number(process.env.CW_BENCH_ROUNDS ?? 5);
const CHECK_INTERVAL_MS = 1000;

/** One GET through a proxy (absolute-form), from `localAddress`; resolves with the app that answered, or undefined. */
function call(proxy: string, url: string, localAddress?: string): Promise<string | undefined> {
  const [host, port] = proxy.split(':');
  return new Promise((resolve) => {
    const req = request({ host, port: Number(port), path: url, headers: { host: new URL(url).host }, ...(localAddress === undefined ? {} : { localAddress }), agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve(undefined);
        try {
          resolve((JSON.parse(body) as { service?: string }).service);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function main(): Promise<void> {
  const world = await startAgentWorld('bench-agent', { checkInterval: `${CHECK_INTERVAL_MS}ms` });
  try {
    const billing = `http://billing.legacy:${MESH_PORT}/bench`;
    const fromB = (): Promise<string | undefined> => call(world.b.listeners.outbound, billing, CLIENT_ADDRESS);
    const joins: Array<{ peerToVm: number; vmToPeer: number }> = [];
    let rss = NaN;
    let lastAgent: Awaited<ReturnType<typeof world.startAgent>> | undefined;
    for (let round = 0; round < rounds; round += 1) {
      const config = await world.agentConfig(`bench-${round}`, { joinTokenFile: await world.joinToken(), logLevel: 'warn' });
      const started = performance.now();
      const agent = await world.startAgent(config);
      await until('a call from cluster-b answered by the VM', async () => ((await fromB()) === 'billing-vm' ? true : undefined));
      const peerToVm = performance.now() - started;
      await until('the VM reaching echo.demo', async () => ((await call(agent.runtime.outbound!, 'http://echo.demo:8080/bench')) === 'echo.demo' ? true : undefined));
      joins.push({ peerToVm, vmToPeer: performance.now() - started });
      if (round < rounds - 1) await agent.stop();
      else lastAgent = agent;
    }
    const agent = lastAgent!;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    rss = await rssMiB(agent.child.pid!);

    // Health: fail the VM's check, time until cluster-b sees it, then restore.
    const healthRuns: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      world.vm.healthy = false;
      const began = performance.now();
      await until('unhealthy at cluster-b', async () => ((await world.billingAtB())?.find((e) => e.address === VM_ADDRESS)?.health === 'unhealthy' ? true : undefined));
      healthRuns.push(performance.now() - began);
      world.vm.healthy = true;
      await until('healthy again', async () => ((await world.billingAtB())?.find((e) => e.address === VM_ADDRESS)?.health === 'healthy' ? true : undefined));
    }

    // The sidecar hop: the same calls, answered by the VM (through the agent) or by the spare.
    const latency = async (want: string): Promise<number[]> => {
      const samples: number[] = [];
      while (samples.length < calls) {
        const began = performance.now();
        const answered = await fromB();
        if (answered === want) samples.push(performance.now() - began);
      }
      return samples;
    };
    // Warm both paths first (JIT, pools), so that neither measurement pays for the other's start.
    await latency('billing-vm');
    const viaAgent = await latency('billing-vm');
    world.vm.healthy = false;
    await until('traffic on the spare', async () => ((await world.billingAtB())?.find((e) => e.address === VM_ADDRESS)?.health === 'unhealthy' ? true : undefined));
    await latency('billing-spare');
    const direct = await latency('billing-spare');
    world.vm.healthy = true;

    const median = (xs: number[]): number => percentile(xs, 50);
    const rows = [
      ['join → first call peer → VM (s)', `median ${(median(joins.map((j) => j.peerToVm)) / 1000).toFixed(2)}`, `max ${(Math.max(...joins.map((j) => j.peerToVm)) / 1000).toFixed(2)}`],
      ['join → first call VM → peer (s)', `median ${(median(joins.map((j) => j.vmToPeer)) / 1000).toFixed(2)}`, `max ${(Math.max(...joins.map((j) => j.vmToPeer)) / 1000).toFixed(2)}`],
      ['agent RSS (MiB)', rss.toFixed(1), ''],
      [`check fails → unhealthy at peer (s), interval ${CHECK_INTERVAL_MS / 1000} s`, `median ${(median(healthRuns) / 1000).toFixed(2)}`, `max ${(Math.max(...healthRuns) / 1000).toFixed(2)}`],
      ['peer → VM via agent, p50 / p99 (ms)', `${median(viaAgent).toFixed(2)} / ${percentile(viaAgent, 99).toFixed(2)}`, ''],
      ['peer → plain endpoint, p50 / p99 (ms)', `${median(direct).toFixed(2)} / ${percentile(direct, 99).toFixed(2)}`, ''],
      ['sidecar hop, p50 ratio (via agent / plain)', (median(viaAgent) / median(direct)).toFixed(2), ''],
    ];
    process.stdout.write(`\nVM agent, ${rounds} joins, ${calls} calls each way (one run, this host)\n\n| figure | value | |\n|---|---|---|\n`);
    for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
    process.stdout.write('\n');
  } finally {
    await world.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:agent failed: ${String(err)}\n`);
  process.exitCode = 1;
});
