import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forwardableHeaders, rawErrorResponse } from '../../../../gateway/dataplane/http-forward.js';
import { parseIpAddress, parseMeshAuthority } from '../../../../gateway/dataplane/mesh-address.js';

describe('mesh authorities and addresses', () => {
  it('parses <service>.<namespace>:<port> and refuses everything else with a reason', () => {
    assert.deepEqual(parseMeshAuthority('echo.demo:8080'), { key: 'echo.demo', name: 'echo', namespace: 'demo', port: 8080 });
    assert.deepEqual(parseMeshAuthority('Echo.Demo:80'), { key: 'echo.demo', name: 'echo', namespace: 'demo', port: 80 });
    for (const bad of ['echo.demo', 'echo:80', 'echo.demo.svc:80', '10.0.0.1:80', '[::1]:80', 'echo.demo:0', 'echo.demo:70000', 'echo.demo:8o', 'e_cho.demo:80', '.demo:80', '']) {
      assert.equal(typeof parseMeshAuthority(bad), 'string', `accepted ${bad}`);
    }
  });

  it('accepts only IP literals as dial addresses (names are never resolved)', () => {
    assert.deepEqual(parseIpAddress('127.0.0.1:15443'), { host: '127.0.0.1', port: 15443 });
    assert.deepEqual(parseIpAddress('[::1]:15443'), { host: '::1', port: 15443 });
    assert.match(String(parseIpAddress('gw.example.org:15443')), /not an IP address/);
    assert.match(String(parseIpAddress('127.0.0.1')), /not ip:port/);
    assert.match(String(parseIpAddress('127.0.0.1:0')), /out of range/);
  });
});

describe('forwarded headers', () => {
  it('drops hop-by-hop fields, the fields Connection names, and causeway-* request fields; appends Via', () => {
    const out = forwardableHeaders({
      host: 'echo.demo:8080', connection: 'keep-alive, X-Trace-Hop', 'keep-alive': 'timeout=5', 'x-trace-hop': '1',
      'proxy-authorization': 'Basic eA==', te: 'trailers', upgrade: 'websocket', 'transfer-encoding': 'chunked',
      'causeway-source': 'spiffe://evil/x', 'x-keep': 'yes', via: '1.0 other',
    }, 'request');
    assert.deepEqual(out, { host: 'echo.demo:8080', 'x-keep': 'yes', via: '1.0 other, 1.1 causeway' });
  });

  it('keeps causeway-* fields on responses', () => {
    assert.equal(forwardableHeaders({ 'causeway-x': '1' }, 'response')['causeway-x'], '1');
  });

  it('writes a raw error answer with code header and JSON body', () => {
    const text = rawErrorResponse(502, 'CW_SERVICE_UNKNOWN', 'nope.demo is not in the catalog');
    assert.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
    assert.match(text, /\r\ncauseway-error: CW_SERVICE_UNKNOWN\r\n/);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    assert.match(text, new RegExp(`content-length: ${Buffer.byteLength(body)}\\r\\n`));
    assert.deepEqual(JSON.parse(body), { code: 'CW_SERVICE_UNKNOWN', message: 'nope.demo is not in the catalog' });
  });
});
