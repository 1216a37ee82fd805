// An xDS-enabled gRPC server (gRFC A36, @grpc/grpc-js-xds's XdsServer, its own process) takes
// its listener from the gateway (issue 13): mTLS through the certificate provider its node
// metadata names, and AccessPolicy as RBAC (gRFC A41). Real TLS clients then call it with
// SVIDs of a test CA: the rules decide per call, and a new policy set reaches the running
// server without a restart.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { stringify } from 'yaml';
import { silentLogger } from '../../registry/index.js';
import { Gateway, loadConfig } from '../../gateway/index.js';
import { buildCert, type BuiltCert } from '../helpers/certs.js';
import { FIXTURES, makeTempDir } from '../helpers/paths.js';
import { freePorts } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait-for.js';
import { XdsClientProcess } from '../helpers/xds-client-process.js';

const TD = 'cluster-a.example.org';
const SERVER = `spiffe://${TD}/ns/demo/sa/rbacecho`;
const FRONTEND = `spiffe://${TD}/ns/web/sa/frontend`;
const OTHER = `spiffe://${TD}/ns/web/sa/other`;
const GATEWAY = `spiffe://${TD}/gateway/gw`;
const FOREIGN = 'spiffe://elsewhere.example.org/ns/web/sa/frontend';
const NODE_ID = 'xds-rbac-server';

const bytes = (b: Buffer): Buffer => b;
const method = (p: string): grpc.MethodDefinition<Buffer, Buffer> => ({
  path: p, requestStream: false, responseStream: false,
  requestSerialize: bytes, requestDeserialize: bytes, responseSerialize: bytes, responseDeserialize: bytes,
});
const Echo = grpc.makeGenericClientConstructor({ unary: method('/test.Echo/Unary'), admin: method('/test.Echo/Admin') }, 'Echo');

describe('xDS: an xDS-enabled gRPC server gets mTLS and AccessPolicy as RBAC from its gateway', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  let gateway: Gateway | undefined;
  let server: XdsClientProcess | undefined;
  let ca: BuiltCert;
  let port = 0;

  /** One call of `rpc` with a client certificate of `id` (undefined: none): the answer, or the status name. */
  const call = async (id: string | undefined, rpc: 'unary' | 'admin', issuer: BuiltCert = ca): Promise<string> => {
    const leaf = id === undefined ? undefined : buildCert({ uris: [id], issuer, keyType: 'ec' });
    const credentials = grpc.credentials.createSsl(Buffer.from(ca.certPem), leaf === undefined ? null : Buffer.from(leaf.keyPem),
      leaf === undefined ? null : Buffer.from(leaf.certPem), { checkServerIdentity: () => undefined });
    const client = new Echo(`127.0.0.1:${port}`, credentials, { 'grpc.ssl_target_name_override': 'rbacecho', 'grpc.use_local_subchannel_pool': 1 });
    try {
      return await new Promise<string>((resolve) => {
        (client as unknown as Record<string, (m: Buffer, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Buffer) => void) => void>)[rpc]!(
          Buffer.from('hi'), new grpc.Metadata(), { deadline: Date.now() + 5000 },
          (err, reply) => resolve(err === null ? `OK:${reply?.toString() ?? ''}` : grpc.status[err.code] ?? String(err.code)));
      });
    } finally {
      client.close();
    }
  };

  before(async () => {
    tmp = await makeTempDir('xds-rbac');
    [port] = await freePorts(1) as [number];
    ca = buildCert({ ca: true, uris: [`spiffe://${TD}`], keyType: 'ec' });
    const svid = buildCert({ uris: [SERVER], issuer: ca, keyType: 'ec' });
    const files = { cert: path.join(tmp.dir, 'svid.pem'), key: path.join(tmp.dir, 'svid-key.pem'), ca: path.join(tmp.dir, 'bundle.pem') };
    await writeFile(files.cert, svid.certPem);
    await writeFile(files.key, svid.keyPem);
    await writeFile(files.ca, ca.certPem);

    const configFile = path.join(tmp.dir, 'gateway.yaml');
    await writeFile(configFile, stringify({
      cluster: 'cluster-a', trustDomain: TD, gatewayName: 'gw', dataDir: path.join(tmp.dir, 'data'),
      listen: { eastWest: '127.0.0.1:0', federation: '127.0.0.1:0', outbound: '127.0.0.1:0', admin: '127.0.0.1:0', identity: '127.0.0.1:0' },
      outbound: { identifyCallersBySourceAddress: true },
      xds: { listen: '127.0.0.1:0', plaintext: true },
      services: [{
        name: 'rbacecho', namespace: 'demo', ports: [{ name: 'grpc', port: 9000, protocol: 'grpc' }],
        // The server is the one workload at 127.0.0.1: its plaintext xDS stream is known by that address.
        endpoints: [{ address: '127.0.0.1', ports: { grpc: port }, identity: SERVER, kind: 'vm' }],
      }],
    }));
    gateway = await Gateway.start(await loadConfig(configFile), { logger: silentLogger() });
    await gateway.policies.apply([{
      apiVersion: 'causeway.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'rbacecho' },
      spec: {
        rules: [
          { from: [FRONTEND, 'spiffe://elsewhere.example.org/ns/web/*'], to: ['rbacecho.demo'] },
          { action: 'deny', from: [FRONTEND], to: ['rbacecho.demo'], paths: ['/test.Echo/Admin'] },
        ],
      },
    }]);

    const bootstrap = path.join(tmp.dir, 'bootstrap.json');
    await writeFile(bootstrap, JSON.stringify({
      xds_servers: [{ server_uri: gateway.listeners.xds, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: NODE_ID, locality: { zone: 'zone-a' }, metadata: { 'causeway.dev/certificate-provider': 'causeway' } },
      server_listener_resource_name_template: 'grpc/server?xds.resource.listening_address=%s',
      certificate_providers: {
        causeway: { plugin_name: 'file_watcher', config: { certificate_file: files.cert, private_key_file: files.key, ca_certificate_file: files.ca, refresh_interval: '10s' } },
      },
    }));
    server = XdsClientProcess.start('xds server', process.execPath, [path.join(FIXTURES, 'xds-rbac-server.mjs'), `127.0.0.1:${port}`],
      { GRPC_XDS_BOOTSTRAP: bootstrap, GRPC_XDS_EXPERIMENTAL_RBAC: 'true' }, path.join(tmp.dir, 'server.log'));
    assert.deepEqual(await server.answers(1), ['serving']);
  });

  after(async () => {
    await server?.close();
    await gateway?.close();
    await tmp?.remove();
  });

  it('serves the listener it was given, acknowledged, to the server whose endpoint it is', async () => {
    const client = gateway!.xds!.clients().find((c) => c.node === NODE_ID);
    assert.equal(client?.identity, SERVER);
    // Serving comes from the resource itself; its ACK may follow a moment later.
    const listener = await waitFor('the listener ACKed', () => {
      const type = gateway!.xds!.clients().find((c) => c.node === NODE_ID)?.types.find((t) => t.typeUrl.endsWith('Listener'));
      return type?.sent !== undefined && type.acked === type.sent.version ? type : undefined;
    });
    assert.ok(listener.sent !== undefined);
    assert.equal(gateway!.xds!.recentNacks().length, 0, JSON.stringify(gateway!.xds!.recentNacks()));
  });

  it('decides each call by the AccessPolicy: allow-listed callers in, a deny on a path wins, others out', async () => {
    assert.equal(await call(FRONTEND, 'unary'), 'OK:unary');
    assert.equal(await call(FRONTEND, 'admin'), 'PERMISSION_DENIED');
    assert.equal(await call(OTHER, 'unary'), 'PERMISSION_DENIED');
    // A gateway of the trust domain forwards calls it decided itself (from other clusters).
    assert.equal(await call(GATEWAY, 'admin'), 'OK:admin');
    // The allow rule names elsewhere's callers: the RBAC principal matches a pattern.
    assert.equal(await call(FOREIGN, 'unary'), 'OK:unary');
  });

  it('requires a client certificate that chains to the bundle', async () => {
    assert.equal(await call(undefined, 'unary'), 'UNAVAILABLE');
    const stranger = buildCert({ ca: true, uris: [`spiffe://${TD}`], keyType: 'ec' });
    assert.equal(await call(FRONTEND, 'unary', stranger), 'UNAVAILABLE');
  });

  it('follows a new policy set without a restart: without the allow list, the default lets the trust domain in', async () => {
    await gateway!.policies.delete('AccessPolicy', 'rbacecho');
    assert.equal(await waitFor('the default to reach the server', async () => ((await call(OTHER, 'unary')) === 'OK:unary' ? true : undefined), 20_000), true);
    assert.equal(await call(FRONTEND, 'admin'), 'OK:admin');
    assert.equal(await call(FOREIGN, 'unary'), 'PERMISSION_DENIED');
  });
});
