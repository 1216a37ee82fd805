import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';
import { adminRequest, resolveTarget } from './admin-client.js';
import type { Command } from './command.js';
import { startEchoBackend } from './echo-backend.js';
import { DEMO_VM, writeDemoConfigs } from './demo-setup.js';
import { startDemoVm, startLegacyApp, type DemoVm } from './demo-vm.js';
import { spawnGateway, type GatewayProcess } from './gateway-process.js';
import { print } from './output.js';
import { watchParent } from './parent-watch.js';
import { proxyGet } from './proxy-get.js';

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new CausewayError(ErrorCodes.INTERNAL, `demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A child that failed to start, said the way a user can act on: the cause, and a way around a taken port. */
function startFailure(err: unknown): CausewayError {
  if (err instanceof CausewayError) return err;
  // The agent reports a taken port as an unexpected error (EADDRINUSE), the gateway as CW_LISTEN_FAILED.
  const hint = /CW_LISTEN_FAILED|EADDRINUSE/.test(describeError(err)) ? ' (run `causeway demo --ephemeral-ports` to use free ports)' : '';
  const cause = describeError(err).replace(/^(gateway|agent) .*? before (ready|running): (causeway: error CW_[A-Z_]+: )?(unexpected error: )?/, '');
  return new CausewayError(ErrorCodes.LISTEN_FAILED, `${cause}${hint}`);
}

interface ServicesAnswer {
  services: Array<{ key: string; clusters: Record<string, { endpoints: Array<{ address: string; health: string }> }> }>;
}

export const demoCommand: Command = {
  summary: 'run a local two-cluster federation with a sample service (what `npm start` runs)',
  usage: 'causeway demo [--ephemeral-ports] [--once] [--clean]   (--clean: delete the state and logs on exit)',
  options: { 'ephemeral-ports': { type: 'boolean' }, once: { type: 'boolean' }, clean: { type: 'boolean' } },
  async run({ values }) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'causeway-demo-'));
    const gateways: GatewayProcess[] = [];
    const backend = await startEchoBackend('cluster-b');
    const app = await startLegacyApp('billing-vm');
    let vmStarting: Promise<DemoVm | string | CausewayError> | undefined;
    try {
      const files = await writeDemoConfigs(dir, backend.port, values['ephemeral-ports'] === true);
      print(`Causeway demo — state and logs in ${dir}`);
      print(`  sample backend echo.demo (cluster-b) on 127.0.0.1:${backend.port}`);
      const start = async (file: string, log: string): Promise<GatewayProcess> => {
        try {
          return await spawnGateway(file, { logFile: path.join(dir, log) });
        } catch (err) {
          throw startFailure(err);
        }
      };
      const a = await start(files.a, 'cluster-a.log');
      gateways.push(a);
      const targetA = await resolveTarget({ config: files.a, admin: `http://${a.listeners.admin}` });
      // The VM joins cluster-a while cluster-b starts and the two peer: its agent takes most of a second.
      vmStarting = startDemoVm(dir, { target: targetA, outbound: a.listeners.outbound }, app.port, values['ephemeral-ports'] === true).catch(startFailure);
      const b = await start(files.b, 'cluster-b.log');
      gateways.push(b);
      print(`  gateway cluster-b ${b.identity}  admin http://${b.listeners.admin}`);
      print(`  gateway cluster-a ${a.identity}  admin http://${a.listeners.admin}`);

      const targetB = await resolveTarget({ config: files.b, admin: `http://${b.listeners.admin}` });
      const { token } = await adminRequest<{ token: string }>(targetB, 'POST', '/v1/peering/token', { ttlSeconds: 300 });
      await adminRequest(targetA, 'POST', '/v1/peers', { token });
      print('  peered: cluster-a redeemed a token minted by cluster-b (bundles exchanged over mTLS)');
      await waitFor('echo.demo to reach cluster-a', async () => {
        const { services } = await adminRequest<ServicesAnswer>(targetA, 'GET', '/v1/services');
        return services.find((s) => s.key === 'echo.demo' && 'cluster-b' in s.clusters);
      });

      const url = 'http://echo.demo:8080/hello';
      const answer = await proxyGet(a.listeners.outbound, url);
      const status = await adminRequest<{ eastWest: { recentConnections: Array<Record<string, any>> } }>(targetB, 'GET', '/v1/status');
      const hop = status.eastWest.recentConnections.at(-1);
      print('');
      print(`Call: GET ${url} through cluster-a's outbound proxy ${a.listeners.outbound} (no DNS involved)`);
      print(`  status   ${answer.status} in ${answer.latencyMs.toFixed(1)} ms`);
      print(`  route    ${String(answer.headers['causeway-route'] ?? '-')}`);
      print(`  caller   spiffe://cluster-a.causeway.test/ns/demo/sa/client (identified by source address 127.0.0.1)`);
      if (hop !== undefined) print(`  A→B hop  ${hop.protocol} mutual TLS, client certificate ${hop.peer?.spiffeId}`);
      print(`  body     ${answer.body}`);

      // A VM joins cluster-a: `causeway agent` with a one-time token, its app behind the agent.
      print('');
      const vm = await vmStarting;
      if (vm instanceof CausewayError) throw vm;
      let fromVm: Awaited<ReturnType<typeof proxyGet>> | undefined;
      if (typeof vm === 'string') print(`VM: skipped, ${vm}`);
      else {
        await waitFor('billing.legacy healthy in cluster-b\'s catalog', async () => {
          const { services } = await adminRequest<ServicesAnswer>(targetB, 'GET', '/v1/services');
          const endpoints = services.find((s) => s.key === 'billing.legacy')?.clusters['cluster-a']?.endpoints ?? [];
          return endpoints.some((e) => e.address === DEMO_VM.address && e.health === 'healthy') ? true : undefined;
        });
        const { runtime } = vm.agent;
        const vmUrl = 'http://echo.demo:8080/from-vm';
        fromVm = await proxyGet(runtime.outbound!, vmUrl);
        print(`VM: ${DEMO_VM.host} joined cluster-a with a one-time token in ${vm.joinMs.toFixed(0)} ms (\`causeway agent\`); billing.legacy is healthy in cluster-b's catalog`);
        print(`  identity ${runtime.identity} (SVID by CSR, its key in ${path.join(dir, DEMO_VM.host)})`);
        print(`  service  billing.legacy:8080 → legacy app 127.0.0.1:${app.port}, reached through the agent's mTLS listener ${runtime.inbound}`);
        print(`  proxy    the VM's apps call the mesh through the agent at ${runtime.outbound}`);
        print(`  call     GET ${vmUrl} from the VM: ${fromVm.status} in ${fromVm.latencyMs.toFixed(1)} ms, ${fromVm.status === 200 ? 'answered by cluster-b' : fromVm.body}`);
        print(`  config   ${vm.configFile}`);
      }

      print('');
      print('Try it yourself:');
      print(`  curl -x http://${a.listeners.outbound} ${url}`);
      print(`  open http://${a.listeners.admin}/dashboard/       # live: the federation, services, traffic`);
      print(`  curl http://${a.listeners.admin}/metrics            # Prometheus metrics`);
      print(`  npx causeway top --admin ${a.listeners.admin}       # live traffic per edge in the terminal`);
      print(`  npx causeway status --admin ${a.listeners.admin}    # peers with staleness and lag, bundles, sources`);
      print(`  tail -f ${path.join(dir, 'cluster-a-access.log')}   # cluster-a's access log`);
      print(`  curl http://${a.listeners.admin}/v1/status`);
      print(`  npx causeway services --admin ${a.listeners.admin}`);
      print(`  npx causeway peer list --config ${files.a}`);
      print(`  npx causeway trust show --config ${files.a}      # bundles per trust domain`);
      print(`  npx causeway trust rotate --config ${files.b}    # new root for cluster-b, no restart`);
      print(`  npx causeway token create --identity spiffe://cluster-a.causeway.test/ns/demo/sa/vm-1 --config ${files.a}`);
      if (typeof vm === 'object') {
        print(`  curl -x http://${vm.agent.runtime.outbound} http://echo.demo:8080/    # from the VM, through its agent`);
        print(`  npx causeway agents --config ${files.a}      # ${DEMO_VM.host}: connected, billing.legacy`);
      }
      print(`  SPIFFE bundle endpoint of cluster-a: https://${a.listeners.identity}/.well-known/spiffe-bundle`);
      if (answer.status !== 200) throw new CausewayError(ErrorCodes.INTERNAL, `demo call answered ${answer.status}: ${answer.body}`);
      if (fromVm !== undefined && fromVm.status !== 200) throw new CausewayError(ErrorCodes.INTERNAL, `demo VM call answered ${fromVm.status}: ${fromVm.body}`);
      if (values.once === true) return;
      print('');
      print('Running. Press Ctrl-C to stop.');
      // Orphaned (say `npm start` was SIGKILLed): stop as if told to.
      const unwatch = watchParent(() => process.kill(process.pid, 'SIGTERM'));
      await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
      unwatch();
      print('stopping…');
    } finally {
      // The agent first: it deregisters at cluster-a's gateway, which is still there.
      const vm = await vmStarting;
      if (typeof vm === 'object' && !(vm instanceof CausewayError)) await vm.agent.stop();
      await Promise.all(gateways.map((g) => g.stop()));
      await Promise.all([backend.close(), app.close()]);
      // The logs are what one reads after a failed run, so they stay unless asked otherwise.
      if (values.clean === true) await rm(dir, { recursive: true, force: true });
      else print(`state and logs kept in ${dir} (cluster-a.log, cluster-b.log, ${DEMO_VM.host}.log; \`causeway demo --clean\` removes them on exit)`);
    }
  },
};
