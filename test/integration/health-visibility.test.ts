import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { proxyGet, spawnGateway, startEchoBackend, writeDemoConfigs, type GatewayProcess } from '../../gateway/index.js';
import { makeTempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { waitFor } from '../helpers/wait-for.js';

interface ServicesAnswer {
  services: Array<{ key: string; clusters: Record<string, { reachability: string; link?: string; endpoints: Array<{ health: string; state: string }> }> }>;
}

/** Issue 8: stale health must not be shown as healthy. */
describe('health you can see: unreachable and ejected clusters in the status API and the CLI', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let backend: Awaited<ReturnType<typeof startEchoBackend>> | undefined;
  let files: { a: string; b: string };
  let a: GatewayProcess | undefined;
  let b: GatewayProcess | undefined;

  const echoInA = async (): Promise<ServicesAnswer['services'][number]['clusters'][string] | undefined> => {
    const result = await runCli(['services', '--config', files.a, '-o', 'json']);
    return (JSON.parse(result.stdout) as ServicesAnswer).services.find((s) => s.key === 'echo.demo')?.clusters['cluster-b'];
  };

  before(async () => {
    tmp = await makeTempDir('health-visibility');
    backend = await startEchoBackend('cluster-b');
    files = await writeDemoConfigs(tmp.dir, backend.port, true);
    b = await spawnGateway(files.b, { logFile: path.join(tmp.dir, 'b.log') });
    a = await spawnGateway(files.a, { logFile: path.join(tmp.dir, 'a.log') });
    const token = await runCli(['peer', 'token', '--config', files.b]);
    assert.equal(token.code, 0, token.stderr);
    const added = await runCli(['peer', 'add', token.stdout.trim(), '--config', files.a]);
    assert.equal(added.code, 0, added.stderr);
    await waitFor('echo.demo in A, reachable', async () => ((await echoInA())?.reachability === 'reachable' ? true : undefined));
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await backend?.close();
    await tmp?.remove();
  });

  it('a reachable remote cluster shows healthy endpoints', async () => {
    const services = await runCli(['services', '--config', files.a]);
    assert.match(services.stdout, /^echo\.demo +http:8080 +cluster-b +1\/1 +reachable$/m, services.stdout);
    const status = await runCli(['status', '--config', files.a]);
    assert.match(status.stdout, /^ejected {3}none$/m, status.stdout);
  });

  it('a gateway the data plane ejected shows as ejected in services and status', async () => {
    await backend!.close();
    backend = undefined;
    const url = 'http://echo.demo:8080/';
    // An ejection lasts 10 s: the JSON, the table and the status are read together while it holds.
    const seen = await waitFor('outlier detection to eject gw-b', async () => {
      await proxyGet(a!.listeners.outbound, url).catch(() => undefined);
      const [json, services, status] = await Promise.all([
        runCli(['services', '--config', files.a, '-o', 'json']), runCli(['services', '--config', files.a]), runCli(['status', '--config', files.a]),
      ]);
      const entry = (JSON.parse(json.stdout) as ServicesAnswer).services.find((s) => s.key === 'echo.demo')?.clusters['cluster-b'];
      return entry?.reachability === 'ejected' && /^ejected {3}spiffe/m.test(status.stdout) ? { entry, services, status } : undefined;
    }, 20_000, 100);
    assert.deepEqual(seen.entry.endpoints.map((e) => [e.health, e.state]), [['healthy', 'ejected']]);
    assert.match(seen.services.stdout, /^echo\.demo +http:8080 +cluster-b +0\/1 +ejected \(outlier detection\)$/m, seen.services.stdout);
    assert.match(seen.status.stdout, /^ejected {3}spiffe:\/\/cluster-b\.causeway\.test\/gateway\/gw-b@127\.0\.0\.1:\d+ echo\.demo:8080 {2}until \S+ {2}\(ejection 1\)$/m, seen.status.stdout);
    assert.match(seen.status.stdout, /^services {2}\d+ {2}\(.*echo\.demo@cluster-b ejected/m, seen.status.stdout);
  });

  it('while the peer link is down, the remote cluster\'s endpoints are unreachable, not healthy', async () => {
    await b!.kill();
    await waitFor('A to see the link down', async () => ((await echoInA())?.reachability === 'unreachable' ? true : undefined));
    const entry = await echoInA();
    assert.notEqual(entry?.link, 'connected');
    assert.deepEqual(entry?.endpoints.map((e) => e.state), ['unreachable']);
    const services = await runCli(['services', '--config', files.a]);
    assert.match(services.stdout, /^echo\.demo +http:8080 +cluster-b +0\/1 +unreachable \(peer link (connecting|disconnected)\)$/m, services.stdout);
  });
});
