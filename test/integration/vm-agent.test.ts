import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AGENT_KEY_FILE, AGENT_STATE_FILE, AGENT_SVID_FILE } from '../../gateway/agent/agent-identity.js';
import type { AgentProcess } from '../../gateway/index.js';
import { CLIENT_ADDRESS, MESH_PORT, TRUST_A, VM_ADDRESS, VM_IDENTITY, startAgentWorld, type AgentWorld } from '../helpers/agent-world.js';
import { runCli } from '../helpers/run-cli.js';
import { getJson, waitFor } from '../helpers/wait-for.js';

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['--silent', '--show-error', '--max-time', '20', ...args], (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code ?? 1), stdout, stderr }));
  });
}

interface AgentsAnswer {
  agents: Array<{ agent: string; state: string; services: string[] }>;
}

describe('causeway agent: a VM joins, is reached, reaches out, and fails safely', () => {
  let world: AgentWorld;
  let agent: AgentProcess | undefined;
  let configFile: string;

  const billingUrl = `http://billing.legacy:${MESH_PORT}/hello`;
  const vmEndpointAtB = async (): Promise<{ address: string; health: string } | undefined> =>
    (await world.billingAtB())?.find((e) => e.address === VM_ADDRESS);
  const agentsOfA = (): Promise<AgentsAnswer> => getJson<AgentsAnswer>(`http://${world.a.listeners.admin}/v1/agents`);
  const callFromB = (): Promise<{ code: number; stdout: string; stderr: string }> =>
    curl(['--interface', CLIENT_ADDRESS, '--proxy', `http://${world.b.listeners.outbound}`, billingUrl]);

  before(async () => {
    world = await startAgentWorld('vm-agent');
    configFile = await world.agentConfig('vm1', { joinTokenFile: await world.joinToken(VM_IDENTITY, '10m', 'vm-billing-1') });
    agent = await world.startAgent(configFile);
    await waitFor('the VM endpoint healthy at cluster-b', async () => ((await vmEndpointAtB())?.health === 'healthy' ? true : undefined), 30_000);
  });

  after(async () => {
    await world?.close();
  });

  it('joined with the token: the key stayed on the host (0600), the SVID is the granted identity and chains to the bundle (openssl)', async () => {
    const dataDir = path.join(world.dir, 'agent-vm1');
    const keyMode = (await stat(path.join(dataDir, AGENT_KEY_FILE))).mode & 0o777;
    assert.equal(keyMode, 0o600);
    const chain = await readFile(path.join(dataDir, AGENT_SVID_FILE), 'utf8');
    assert.equal(new X509Certificate(chain).subjectAltName, `URI:${VM_IDENTITY}`);
    const state = JSON.parse(await readFile(path.join(dataDir, AGENT_STATE_FILE), 'utf8')) as { bundle: string };
    const roots = (JSON.parse(state.bundle) as { keys: Array<{ x5c: string[] }> }).keys
      .map((k) => `-----BEGIN CERTIFICATE-----\n${k.x5c[0]?.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`).join('');
    const rootsFile = path.join(world.dir, 'roots.pem');
    const leafFile = path.join(world.dir, 'leaf.pem');
    await writeFile(rootsFile, roots);
    await writeFile(leafFile, chain);
    const verified = await run('openssl', ['verify', '-CAfile', rootsFile, '-untrusted', leafFile, leafFile]);
    assert.equal(verified.code, 0, verified.stderr);
    const agents = await agentsOfA();
    assert.deepEqual(agents.agents.find((x) => x.agent === VM_IDENTITY)?.state, 'connected');
    // The host the token was minted for (--agent) is the one the agent joined as.
    const listed = await runCli(['agents', '--config', world.files.a]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${VM_IDENTITY.replaceAll('.', '\\.')}\\s+vm-billing-1\\s+connected\\s+billing\\.legacy`));
    const badHost = await runCli(['token', 'create', '--identity', VM_IDENTITY, '--agent', 'Bad_Host', '--config', world.files.a]);
    assert.equal(badHost.code, 2);
    assert.match(badHost.stderr, /agent: "Bad_Host" is not a host name/);
  });

  it('a client in the peered cluster reaches the VM service by mesh name, through both gateways and the agent\'s inbound mTLS listener', async () => {
    const served = world.vm.requests;
    let sawVm = false;
    for (let i = 0; i < 10 && !sawVm; i += 1) {
      const answer = await callFromB();
      assert.equal(answer.code, 0, answer.stderr);
      const body = JSON.parse(answer.stdout) as { service: string; xfcc: string | null };
      if (body.service !== 'billing-vm') continue;
      sawVm = true;
      // Cluster-a's gateway told the app who called, as it does for any backend.
      assert.match(body.xfcc ?? '', new RegExp(`By=spiffe://${TRUST_A.replaceAll('.', '\\.')}/gateway/gw-a;URI=spiffe://cluster-b\\.causeway\\.test/ns/demo/sa/client`));
    }
    assert.ok(sawVm, 'no request reached the VM app');
    assert.ok(world.vm.requests > served);
  });

  it('the VM\'s app reaches a service of the peered cluster through the agent, which vouches for its identity', async () => {
    const outbound = agent!.runtime.outbound!;
    const answer = await curl(['--proxy', `http://${outbound}`, 'http://echo.demo:8080/from-vm']);
    assert.equal(answer.code, 0, answer.stderr);
    const body = JSON.parse(answer.stdout) as { cluster: string; path: string };
    assert.equal(body.cluster, 'cluster-b');
    assert.equal(body.path, '/from-vm');
    // A fixed local port of the agent for clients that cannot use a proxy: any Host, one service.
    const forward = agent!.runtime.forward[0]!;
    assert.equal(forward.service, 'echo.demo:8080');
    const viaPort = await curl([`http://${forward.listen}/via-port`]);
    assert.equal(viaPort.code, 0, viaPort.stderr);
    assert.deepEqual([(JSON.parse(viaPort.stdout) as { cluster: string }).cluster, (JSON.parse(viaPort.stdout) as { path: string }).path], ['cluster-b', '/via-port']);
    // The same call as an anonymous caller of cluster-a's gateway is refused by cluster-b's
    // policy: the identity the agent carried is what let the VM in.
    const anonymous = await curl(['--proxy', `http://127.0.0.1:${world.portsA.outbound}`, '-o', '/dev/null', '-w', '%{http_code}', 'http://echo.demo:8080/']);
    assert.equal(anonymous.stdout, '403');
  });

  it('health: the VM app failing its check makes the endpoint unhealthy at the remote gateway, and traffic goes to the healthy spare', async () => {
    world.vm.healthy = false;
    await waitFor('the VM endpoint unhealthy at cluster-b', async () => ((await vmEndpointAtB())?.health === 'unhealthy' ? true : undefined), 15_000);
    const served = world.vm.requests;
    for (let i = 0; i < 6; i += 1) {
      const answer = await callFromB();
      assert.equal(answer.code, 0, answer.stderr);
      assert.equal((JSON.parse(answer.stdout) as { service: string }).service, 'billing-spare');
    }
    assert.equal(world.vm.requests, served);
    world.vm.healthy = true;
    await waitFor('the VM endpoint healthy again', async () => ((await vmEndpointAtB())?.health === 'healthy' ? true : undefined), 15_000);
  });

  it('gateway killed and restarted: the agent reconnects and registers again, nothing lost', async () => {
    await world.restartA();
    await waitFor('the agent connected again', async () => ((await agentsOfA()).agents.find((x) => x.agent === VM_IDENTITY)?.state === 'connected' ? true : undefined), 30_000);
    await waitFor('the VM endpoint healthy at cluster-b after the restart', async () => ((await vmEndpointAtB())?.health === 'healthy' ? true : undefined), 30_000);
    await waitFor('a call from cluster-b answered by the VM', async () => {
      const answer = await callFromB();
      return answer.code === 0 && answer.stdout.includes('billing-vm') ? true : undefined;
    }, 30_000);
  });

  it('SIGTERM deregisters at once; a restarted agent needs no new token; SIGKILL leaves the endpoints to go unhealthy after the lease', async () => {
    await agent!.stop();
    assert.equal((await agent!.exited).code, 0);
    await waitFor('the VM endpoint gone at cluster-b', async () => ((await vmEndpointAtB()) === undefined ? true : undefined), 10_000);
    // The token was spent at the first join; the persisted SVID is what brings the agent back.
    agent = await world.startAgent(configFile);
    await waitFor('the VM endpoint back', async () => ((await vmEndpointAtB())?.health === 'healthy' ? true : undefined), 30_000);
    await agent.kill();
    const agents = await waitFor('the lease running', async () => {
      const entry = (await agentsOfA()).agents.find((x) => x.agent === VM_IDENTITY);
      return entry?.state === 'lease' ? entry : undefined;
    });
    assert.ok(agents);
    assert.equal((await vmEndpointAtB())?.health, 'healthy', 'inside the lease the endpoint keeps its last health');
    await waitFor('the VM endpoint unhealthy after the lease', async () => ((await vmEndpointAtB())?.health === 'unhealthy' ? true : undefined), 40_000);
  });

  it('refuses a reused token, an expired one, and an identity outside the grant — exit code 2, nothing registered', async () => {
    const before = (await agentsOfA()).agents.map((x) => [x.agent, x.state, x.services.join()]);
    // Agents that do join here have an identity of their own, so that their coming and going
    // leaves the VM's registration alone.
    const spare = `spiffe://${TRUST_A}/ns/legacy/sa/empty`;
    const spent = await world.joinToken(spare);
    const first = await world.startAgent(await world.agentConfig('reuse-1', { joinTokenFile: spent, services: [], inbound: false }));
    await first.stop();
    await assert.rejects(world.startAgent(await world.agentConfig('reuse-2', { joinTokenFile: spent })), (err: Error & { exit?: { code: number } }) => {
      assert.match(err.message, /CW_TOKEN_USED/);
      assert.equal(err.exit?.code, 2);
      return true;
    });
    const shortLived = await world.joinToken(VM_IDENTITY, '1s');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await assert.rejects(world.startAgent(await world.agentConfig('expired', { joinTokenFile: shortLived })), /CW_TOKEN_EXPIRED/);
    const narrow = await world.joinToken();
    await assert.rejects(world.startAgent(await world.agentConfig('outside', {
      joinTokenFile: narrow, identity: `spiffe://${TRUST_A}/ns/payments/sa/ledger`,
    })), /CW_IDENTITY_NOT_GRANTED/);
    // A taken port is named by its field, and the agent stops before registering anything.
    const taken = await world.joinToken(spare);
    const holder = await world.startAgent(await world.agentConfig('holder', { joinTokenFile: taken, services: [], inbound: false }));
    await assert.rejects(world.startAgent(await world.agentConfig('clash', {
      joinTokenFile: await world.joinToken(), services: [], inbound: false, outbound: { listen: holder.runtime.outbound },
    })), /CW_LISTEN_FAILED: outbound\.listen 127\.0\.0\.1:\d+: listen EADDRINUSE/);
    await holder.stop();
    // The refused joins registered nothing, and no identity outside the grant was ever issued
    // a channel; the agents that did join (empty, SIGTERM) deregistered: the list is as before.
    const afterwards = (await agentsOfA()).agents.map((x) => [x.agent, x.state, x.services.join()]);
    assert.deepEqual(afterwards, before);
    assert.ok(!afterwards.some(([agent]) => agent === `spiffe://${TRUST_A}/ns/payments/sa/ledger`));
  });
});
