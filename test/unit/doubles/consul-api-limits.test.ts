// The Consul API double's listener: Consul's per-client-IP connection limit
// (`limits.http_max_conns_per_client`, go-connlimit's 429 handler) and HTTPS with an optional
// client-certificate requirement (`tls.https.verify_incoming`).
import assert from 'node:assert/strict';
import { Agent } from 'node:https';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import Consul from 'consul';
import { ConsulApiDouble, DEFAULT_MAX_CONNS_PER_CLIENT, TOO_MANY_CONNS_RESPONSE } from '../../doubles/consul-api.js';
import { makeConsulTls, type ConsulTlsFiles } from '../../helpers/consul-tls.js';
import { makeTempDir } from '../../helpers/paths.js';
import { waitFor } from '../../helpers/wait-for.js';

/** Everything a connection receives until it closes (errors ignored: a refused one may be reset). */
function received(socket: Socket): Promise<string> {
  socket.on('error', () => {});
  return new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
    socket.on('close', () => resolve(text));
  });
}

/** A raw TCP connection that only reads (as Consul answers a refused one before reading anything). */
function rawConnection(port: number): { socket: Socket; received: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  return { socket, received: received(socket) };
}

const openFrom = (consul: ConsulApiDouble): number => consul.openConnections()['127.0.0.1'] ?? 0;

describe('Consul API double: per-client connection limit', () => {
  it('refuses a connection over the limit with Consul\'s raw 429 and closes it; a freed slot is usable again', async () => {
    const consul = new ConsulApiDouble({ maxConnsPerClient: 3 });
    const { port } = await consul.start();
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 3; i += 1) held.push(rawConnection(port).socket);
      await waitFor('3 connections accepted', () => (openFrom(consul) === 3 ? true : undefined));
      const refused = rawConnection(port);
      assert.equal(await refused.received, TOO_MANY_CONNS_RESPONSE);
      assert.match(TOO_MANY_CONNS_RESPONSE, /^HTTP\/1\.1 429 Too Many Requests\r\n[\s\S]*Connection: close\r\n\r\nYour IP is issuing too many concurrent connections, please rate limit your calls\n$/);
      assert.deepEqual([consul.refusedConnections, openFrom(consul)], [1, 3], 'the refused connection is not counted');

      held.pop()?.destroy();
      await waitFor('a slot freed', () => (openFrom(consul) === 2 ? true : undefined));
      const answer = await fetch(`http://127.0.0.1:${port}/v1/catalog/services`);
      assert.deepEqual([answer.status, await answer.json()], [200, { consul: [] }]);
    } finally {
      for (const s of held) s.destroy();
      await consul.close();
    }
  });

  it('defaults to Consul\'s 200 per client; 0 means no limit; a negative limit is refused', { timeout: 30_000 }, async () => {
    assert.equal(DEFAULT_MAX_CONNS_PER_CLIENT, 200);
    for (const [options, accepted] of [[{}, 200], [{ maxConnsPerClient: 0 }, 210]] as const) {
      const consul = new ConsulApiDouble(options);
      const { port } = await consul.start();
      const held = Array.from({ length: 210 }, () => rawConnection(port));
      try {
        await waitFor(`${accepted} accepted`, () => (openFrom(consul) === accepted && consul.refusedConnections === 210 - accepted ? true : undefined));
      } finally {
        for (const c of held) c.socket.destroy();
        await consul.close();
      }
    }
    assert.throws(() => new ConsulApiDouble({ maxConnsPerClient: -1 }), /maxConnsPerClient must be a whole number >= 0/);
  });
});

describe('Consul API double over HTTPS', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let tls: ConsulTlsFiles;

  before(async () => {
    tmp = await makeTempDir('consul-double-tls');
    tls = makeConsulTls(tmp.dir);
  });
  after(async () => {
    await tmp?.remove();
  });

  const client = (port: number, agent: Record<string, unknown>): Consul =>
    new Consul({ host: '127.0.0.1', port, secure: true, agent: new Agent({ keepAlive: true, ...agent }) });

  it('serves HTTPS with its certificate: a client trusting the CA reads, one that does not is refused, plain HTTP gets nothing', async () => {
    const consul = new ConsulApiDouble({ tls: { key: tls.serverKeyPem, cert: tls.serverCertPem } });
    const { port } = await consul.start();
    const trusting = client(port, { ca: tls.caPem, servername: 'server.dc1.consul' });
    const byIp = client(port, { ca: tls.caPem });
    const untrusting = client(port, {});
    try {
      assert.deepEqual(await trusting.catalog.service.list(), { consul: [] });
      assert.deepEqual(await byIp.catalog.service.list(), { consul: [] }, 'the certificate also names IP 127.0.0.1');
      await assert.rejects(untrusting.catalog.service.list(), /self[- ]signed|unable to (get local issuer|verify)/i);
      await assert.rejects(fetch(`http://127.0.0.1:${port}/v1/catalog/services`));
    } finally {
      for (const c of [trusting, byIp, untrusting]) c.destroy();
      await consul.close();
    }
  });

  it('with verifyIncoming, a client without a certificate fails the handshake and one with a certificate from the CA is served', async () => {
    const consul = new ConsulApiDouble({ tls: { key: tls.serverKeyPem, cert: tls.serverCertPem, ca: tls.caPem, verifyIncoming: true } });
    const { port } = await consul.start();
    const anonymous = client(port, { ca: tls.caPem, servername: 'server.dc1.consul' });
    const serverCertAsClient = client(port, { ca: tls.caPem, servername: 'server.dc1.consul', cert: tls.serverCertPem, key: tls.serverKeyPem });
    const withCert = client(port, { ca: tls.caPem, servername: 'server.dc1.consul', cert: tls.clientCertPem, key: tls.clientKeyPem });
    try {
      await assert.rejects(anonymous.catalog.service.list(), /certificate required|socket hang up|ECONNRESET|alert/i);
      assert.deepEqual(await withCert.catalog.service.list(), { consul: [] });
      // The server certificate also carries clientAuth and is signed by the same CA: accepted too.
      assert.deepEqual(await serverCertAsClient.catalog.service.list(), { consul: [] });
      assert.equal(consul.requestLog().length, 2, 'the refused client never reached the API');
    } finally {
      for (const c of [anonymous, serverCertAsClient, withCert]) c.destroy();
      await consul.close();
    }
  });

  it('over the limit, an HTTPS client gets the 429 once its handshake is done', async () => {
    const consul = new ConsulApiDouble({ maxConnsPerClient: 1, tls: { key: tls.serverKeyPem, cert: tls.serverCertPem } });
    const { port } = await consul.start();
    const open = (): { socket: Socket; received: Promise<string> } => {
      const socket = tlsConnect({ host: '127.0.0.1', port, ca: tls.caPem, servername: 'server.dc1.consul' });
      return { socket, received: received(socket) };
    };
    const first = open();
    try {
      await waitFor('the first connection accepted', () => (openFrom(consul) === 1 ? true : undefined));
      const second = open();
      assert.equal(await second.received, TOO_MANY_CONNS_RESPONSE);
      assert.equal(consul.refusedConnections, 1);
    } finally {
      first.socket.destroy();
      await consul.close();
    }
  });
});
