import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnGateway, type GatewayProcess } from '../../gateway/index.js';
import { expiresIn, mintCredential, mintKey } from '../helpers/bootstrap-mint.js';
import { makeTempDir } from '../helpers/paths.js';
import { freePorts } from '../helpers/ports.js';
import { runCli } from '../helpers/run-cli.js';
import { getJson, waitFor } from '../helpers/wait-for.js';

interface StatusAnswer {
  peers: Array<{ name: string; state: string; role: string }>;
  bootstrap: { acceptsCredentials: boolean; peerings: Array<{ name: string; state: string; attempts: number; lastErrorCode?: string; lastError?: string }> };
}

interface ServicesAnswer {
  services: Array<{ key: string; clusters: Record<string, unknown> }>;
}

/**
 * What Terraform sets up, with nothing but files: cluster-b gets a bootstrap key, cluster-a
 * a credential for dialling cluster-b minted from that key. cluster-a starts first, while
 * cluster-b does not exist yet (as when both come up in one apply), and the link comes up
 * by itself once cluster-b is there.
 */
describe('two gateway processes peered by a Terraform-minted bootstrap credential', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let a: GatewayProcess | undefined;
  let b: GatewayProcess | undefined;
  let configA = '';
  let configB = '';
  let key = '';
  let credential = '';

  const status = (g: GatewayProcess): Promise<StatusAnswer> => getJson<StatusAnswer>(`http://${g.listeners.admin}/v1/status`);
  const spawn = (config: string, name: string): Promise<GatewayProcess> => spawnGateway(config, { logFile: path.join(tmp.dir, `${name}.log`) });

  before(async () => {
    tmp = await makeTempDir('bootstrap-peering');
    const [federationB] = await freePorts(1);
    key = mintKey();
    const keyFile = path.join(tmp.dir, 'b', 'bootstrap.key');
    const credentialFile = path.join(tmp.dir, 'a', 'peers', 'cluster-b.credential');
    await mkdir(path.dirname(keyFile), { recursive: true, mode: 0o700 });
    await mkdir(path.dirname(credentialFile), { recursive: true, mode: 0o700 });
    // As the VM modules' cloud-init writes them: 0600, one line.
    await writeFile(keyFile, `${key}\n`, { mode: 0o600 });
    credential = mintCredential({ keyHex: key, from: 'cluster-a', to: 'cluster-b', exp: expiresIn(3600) });
    await writeFile(credentialFile, `${credential}\n`, { mode: 0o600 });
    const listen = (federation: string): string =>
      `{ eastWest: "127.0.0.1:0", federation: "${federation}", outbound: "127.0.0.1:0", admin: "127.0.0.1:0", identity: "127.0.0.1:0" }`;
    configA = path.join(tmp.dir, 'a', 'gateway.yaml');
    await writeFile(configA, `
cluster: cluster-a
trustDomain: cluster-a.example.org
gatewayName: gw-a
dataDir: ./data
listen: ${listen('127.0.0.1:0')}
peering:
  peers:
    - name: cluster-b
      address: "127.0.0.1:${federationB}"
      credentialFile: ./peers/cluster-b.credential
`);
    configB = path.join(tmp.dir, 'b', 'gateway.yaml');
    await writeFile(configB, `
cluster: cluster-b
trustDomain: cluster-b.example.org
gatewayName: gw-b
dataDir: ./data
listen: ${listen(`127.0.0.1:${federationB}`)}
peering:
  bootstrapKeyFile: ./bootstrap.key
services:
  - name: echo
    namespace: demo
    export: true
    ports: [{ name: http, port: 8080 }]
    endpoints: [{ address: 127.0.0.1, ports: { http: 9 }, identity: "spiffe://cluster-b.example.org/ns/demo/sa/echo" }]
`);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await tmp?.remove();
  });

  it('refuses to start with a bad key or credential file, naming it, with exit code 2 and nothing written', async () => {
    const badKey = path.join(tmp.dir, 'bad', 'bootstrap.key');
    await mkdir(path.dirname(badKey), { recursive: true });
    await writeFile(badKey, 'not a key\n', { mode: 0o600 });
    const config = path.join(tmp.dir, 'bad', 'gateway.yaml');
    await writeFile(config, `cluster: cluster-x\ntrustDomain: x.example.org\ndataDir: ./data\npeering: { bootstrapKeyFile: ./bootstrap.key }\n`);
    let result = await runCli(['gateway', '--config', config]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`CW_CONFIG_INVALID: peering\\.bootstrapKeyFile: ${badKey}: must hold exactly 64 hex digits`));
    await writeFile(config, `cluster: cluster-x\ntrustDomain: x.example.org\ndataDir: ./data\npeering: { peers: [{ name: cluster-b, address: "127.0.0.1:15012", credentialFile: ./b.credential }] }\n`);
    await writeFile(path.join(tmp.dir, 'bad', 'b.credential'), `${credential.split('.').slice(0, 5).join('.')}\n`);
    result = await runCli(['gateway', '--config', config]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /CW_TOKEN_MALFORMED: peering\.peers\[0\]\.credentialFile: .*b\.credential: has 5 dot-separated parts/);
    assert.equal(existsSync(path.join(tmp.dir, 'bad', 'data')), false);
  });

  it('starts the dialler without waiting for the dialled gateway, retrying with backoff meanwhile', async () => {
    a = await spawn(configA, 'a');
    const pending = await waitFor('cluster-a retrying', async () => {
      const entry = (await status(a!)).bootstrap.peerings[0];
      return entry !== undefined && entry.attempts >= 2 ? entry : undefined;
    });
    assert.equal(pending.state, 'pending');
    assert.equal(pending.lastErrorCode, 'CW_PEER_UNREACHABLE');
    assert.equal((await status(a)).bootstrap.acceptsCredentials, false);
    const cli = await runCli(['status', '--admin', a.listeners.admin]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /bootstrap cluster-b {2}127\.0\.0\.1:\d+ {2}pending, attempt \d+.*CW_PEER_UNREACHABLE/);
  });

  it('peers by itself once the dialled gateway is up: the link carries its exported service', async () => {
    b = await spawn(configB, 'b');
    assert.equal((await status(b)).bootstrap.acceptsCredentials, true);
    const done = await waitFor('cluster-a done', async () => {
      const entry = (await status(a!)).bootstrap.peerings[0];
      return entry?.state === 'done' ? entry : undefined;
    }, 60_000);
    assert.equal(done.lastError, undefined);
    await waitFor('A\'s link to B connected', async () => ((await status(a!)).peers.find((p) => p.name === 'cluster-b' && p.state === 'connected')));
    const fromB = await waitFor('B\'s link from A connected', async () => ((await status(b!)).peers.find((p) => p.name === 'cluster-a' && p.state === 'connected')));
    assert.equal(fromB.role, 'acceptor');
    await waitFor('echo.demo of cluster-b in A', async () =>
      (await getJson<ServicesAnswer>(`http://${a!.listeners.admin}/v1/services`)).services.find((s) => s.key === 'echo.demo' && 'cluster-b' in s.clusters));
    const cli = await runCli(['status', '--admin', a!.listeners.admin]);
    assert.match(cli.stdout, /bootstrap cluster-b {2}127\.0\.0\.1:\d+ {2}done/);
    // Neither the key nor the credential's secret is ever logged.
    const logs = `${await readFile(path.join(tmp.dir, 'a.log'), 'utf8')}${await readFile(path.join(tmp.dir, 'b.log'), 'utf8')}`;
    assert.ok(logs.includes('bootstrap credential accepted'), 'the logs were read');
    assert.equal(logs.includes(key), false);
    assert.equal(logs.includes(credential.split('.')[5] ?? '-'), false);
  });

  it('a restarted dialler spends nothing again: the peering is known, the link comes back', async () => {
    await a!.stop();
    a = await spawn(configA, 'a');
    const entry = (await status(a)).bootstrap.peerings[0];
    assert.equal(entry?.state, 'done');
    assert.equal(entry?.attempts, 0);
    await waitFor('A\'s link to B back', async () => ((await status(a!)).peers.find((p) => p.name === 'cluster-b' && p.state === 'connected')));
  });
});
