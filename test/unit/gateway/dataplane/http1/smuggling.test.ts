import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { OutboundProxy } from '../../../../../gateway/dataplane/outbound-proxy.js';
import { TunnelClient } from '../../../../../gateway/dataplane/tunnel-client.js';
import { RawConnection } from '../../../../helpers/http1-raw.js';
import { endpointOf, makeWorld, publishInB, type World } from '../sides.js';
import { startRawBackend, type RawBackend } from './raw-backend.js';

/**
 * Request smuggling (RFC 9112 §6.3, §11.2): every message whose framing two parsers could read
 * differently is refused with 400 and the connection closed, at A's outbound listener (for a
 * local and a remote service) and at B's east-west listener (a pooled HTTP/1.1 CONNECT stream
 * written to directly, as a rogue or buggy peer gateway would). Each case carries a second
 * request, GET /smuggled, where a parser that got the framing wrong would find it; the raw
 * backend records every byte it receives, and never sees it.
 */

const CLIENT = 'spiffe://a.test/ns/demo/sa/client';
const HIDDEN = 'GET /smuggled HTTP/1.1\r\nHost: raw.demo:8080\r\n\r\n';

/** name → the request up to where the hidden one starts. `{T}` is the request target, `{H}` the Host. */
const CASES: ReadonlyArray<[string, string]> = [
  ['Content-Length with Transfer-Encoding', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['Transfer-Encoding with Content-Length', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\nContent-Length: 48\r\n\r\n0\r\n\r\n'],
  ['duplicate Content-Length, same value', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello'],
  ['duplicate Content-Length, differing', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nContent-Length: 5\r\nContent-Length: 48\r\n\r\nhello'],
  ['Content-Length list', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nContent-Length: 5, 5\r\n\r\nhello'],
  ['Content-Length not a number', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nContent-Length: 5x\r\n\r\nhello'],
  ['Content-Length negative', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nContent-Length: -5\r\n\r\nhello'],
  ['Content-Length with a sign', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nContent-Length: +5\r\n\r\nhello'],
  ['chunk size not hex', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'],
  ['chunk size overflowing', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000005\r\nhello\r\n0\r\n\r\n'],
  ['chunk size with a bare LF', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n'],
  ['chunk longer than its size', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n'],
  ['obs-fold', 'GET {T} HTTP/1.1\r\nHost: {H}\r\nX-Folded: a\r\n b\r\n\r\n'],
  ['obs-fold of Transfer-Encoding', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n'],
  ['bare CR in a field value', 'GET {T} HTTP/1.1\r\nHost: {H}\r\nX-A: a\rTransfer-Encoding: chunked\r\n\r\n'],
  ['bare CR ending the request line', 'GET {T} HTTP/1.1\rHost: {H}\r\n\r\n'],
  ['bare LF line ends', 'GET {T} HTTP/1.1\nHost: {H}\n\n'],
  ['bare LF ending a field', 'POST {T} HTTP/1.1\r\nHost: {H}\nContent-Length: 5\r\n\r\nhello'],
  ['NUL in a field value', 'GET {T} HTTP/1.1\r\nHost: {H}\r\nX-A: a\x00b\r\n\r\n'],
  ['control byte in a field value', 'GET {T} HTTP/1.1\r\nHost: {H}\r\nX-A: a\x01b\r\n\r\n'],
  ['space in a field name', 'GET {T} HTTP/1.1\r\nHost: {H}\r\nX Injected: b\r\n\r\n'],
  ['space before the colon', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n'],
  ['leading space on the first field', 'GET {T} HTTP/1.1\r\n Host: {H}\r\n\r\n'],
  ['two Host fields', 'GET {T} HTTP/1.1\r\nHost: {H}\r\nHost: other.demo:8080\r\n\r\n'],
  ['Transfer-Encoding gzip', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n'],
  ['Transfer-Encoding chunked then gzip', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n'],
  ['Transfer-Encoding gzip then chunked', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'],
  ['Transfer-Encoding xchunked', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n'],
  ['two Transfer-Encoding fields', 'POST {T} HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n'],
  ['Transfer-Encoding in HTTP/1.0', 'POST {T} HTTP/1.0\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
];

type Where = 'outbound, remote service' | 'outbound, local service' | 'east-west stream';

describe('request smuggling is refused with 400 and the connection closed', () => {
  let world: World;
  let tunnels: TunnelClient;
  let backend: RawBackend;
  let proxy: OutboundProxy;
  let address: AddressInfo;

  /** A connection to `where`, and how requests on it name the service. */
  async function open(where: Where): Promise<{ conn: RawConnection; target: string; host: string }> {
    if (where === 'east-west stream') {
      const tunnel = await tunnels.open(world.gatewayB, 'raw.demo:8080', CLIENT, { http1: true });
      return { conn: RawConnection.over(tunnel.stream), target: '/outer', host: 'raw.demo:8080' };
    }
    const service = where === 'outbound, remote service' ? 'raw.demo:8080' : 'rawlocal.demo:8080';
    return { conn: await RawConnection.open(address.port), target: `http://${service}/outer`, host: service };
  }

  before(async () => {
    world = await makeWorld();
    world.rulesB.push({ to: '*', from: ['spiffe://a.test/ns/demo/*'] });
    tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    backend = await startRawBackend();
    publishInB(world, 'raw', [endpointOf(backend.port)]);
    world.a.putLocal('rawlocal', [endpointOf(backend.port)]);
    proxy = new OutboundProxy({ catalog: world.a.catalog, tunnels, locality: world.a.locality, callerIdentity: () => CLIENT, connectTimeoutMs: 2000 });
    address = await proxy.listen('127.0.0.1', 0);
  });

  after(async () => {
    await proxy?.close();
    await tunnels?.close();
    await backend?.close();
    await world?.close();
  });

  for (const where of ['outbound, remote service', 'outbound, local service', 'east-west stream'] as const) {
    describe(where, () => {
      it('control: a valid request with a request line inside its body is served, the line read as body', async () => {
        const { conn, target, host } = await open(where);
        try {
          const body = 'GET /hidden-in-body HTTP/1.1\r\nHost: raw.demo:8080\r\n\r\n';
          const seen = backend.requestLines.length;
          conn.write(`POST ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
          const reply = await conn.readResponse();
          assert.equal(reply.status, 200);
          assert.deepEqual(backend.requestLines.slice(seen), ['POST /outer HTTP/1.1']);
          assert.equal(conn.peerEnded, false);
        } finally {
          conn.destroy();
        }
      });

      for (const [name, text] of CASES) {
        it(name, async () => {
          const { conn, target, host } = await open(where);
          try {
            const seen = backend.requestLines.length;
            conn.write(text.replace('{T}', target).replace('{H}', host) + HIDDEN);
            const reply = await conn.readResponse();
            assert.equal(reply.status, 400, `${reply.status} ${reply.body.toString().slice(0, 200)}`);
            assert.equal(reply.headers['causeway-error'], 'CW_REQUEST_INVALID');
            // Refused for the framing at issue, not as a side effect of the test's own bytes.
            assert.doesNotMatch(reply.body.toString(), /Invalid method|HPE_INVALID_CONSTANT|absolute-form|origin-form|Host "/);
            assert.equal(await conn.endsWithin(5000), true, 'the connection is closed after the 400');
            // At most the outer request reached the backend (a bad chunk is found after its head
            // was forwarded; the upstream connection is then discarded), never the hidden one.
            for (const line of backend.requestLines.slice(seen)) assert.equal(line, `${text.split(' ')[0]} /outer HTTP/1.1`);
          } finally {
            conn.destroy();
          }
        });
      }

      it('refuses HTTP/0.9 and HTTP/2.0 request lines with 505, closing the connection', async () => {
        for (const line of ['GET /outer\r\n', 'GET {T} HTTP/2.0\r\nHost: {H}\r\n\r\n']) {
          const { conn, target, host } = await open(where);
          try {
            conn.write(line.replace('{T}', target).replace('{H}', host) + HIDDEN);
            const reply = await conn.readResponse();
            // HTTP/0.9 has no version to answer 505 about when llhttp finds the bytes after it
            // malformed first: 400 is as good a refusal.
            assert.ok(reply.status === 505 || (reply.status === 400 && !line.includes('HTTP/')), `${reply.status} for ${line}: ${reply.body.toString()}`);
            assert.equal(await conn.endsWithin(5000), true);
          } finally {
            conn.destroy();
          }
        }
      });
    });
  }

  it('the backend never saw a smuggled request, nor its bytes', () => {
    assert.ok(backend.requestLines.length > 0, 'the controls reached the backend');
    assert.deepEqual(backend.requestLines.filter((l) => !l.endsWith(' /outer HTTP/1.1')), []);
    assert.equal(backend.received().includes('/smuggled'), false);
    assert.equal(backend.received().includes('/hidden-in-body'), true, 'a body is forwarded as it came');
  });

  for (const [name, path] of [['Content-Length with Transfer-Encoding', 'cl-te'], ['duplicate Content-Length', 'dup-cl'], ['bare LF', 'bare-lf'], ['a bad chunk size', 'bad-chunk']] as const) {
    it(`refuses a response with ${name}: the caller gets 502 CW_UPSTREAM_BROKEN or a cut connection, never the bytes as they came`, async () => {
      for (const service of ['raw.demo:8080', 'rawlocal.demo:8080']) {
        const conn = await RawConnection.open(address.port);
        try {
          conn.write(`GET http://${service}/respond/${path} HTTP/1.1\r\nHost: ${service}\r\n\r\n`);
          let status: number | undefined;
          let closing = true;
          try {
            const reply = await conn.readResponse();
            status = reply.status;
            closing = reply.headers.connection === 'close';
            assert.equal(reply.headers['causeway-error'], 'CW_UPSTREAM_BROKEN');
          } catch (err) {
            // A bad chunk is found after the head was passed on: the connection is cut instead.
            assert.equal(path, 'bad-chunk', String(err));
          }
          if (status !== undefined) assert.equal(status, 502, service);
          assert.equal(conn.unread().toString('latin1').includes('hello'), false);
          if (service.startsWith('rawlocal')) assert.equal(closing, true, 'A gave up on the exchange itself: the connection ends with it');
          if (closing) {
            assert.equal(await conn.endsWithin(5000), true);
          } else {
            // B gave up and answered A a whole, framed 502: A's caller connection stays in step.
            conn.write(`GET http://${service}/next HTTP/1.1\r\nHost: ${service}\r\n\r\n`);
            assert.equal((await conn.readResponse()).body.toString(), 'seen GET /next HTTP/1.1');
          }
        } finally {
          conn.destroy();
        }
      }
    });
  }
});
