import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCausewayError } from '../../../registry/index.js';
import { parseConfigText } from '../../../gateway/index.js';
import { parseAgentConfigText } from '../../../gateway/agent/agent-config.js';
import { parseAgentFrame, type RegisterFrame } from '../../../gateway/agent-channel/agent-frames.js';
import { MINIMAL_CONFIG, problemsOf } from '../../helpers/config-problems.js';

// exportTo where services are written: the gateway's config, the agent's config, and the
// register frame an agent sends (docs/configuration.md, "Exporting to chosen peers").
const SERVICE = `
  - name: echo
    namespace: demo
    ports: [{ name: http, port: 8080 }]
    endpoints: [{ address: 10.0.0.1, ports: { http: 9000 }, identity: spiffe://cluster-a.example.org/ns/demo/sa/echo }]`;

describe('exportTo in the configs and the agent frame', () => {
  it('gateway config: services[].exportTo, with export: true, every problem with its path', () => {
    const config = parseConfigText(`${MINIMAL_CONFIG}services:${SERVICE}\n    export: true\n    exportTo: [cluster-b, "region=eu-west-1"]\n`, 'test.yaml');
    assert.deepEqual(config.services[0]?.exportTo, ['cluster-b', 'region=eu-west-1']);
    assert.equal(parseConfigText(`${MINIMAL_CONFIG}services:${SERVICE}\n    export: true\n`, 'test.yaml').services[0]?.exportTo, undefined);
    assert.deepEqual(problemsOf(`${MINIMAL_CONFIG}services:${SERVICE}\n    exportTo: [cluster-b]\n`),
      ['services[0].exportTo: needs export: true (a service that is not exported goes to no peer)']);
    assert.deepEqual(problemsOf(`${MINIMAL_CONFIG}services:${SERVICE}\n    export: true\n    exportTo: [Cluster-B, "region eu"]\n`), [
      'services[0].exportTo[0]: "Cluster-B" is neither a peer name (a DNS-1123 label such as "cluster-b") nor a label selector key=value',
      'services[0].exportTo[1]: "region eu" is neither a peer name (a DNS-1123 label such as "cluster-b") nor a label selector key=value',
    ]);
    assert.deepEqual(problemsOf(`${MINIMAL_CONFIG}services:${SERVICE}\n    export: true\n    exportTo: cluster-b\n`),
      ['services[0].exportTo: must be a list of peer names and key=value label selectors (e.g. [cluster-b, "region=eu-west-1"])']);
  });

  it('agent config and register frame carry it to the gateway', () => {
    const agent = parseAgentConfigText(`services:\n  - { name: billing, namespace: legacy, export: true, exportTo: [cluster-b], ports: [{ name: http, port: 8080 }] }\n`, '/etc/a.yaml');
    assert.deepEqual(agent.services[0]?.exportTo, ['cluster-b']);
    assert.equal('exportTo' in parseAgentConfigText(`services:\n  - { name: billing, ports: [{ name: http, port: 8080 }] }\n`, '/etc/a.yaml').services[0]!, false);
    assert.throws(() => parseAgentConfigText(`services:\n  - { name: billing, exportTo: [b], ports: [{ name: http, port: 8080 }] }\n`, '/etc/a.yaml'),
      (err: unknown) => isCausewayError(err, 'CW_CONFIG_INVALID') && err.details.includes('services[0].exportTo: needs export: true (a service that is not exported goes to no peer)'));

    const context = {
      agentId: 'spiffe://cluster-a.example.org/ns/legacy/sa/billing', remoteAddress: '10.0.0.5',
      locality: { cloud: 'aws', region: 'eu-west-1', zone: 'a', cluster: 'cluster-a' },
    };
    const frame = (service: Record<string, unknown>): string => JSON.stringify({
      v: 1, type: 'register', kind: 'vm', services: [{ name: 'billing', namespace: 'legacy', ports: [{ name: 'http', port: 8080 }], ...service }],
    });
    const parsed = parseAgentFrame(frame({ export: true, exportTo: ['env=prod'] }), context) as RegisterFrame;
    assert.deepEqual(parsed.declarations[0]?.exportTo, ['env=prod']);
    assert.throws(() => parseAgentFrame(frame({ export: true, exportTo: ['env='] }), context),
      (err: unknown) => isCausewayError(err, 'CW_FRAME_INVALID') && /services\[0\]\.exportTo\[0\]: "env=": "" is not a label value/.test(err.message));
  });
});
