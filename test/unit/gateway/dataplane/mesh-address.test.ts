import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
