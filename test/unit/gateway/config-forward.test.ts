import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../../gateway/index.js';
import { MINIMAL_CONFIG as MINIMAL, problemsOf } from '../../helpers/config-problems.js';

describe('gateway config: outbound.forward', () => {
  it('takes forward ports and defaults to none', () => {
    assert.deepEqual(parseConfigText(MINIMAL).outbound.forward, []);
    const config = parseConfigText(`${MINIMAL}
outbound:
  forward:
    - { listen: "127.0.0.1:9001", service: "echo.demo:8080" }
    - { listen: "[::1]:9001", service: "Billing.Prod:80" }
`);
    assert.deepEqual(config.outbound.forward.map((f) => [f.listen, f.service.key, f.service.port]), [
      [{ host: '127.0.0.1', port: 9001 }, 'echo.demo', 8080],
      [{ host: '::1', port: 9001 }, 'billing.prod', 80],
    ]);
    assert.ok(Object.isFrozen(config.outbound.forward[0]?.service));
  });

  it('names every bad entry by its path', () => {
    const problems = problemsOf(`${MINIMAL}
listen: { outbound: "127.0.0.1:15001" }
outbound:
  forward:
    - { listen: "localhost:9001", service: "echo.demo:8080" }
    - { listen: "127.0.0.1:9002", service: "echo:8080" }
    - { listen: "127.0.0.1:9003", service: "echo.demo" }
    - { listen: "127.0.0.1:9003", service: "echo.demo:8080" }
    - { listen: "0.0.0.0:9003", service: "echo.demo:8080" }
    - { listen: "127.0.0.1:15001", service: "echo.demo:8080" }
    - { service: "echo.demo:8080", lisen: "127.0.0.1:9009" }
    - "127.0.0.1:9010 echo.demo:8080"
    - { listen: "127.0.0.1:9011", service: "echo.demo:99999" }
`);
    assert.deepEqual(problems, [
      'outbound.forward[0].listen: "localhost" is not an IP address (names are never resolved)',
      'outbound.forward[1].service: "echo" is not a mesh service name <service>.<namespace> (a mesh service "<name>.<namespace>:<port>", such as "echo.demo:8080")',
      'outbound.forward[2].service: "echo.demo" is not <service>.<namespace>:<port> (a mesh service "<name>.<namespace>:<port>", such as "echo.demo:8080")',
      'outbound.forward[3].listen: 127.0.0.1:9003 is already taken by outbound.forward[2].listen (127.0.0.1:9003)',
      'outbound.forward[4].listen: 0.0.0.0:9003 is already taken by outbound.forward[2].listen (127.0.0.1:9003)',
      'outbound.forward[5].listen: 127.0.0.1:15001 is already taken by listen.outbound (127.0.0.1:15001)',
      'outbound.forward[6].lisen: unknown field (did you mean "listen"?)',
      'outbound.forward[6].listen: is required ("<ip>:<port>", such as "127.0.0.1:9001")',
      'outbound.forward[7]: must be a mapping { listen: "<ip>:<port>", service: "<name>.<namespace>:<port>" }',
      'outbound.forward[8].service: port 99999 is out of range 1-65535 (a mesh service "<name>.<namespace>:<port>", such as "echo.demo:8080")',
    ]);
  });

  it('refuses a forward list that is not a list, and an unknown outbound field', () => {
    assert.deepEqual(problemsOf(`${MINIMAL}
outbound: { forward: { listen: "127.0.0.1:9001" }, fowrard: [] }
`), [
      'outbound.fowrard: unknown field (did you mean "forward"?)',
      'outbound.forward: must be a list of { listen: "<ip>:<port>", service: "<name>.<namespace>:<port>" }',
    ]);
  });
});
