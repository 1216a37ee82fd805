import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../registry/index.js';
import { Gateway, parseConfigText } from '../../gateway/index.js';
import { ConsulApiDouble } from '../doubles/consul-api.js';
import { makeConsulTls } from '../helpers/consul-tls.js';
import { inProcessConfig } from '../helpers/in-process-config.js';
import { makeTempDir } from '../helpers/paths.js';
import { getJson, waitFor } from '../helpers/wait-for.js';

interface StatusAnswer { sources: Array<{ name: string; kind: string; synced: boolean; services: number; lastError?: string }> }

/**
 * A Consul-registered fleet joins the federation without re-registration: cluster B imports a
 * Consul datacenter (the HTTP API double, driven by the real consul client) and A, peered with
 * B, sees its services. And a source whose API is down never blocks a start: B restarted with
 * Consul gone serves the catalog it persisted, and says the source is not synced.
 */
describe('Consul catalog bridge', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let consul: ConsulApiDouble;
  let consulAddress: { host: string; port: number };
  let a: Gateway | undefined;
  let b: Gateway | undefined;

  const configOf = (cluster: string, extra = ''): string => inProcessConfig(tmp.dir, cluster, extra);
  const bConfig = (): string => configOf('cluster-b', `
sources:
  consul:
    - name: consul-dc1
      address: "${consulAddress.host}:${consulAddress.port}"
      tokenFile: ${path.join(tmp.dir, 'consul.token')}
      namespace: legacy
      export: true
      wait: 1s
access:
  - { to: "*", from: ["spiffe://cluster-a.example.org/*"] }
`);
  const endpointsInA = (key: string): number => a?.catalog.get('cluster-b', key)?.endpoints.length ?? 0;

  before(async () => {
    tmp = await makeTempDir('consul-bridge');
    consul = new ConsulApiDouble({ jitter: false, token: 'bridge-token' });
    consulAddress = await consul.start();
    await writeFile(path.join(tmp.dir, 'consul.token'), 'bridge-token\n', { mode: 0o600 });
    consul.registerService({ node: 'vm-1', address: '10.2.0.1', service: 'billing', port: 8080 });
    consul.registerService({ node: 'vm-2', address: '10.2.0.2', service: 'billing', id: 'billing-2', port: 8080 });
    b = await Gateway.start(parseConfigText(bConfig()), { logger: silentLogger() });
    a = await Gateway.start(parseConfigText(configOf('cluster-a', '')), { logger: silentLogger() });
    await a.peers.addPeer(await b.peers.createToken({ ttlSeconds: 600 }));
  });

  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await consul?.close();
    await tmp?.remove();
  });

  it('brings Consul services into a peered gateway\'s catalog and follows their changes', async () => {
    await waitFor('billing.legacy of B in A', () => (endpointsInA('billing.legacy') === 2 ? true : undefined));
    const status = await getJson<StatusAnswer>(`http://${b!.listeners.admin}/v1/status`);
    const consulStatus = status.sources.find((s) => s.name === 'consul-dc1');
    assert.deepEqual(consulStatus && [consulStatus.kind, consulStatus.synced, consulStatus.services], ['consul', true, 1]);
    consul.registerService({ node: 'vm-3', address: '10.2.0.3', service: 'ledger', port: 7000 });
    await waitFor('ledger.legacy in A', () => (endpointsInA('ledger.legacy') === 1 ? true : undefined));
    consul.setCheckStatus('vm-1', 'service:billing', 'critical');
    await waitFor('vm-1 unhealthy in A', () => (a?.catalog.get('cluster-b', 'billing.legacy')?.endpoints.find((e) => e.address === '10.2.0.1')?.health === 'unhealthy' ? true : undefined));
    consul.deregister('vm-3');
    await waitFor('ledger.legacy gone from A', () => (a?.catalog.get('cluster-b', 'ledger.legacy')?.deleted === true || endpointsInA('ledger.legacy') === 0 ? true : undefined));
  });

  it('imports over HTTPS from an agent that requires a client certificate (tls: caFile, certFile, keyFile, serverName)', async () => {
    const pki = makeConsulTls(tmp.dir);
    const secure = new ConsulApiDouble({
      jitter: false, tls: { key: pki.serverKeyPem, cert: pki.serverCertPem, ca: pki.caPem, verifyIncoming: true },
    });
    const at = await secure.start();
    secure.registerService({ node: 'vm-9', address: '10.2.0.9', service: 'vault', port: 8200 });
    const file = (name: string): string => path.join(pki.dir, name);
    let c: Gateway | undefined;
    try {
      c = await Gateway.start(parseConfigText(configOf('cluster-c', `
sources:
  consul:
    - name: consul-tls
      address: "${at.host}:${at.port}"
      tls: { caFile: ${file(pki.files.ca)}, certFile: ${file(pki.files.clientCert)}, keyFile: ${file(pki.files.clientKey)}, serverName: server.dc1.consul }
      namespace: legacy
      wait: 1s
`)), { logger: silentLogger() });
      await waitFor('vault.legacy over HTTPS', () => (c?.catalog.get('cluster-c', 'vault.legacy')?.endpoints.length === 1 ? true : undefined));
      assert.ok(secure.requestLog().every((r) => r.status === 200), 'every request got through the client-certificate check');
    } finally {
      await c?.close();
      await secure.close();
    }
  });

  it('restarts with Consul down: serves the persisted catalog and reports the source unsynced', async () => {
    await b!.close();
    await consul.close();
    b = await Gateway.start(parseConfigText(bConfig()), { logger: silentLogger() });
    assert.equal(b.catalog.get('cluster-b', 'billing.legacy')?.deleted, false, 'the restored record is kept, not swept');
    await waitFor('the source\'s error', async () => {
      const status = await getJson<StatusAnswer>(`http://${b!.listeners.admin}/v1/status`);
      const source = status.sources.find((s) => s.name === 'consul-dc1');
      return source !== undefined && !source.synced && source.lastError !== undefined ? source : undefined;
    });
  });
});
