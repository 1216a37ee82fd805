import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { freePorts } from './ports.js';
import { waitFor } from './wait-for.js';

/**
 * A real Prometheus server (Debian `prometheus`, installed by scripts/install-test-tools.sh)
 * scraping the given admin listeners: the exposition is read by the parser that matters, and
 * what a test asserts is what a PromQL query returns.
 */
export class PrometheusServer {
  private constructor(private readonly child: ChildProcess, readonly address: string, private readonly exited: Promise<unknown>) {}

  static async start(dir: string, targets: Record<string, string>, scrapeInterval = '250ms'): Promise<PrometheusServer> {
    await mkdir(dir, { recursive: true });
    const config = path.join(dir, 'prometheus.yml');
    await writeFile(config, stringify({
      global: { scrape_interval: scrapeInterval, scrape_timeout: scrapeInterval },
      scrape_configs: Object.entries(targets).map(([job, target]) => ({ job_name: job, static_configs: [{ targets: [target] }] })),
    }));
    const [port] = await freePorts(1);
    const address = `127.0.0.1:${port}`;
    const child = spawn('prometheus', [
      `--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=${address}`, '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
    const spawned: true | Error = await Promise.race([once(child, 'spawn').then((): true => true), once(child, 'error').then(([err]) => err as Error)]);
    if (spawned !== true) throw new Error(`cannot run prometheus (scripts/install-test-tools.sh installs it): ${spawned.message}`);
    const exited = once(child, 'exit');
    const server = new PrometheusServer(child, address, exited);
    try {
      await waitFor('prometheus to be ready', async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${stderr}`);
        const answer = await fetch(`http://${address}/-/ready`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
        return answer?.ok === true ? true : undefined;
      }, 30_000, 100);
    } catch (err) {
      await server.close();
      throw err;
    }
    return server;
  }

  /** The value of an instant PromQL query that yields one number (e.g. `sum(...)`); undefined when it yields none. */
  async value(query: string): Promise<number | undefined> {
    const answer = await fetch(`http://${this.address}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(5000) });
    const body = await answer.json() as { status: string; error?: string; data?: { resultType: string; result: Array<{ value: [number, string] }> } };
    if (body.status !== 'success') throw new Error(`${query}: ${body.error ?? body.status}`);
    const first = body.data?.result[0];
    return first === undefined ? undefined : Number(first.value[1]);
  }

  /** Waits until `query` yields exactly `expected`; fails with the last value seen. */
  async expect(query: string, expected: number, timeoutMs = 20_000): Promise<void> {
    let last: number | undefined;
    try {
      await waitFor(`${query} == ${expected}`, async () => {
        last = await this.value(query);
        return last === expected ? true : undefined;
      }, timeoutMs, 100);
    } catch {
      throw new Error(`${query}: expected ${expected}, Prometheus says ${String(last)}`);
    }
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}
