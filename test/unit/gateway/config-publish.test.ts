import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../../gateway/index.js';
import { servicePatternMatches } from '../../../gateway/config/validate-publish.js';
import { MINIMAL_CONFIG, problemsOf } from '../../helpers/config-problems.js';

const consul = (publish: string, extra = ''): string => `${MINIMAL_CONFIG}
sources:
  consul:
    - name: consul-dc1
      address: 10.0.0.5:8500
      publish: ${publish}
${extra}`;

describe('gateway config: sources.consul[].publish', () => {
  it('takes a publish block, with the node left to the gateway name', () => {
    const config = parseConfigText(consul('{ services: ["billing.prod", "payments.*", "*.legacy", "*"], address: 10.0.0.9, ports: "21000-21099" }'));
    assert.deepEqual(config.sources.consul[0]?.publish, {
      services: ['billing.prod', 'payments.*', '*.legacy', '*'], address: '10.0.0.9', ports: { first: 21000, last: 21099 }, node: undefined,
    });
    assert.equal(parseConfigText(consul('{ services: [], address: "::1", ports: 21000, node: causeway-edge }')).sources.consul[0]?.publish?.node, 'causeway-edge');
    assert.equal(parseConfigText(consul('{ services: [], address: 10.0.0.9, ports: 21000 }').replace(/ +publish:.*\n/, '')).sources.consul[0]?.publish, undefined);
  });

  it('names every bad field of a publish block', () => {
    assert.deepEqual(problemsOf(consul('{ services: ["Billing.prod", "billing", "a.b.c", 7], address: 0.0.0.0, ports: "21099-21000", node: "bad node", extra: 1 }')), [
      'sources.consul[0].publish.extra: unknown field',
      'sources.consul[0].publish.services[0]: "Billing.prod" is not a service pattern "<name>.<namespace>" ("*" for any name or namespace)',
      'sources.consul[0].publish.services[1]: "billing" is not a service pattern "<name>.<namespace>" ("*" for any name or namespace)',
      'sources.consul[0].publish.services[2]: "a.b.c" is not a service pattern "<name>.<namespace>" ("*" for any name or namespace)',
      'sources.consul[0].publish.services[3]: 7 is not a service pattern "<name>.<namespace>" ("*" for any name or namespace)',
      'sources.consul[0].publish.address: "0.0.0.0" is not an IP address of this gateway, what Consul-native clients connect to (not 0.0.0.0 or ::)',
      'sources.consul[0].publish.ports: "21099-21000" is not a port range "<first>-<last>" within 1-65535, such as "21000-21099"',
      'sources.consul[0].publish.node: "bad node" is not a Consul node name (letters, digits, "-", "_", ".")',
    ]);
    assert.deepEqual(problemsOf(consul('{ address: consul.example }')), [
      'sources.consul[0].publish.services: is required (patterns of mesh services to publish: "billing.prod", "payments.*"; [] publishes nothing)',
      'sources.consul[0].publish.address: "consul.example" is not an IP address of this gateway, what Consul-native clients connect to (not 0.0.0.0 or ::)',
      'sources.consul[0].publish.ports: is required (a port range "<first>-<last>" within 1-65535, such as "21000-21099")',
    ]);
    assert.deepEqual(problemsOf(consul('{ services: [], ports: 1 }')), [
      'sources.consul[0].publish.address: is required (an IP address of this gateway, what Consul-native clients connect to (not 0.0.0.0 or ::))',
    ]);
    assert.deepEqual(problemsOf(consul('[billing.prod]')), ['sources.consul[0].publish: must be a mapping { services, address, ports, node }']);
  });

  it('refuses a range that takes a listener\'s or a forward port\'s port, overlaps another, or shares a node', () => {
    const problems = problemsOf(`${MINIMAL_CONFIG}
listen: { outbound: "0.0.0.0:21005" }
outbound:
  forward: [{ listen: "10.0.0.9:21010", service: "echo.demo:80" }, { listen: "10.0.0.8:21011", service: "echo.demo:80" }]
sources:
  consul:
    - { name: dc1-a, address: 10.0.0.5:8500, publish: { services: ["*"], address: 10.0.0.9, ports: "21000-21020" } }
    - { name: dc1-b, address: 10.0.0.6:8500, publish: { services: ["*"], address: 10.0.0.9, ports: "21020-21030" } }
    - { name: dc2, address: 10.0.0.7:8500, datacenter: dc2, publish: { services: ["*"], address: 10.0.0.8, ports: "22000-22010" } }
`);
    assert.deepEqual(problems.filter((p) => p.includes('publish')), [
      'sources.consul[0].publish.ports: 21000-21020 takes 0.0.0.0:21005, already listen.outbound',
      'sources.consul[0].publish.ports: 21000-21020 takes 10.0.0.9:21010, already outbound.forward[0].listen',
      'sources.consul[1].publish.ports: 21020-21030 overlaps sources.consul[0].publish.ports (21000-21020) on 10.0.0.9',
      'sources.consul[1].publish.node: (default node) in (the agent\'s datacenter) is also sources.consul[0] (dc1-a)\'s; give one of them its own publish.node',
    ]);
  });

  it('matches service keys by pattern', () => {
    const table: Array<[string, string, boolean]> = [
      ['billing.prod', 'billing.prod', true], ['billing.prod', 'billing.stage', false], ['payments.*', 'payments.prod', true],
      ['payments.*', 'payment.prod', false], ['*.prod', 'billing.prod', true], ['*.prod', 'billing.production', false], ['*', 'x.y', true],
      ['*.*', 'x.y', true],
    ];
    for (const [pattern, key, expected] of table) assert.equal(servicePatternMatches(pattern, key), expected, `${pattern} ~ ${key}`);
  });
});
