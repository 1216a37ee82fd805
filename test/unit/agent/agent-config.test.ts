import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCausewayError } from '../../../registry/index.js';
import { parseAgentConfigText } from '../../../gateway/agent/agent-config.js';

const MINIMAL = `
dataDir: /var/lib/causeway
services:
  - name: billing
    namespace: legacy
    ports: [{ name: http, port: 8080 }]
`;

function problems(text: string): string[] {
  try {
    parseAgentConfigText(text, '/etc/causeway/agent.yaml');
  } catch (err) {
    assert.ok(isCausewayError(err, 'CW_CONFIG_INVALID'), String(err));
    return [...err.details];
  }
  assert.fail('accepted');
}

describe('agent config', () => {
  it('fills the defaults a VM needs', () => {
    const config = parseAgentConfigText(MINIMAL, '/etc/causeway/agent.yaml');
    assert.equal(config.kind, 'vm');
    assert.deepEqual(config.inbound, { host: '0.0.0.0', port: 15006 });
    assert.deepEqual(config.outbound, { listen: { host: '127.0.0.1', port: 15001 }, forward: [] });
    assert.deepEqual(config.services[0], {
      name: 'billing', namespace: 'legacy', ports: [{ name: 'http', port: 8080, protocol: 'http' }], export: false, labels: {}, weight: undefined, check: undefined,
    });
    assert.equal(config.maxBackoffMs, 15_000);
    assert.equal(parseAgentConfigText('services: []', '/etc/causeway/agent.yaml').dataDir, '/var/lib/causeway');
    assert.equal(parseAgentConfigText('dataDir: state\nservices: []', '/etc/causeway/agent.yaml').dataDir, '/etc/causeway/state');
  });

  it('takes targetPort, a check, forward ports, inbound: false', () => {
    const config = parseAgentConfigText(`
kind: metal
address: 10.0.1.7
inbound: false
outbound: { listen: false, forward: [{ listen: "127.0.0.1:5432", service: "ledger.finance:5432" }] }
services:
  - name: billing
    namespace: legacy
    export: true
    weight: 10
    ports: [{ name: http, port: 80, targetPort: 8080, protocol: http }]
    check: { tcp: "127.0.0.1:8080", interval: 5s, timeout: 1s }
`);
    assert.equal(config.kind, 'metal');
    assert.equal(config.inbound, undefined);
    assert.equal(config.outbound.listen, undefined);
    assert.deepEqual(config.outbound.forward, [{ listen: { host: '127.0.0.1', port: 5432 }, service: 'ledger.finance:5432' }]);
    assert.deepEqual(config.services[0]?.ports, [{ name: 'http', port: 80, protocol: 'http', targetPort: 8080 }]);
    assert.equal(config.services[0]?.check?.kind, 'tcp');
  });

  it('names every problem with its path, and nothing is started', () => {
    const found = problems(`
dataDir: ""
identity: "spiffe://td"
kind: container
address: vm.internal
gateway: { identity: "gw.internal:15017", outbund: "x" }
inbound: { listen: "0.0.0.0" }
outbound: { forward: [{ listen: "127.0.0.1:9001" }, { listen: "127.0.0.1:9002", service: "echo" }] }
services:
  - name: Billing
    namespace: legacy
    ports: [{ name: http, port: 8080, targetPort: 0 }]
    check: { http: "http://127.0.0.1:8080/", tcp: "127.0.0.1:1" }
  - name: billing2
    ports: []
  - namespace: x
    ports: [{ name: http, port: 1 }]
maxBackoff: 10ms
logLevel: loud
extra: 1
`);
    for (const expected of [
      /^extra: unknown field/, /^dataDir: must be a non-empty string/, /^identity: .*names no workload/, /^gateway\.outbund: unknown field/,
      /^kind: "container" must be "vm" or "metal"/, /^address: "vm\.internal" is not an IP address/, /^gateway\.identity: "gw\.internal" is not an IP address/,
      /^inbound\.listen: "0\.0\.0\.0" is not host:port/, /^outbound\.forward\[0\]\.service: is required/, /^outbound\.forward\[1\]\.service: "echo:?.*/,
      /^services\[0\]\.name: "Billing" is not a DNS-1123 label/, /^services\[0\]\.ports\[0\]\.targetPort: must be a port/, /^services\[0\]\.check/,
      /^services\[1\]\.ports: is required/, /^services\[2\]\.name: is required/, /^maxBackoff: must be a duration/, /^logLevel: "loud"/,
    ]) {
      assert.ok(found.some((p) => expected.test(p)), `${String(expected)} not in:\n${found.join('\n')}`);
    }
  });

  it('refuses a listed service twice, YAML that does not parse, and a document that is not a mapping', () => {
    assert.ok(problems(`${MINIMAL}  - name: billing\n    namespace: legacy\n    ports: [{ name: http, port: 8080 }]\n`).some((p) => /services\[1\]: billing\.legacy is listed twice/.test(p)));
    assert.throws(() => parseAgentConfigText('services: [', 'a.yaml'), (err: Error) => isCausewayError(err, 'CW_CONFIG_INVALID') && /not valid YAML/.test(err.message));
    assert.throws(() => parseAgentConfigText('- 1', 'a.yaml'), (err: Error) => isCausewayError(err, 'CW_CONFIG_INVALID') && /must be a mapping/.test(err.message));
  });
});
