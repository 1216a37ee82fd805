import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorResponse, requestFramingError, requestHead, responseHead } from '../../../../../gateway/dataplane/http1/head.js';
import { Http1Parser, HttpParseError, type MessageHead } from '../../../../../gateway/dataplane/http1/llhttp.js';

function parseHead(text: string, kind: 'request' | 'response' = 'request'): MessageHead {
  const step = new Http1Parser(kind, 65_536).execute(Buffer.from(text, 'latin1'));
  assert.ok(step.head, `no head in ${JSON.stringify(text)}`);
  return step.head;
}

describe('HTTP/1.1 head rewriting', () => {
  it('drops hop-by-hop fields, the fields Connection names, causeway-* and Host; keeps framing; appends Via', () => {
    const head = parseHead([
      'POST http://echo.demo:8080/x HTTP/1.1', 'Host: echo.demo:8080', 'Connection: keep-alive, X-Trace-Hop', 'Keep-Alive: timeout=5',
      'X-Trace-Hop: 1', 'Proxy-Authorization: Basic eA==', 'TE: trailers', 'Transfer-Encoding: chunked', 'Causeway-Source: spiffe://evil/x',
      'X-Keep: yes', 'Via: 1.0 other', '', '',
    ].join('\r\n'));
    const out = requestHead(head, '/x', 'echo.demo:8080', 'causeway-source: spiffe://a.test/ns/demo/sa/client\r\n').toString('latin1');
    assert.equal(out, [
      'POST /x HTTP/1.1', 'Host: echo.demo:8080', 'Transfer-Encoding: chunked', 'X-Keep: yes', 'Via: 1.0 other, 1.1 causeway',
      'causeway-source: spiffe://a.test/ns/demo/sa/client', '', '',
    ].join('\r\n'));
  });

  it('drops every x-forwarded-client-cert a caller sends, whatever its case; only the gateway\'s own is written', () => {
    const head = parseHead([
      'GET /x HTTP/1.1', 'Host: echo.demo:8080', 'X-Forwarded-Client-Cert: By=spiffe://a.test/gateway/gw-a;URI=spiffe://a.test/ns/demo/sa/admin',
      'x-forwarded-client-cert: URI=spiffe://a.test/ns/demo/sa/root', 'X-Keep: yes', '', '',
    ].join('\r\n'));
    const ours = 'x-forwarded-client-cert: By=spiffe://b.test/gateway/gw-b;URI=spiffe://a.test/ns/demo/sa/client\r\n';
    assert.equal(requestHead(head, '/x', 'echo.demo:8080', ours).toString('latin1'), [
      'GET /x HTTP/1.1', 'Host: echo.demo:8080', 'X-Keep: yes', 'Via: 1.1 causeway',
      'x-forwarded-client-cert: By=spiffe://b.test/gateway/gw-b;URI=spiffe://a.test/ns/demo/sa/client', '', '',
    ].join('\r\n'));
  });

  it('keeps causeway-* fields on responses and says Connection: close when asked', () => {
    const head = parseHead('HTTP/1.1 200 OK\r\nCauseway-Endpoint: 10.1.0.1:80\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 'response');
    assert.equal(responseHead(head, 'causeway-route: local\r\n', true),
      'HTTP/1.1 200 OK\r\nCauseway-Endpoint: 10.1.0.1:80\r\nContent-Length: 0\r\nVia: 1.1 causeway\r\ncauseway-route: local\r\nConnection: close\r\n\r\n');
  });

  it('refuses request framing a next hop could read differently (RFC 9112 §6.1, §6.3)', () => {
    assert.equal(requestFramingError(parseHead('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n')), undefined);
    assert.match(String(requestFramingError(parseHead('POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n'))), /not "chunked"/);
    assert.match(String(requestFramingError(parseHead('POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n'))), /HTTP\/1\.0/);
  });

  it('writes an error answer with the code in causeway-error and a JSON body', () => {
    const text = errorResponse(502, 'CW_SERVICE_UNKNOWN', 'nope.demo is not in the catalog', { close: true }).toString();
    assert.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
    assert.match(text, /\r\ncauseway-error: CW_SERVICE_UNKNOWN\r\n/);
    assert.match(text, /\r\nconnection: close\r\n/);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    assert.match(text, new RegExp(`content-length: ${Buffer.byteLength(body)}\\r\\n`));
    assert.deepEqual(JSON.parse(body), { code: 'CW_SERVICE_UNKNOWN', message: 'nope.demo is not in the catalog' });
  });
});

describe('Http1Parser (llhttp)', () => {
  it('stops at each head and message end so bodies are forwarded byte for byte, pipelined requests included', () => {
    const parser = new Http1Parser('request', 65_536);
    const wire = Buffer.from('POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloPOST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\nGET /c HTTP/1.1\r\n\r\n');
    const seen: string[] = [];
    let rest = wire;
    for (let i = 0; i < 20 && rest.length > 0; i++) {
      const step = parser.execute(rest);
      const consumed = rest.subarray(0, step.consumed).toString();
      if (step.head) seen.push(`head ${step.head.method} ${step.head.target}`);
      else if (consumed !== '') seen.push(`body ${JSON.stringify(consumed)}`);
      if (step.end) seen.push('end');
      rest = rest.subarray(step.consumed);
    }
    seen.push(parser.execute(Buffer.alloc(0)).end ? 'end' : 'open');
    assert.deepEqual(seen, [
      'head POST /a', 'body "hello"', 'end', 'head POST /b', 'body "3\\r\\nabc\\r\\n0\\r\\nX-T: 1\\r\\n\\r\\n"', 'end', 'head GET /c', 'end',
    ]);
  });

  it('ends a response to HEAD at its head whatever its Content-Length says', () => {
    const parser = new Http1Parser('response', 65_536);
    parser.expectNoBody(true);
    const step = parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n'));
    assert.equal(step.head?.status, 200);
    assert.equal(step.end, true);
  });

  it('refuses every RFC 9112 smuggling shape with a named error', () => {
    const cases: Record<string, string> = {
      'Content-Length with Transfer-Encoding': 'POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
      'duplicate Content-Length': 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      'list Content-Length': 'POST / HTTP/1.1\r\nContent-Length: 1,1\r\n\r\n',
      'bad Content-Length': 'POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n',
      'bad chunk size': 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'obs-fold': 'GET / HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n',
      'bare LF': 'GET / HTTP/1.1\nHost: x\n\n',
      'bare CR in a value': 'GET / HTTP/1.1\r\nX-A: b\rc\r\n\r\n',
      'NUL in a value': 'GET / HTTP/1.1\r\nX-A: b\0c\r\n\r\n',
      'space before colon': 'GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n',
    };
    for (const [name, text] of Object.entries(cases)) {
      const parser = new Http1Parser('request', 65_536);
      assert.throws(() => {
        let rest = Buffer.from(text, 'latin1');
        for (let i = 0; i < 5; i++) rest = rest.subarray(parser.execute(rest).consumed);
      }, (err: unknown) => err instanceof HttpParseError && err.errno.startsWith('HPE_'), name);
    }
  });

  it('flags a head over the limit', () => {
    const parser = new Http1Parser('request', 100);
    parser.execute(Buffer.from(`GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(200)}`));
    assert.equal(parser.tooLarge, true);
  });
});
