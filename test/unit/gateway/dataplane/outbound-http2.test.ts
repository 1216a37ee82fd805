import assert from 'node:assert/strict';
import { connect, createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ServiceRecord } from '../../../../registry/index.js';
import { OutboundProxy } from '../../../../gateway/dataplane/outbound-proxy.js';
import { TunnelClient } from '../../../../gateway/dataplane/tunnel-client.js';
import { endpointOf, makeWorld, type World } from './sides.js';

/** A plain HTTP/2 call (no gRPC, no trailers) through A's h2c listener to a backend in B. */
function call(port: number, authority: string, path: string): Promise<{ status: number; body: string; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request({ ':method': 'GET', ':path': path, ':authority': authority });
    let body = '';
    let status = 0;
    const timer = setTimeout(() => { session.destroy(); resolve({ status, body, ended: false }); }, 5000);
    stream.on('response', (headers) => { status = Number(headers[':status']); });
    stream.on('data', (chunk: Buffer) => { body += chunk.toString(); });
    stream.on('end', () => { clearTimeout(timer); session.close(); resolve({ status, body, ended: true }); });
    stream.end();
  });
}

describe('HTTP/2 (h2c) through the outbound listener to an http2 port in the other cluster', () => {
  let world: World;
  let tunnels: TunnelClient;
  let proxy: OutboundProxy;
  let backend: Http2Server;
  let port: number;

  before(async () => {
    world = await makeWorld();
    world.rulesB.push({ to: '*', from: ['spiffe://a.test/ns/demo/*'] });
    backend = createServer((req, res) => {
      res.setHeader('x-path', req.url);
      res.end(`hello ${String(req.headers['x-forwarded-client-cert'])} ${String(req.headers['causeway-source'])}`);
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
    const backendPort = (backend.address() as AddressInfo).port;
    const record: ServiceRecord = {
      origin: 'b', name: 'web2', namespace: 'demo', version: { origin: 'b', epoch: 1, seq: Date.now() }, deleted: false, exported: true,
      ports: [{ name: 'h2', port: 8443, protocol: 'http2' }], endpoints: [{ ...endpointOf(backendPort), ports: { h2: backendPort } }],
    };
    world.b.catalog.applyLocal(record);
    world.a.catalog.applyRemote([record]);
    tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    proxy = new OutboundProxy({ catalog: world.a.catalog, tunnels, locality: world.a.locality, callerIdentity: () => 'spiffe://a.test/ns/demo/sa/client' });
    port = (await proxy.listen('127.0.0.1', 0)).port;
  });

  after(async () => {
    await proxy?.close();
    await tunnels?.close();
    backend?.close();
    await world?.close();
  });

  it('ends an answer that has no trailers, and tells the backend the verified caller', async () => {
    const answer = await call(port, 'web2.demo:8443', '/x');
    assert.deepEqual(answer, { status: 200, body: 'hello By=spiffe://b.test/gateway/gw-b;URI=spiffe://a.test/ns/demo/sa/client undefined', ended: true });
  });
});
