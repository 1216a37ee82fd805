import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCausewayError, type CausewayError } from '../../../registry/index.js';
import { parseConfigText, parseDuration, parseHostPort } from '../../../gateway/index.js';
import { connectionLimits, openFileLimit } from '../../../gateway/config/listener-limits.js';
import { MINIMAL_CONFIG as MINIMAL, problemsOf } from '../../helpers/config-problems.js';


describe('gateway config', () => {
  it('fills defaults and freezes a minimal config', () => {
    const config = parseConfigText(MINIMAL, '/etc/causeway/a.yaml');
    assert.equal(config.gatewayName, 'gateway');
    assert.deepEqual(config.listen.eastWest, { host: '127.0.0.1', port: 15443 });
    assert.deepEqual(config.listen.admin, { host: '127.0.0.1', port: 15000 });
    assert.equal(config.gatewaySvidTtlSeconds, 86400);
    assert.equal(config.outbound.identifyCallersBySourceAddress, false);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.listen.eastWest));
  });

  it('resolves a relative dataDir against the config file\'s directory', () => {
    const config = parseConfigText(MINIMAL.replace('/var/lib/causeway', './data'), '/etc/causeway/a.yaml');
    assert.equal(config.dataDir, '/etc/causeway/data');
  });

  it('accepts a full config with services and access rules', () => {
    const config = parseConfigText(`${MINIMAL}
gatewaySvidTtl: 2h
listen: { eastWest: "0.0.0.0:15443", federation: "[::1]:0" }
advertise: { eastWest: "10.1.2.3:15443" }
services:
  - name: echo
    namespace: demo
    export: true
    ports: [{ name: http, port: 8080 }]
    endpoints:
      - { address: 10.0.0.7, ports: { http: 9000 }, identity: "spiffe://cluster-a.example.org/ns/demo/sa/echo" }
access:
  - { to: echo.demo, from: ["spiffe://cluster-b.example.org/ns/demo/*", anonymous] }
`);
    assert.equal(config.gatewaySvidTtlSeconds, 7200);
    assert.deepEqual(config.listen.federation, { host: '::1', port: 0 });
    assert.equal(config.services[0]?.endpoints[0]?.address, '10.0.0.7');
    assert.equal(config.services[0]?.exported, true);
    assert.deepEqual(config.access[0]?.from, ['spiffe://cluster-b.example.org/ns/demo/*', 'anonymous']);
  });

  it('collects every problem, each named by its path', () => {
    const problems = problemsOf(`
cluster: Cluster_A
trustDomain: "spiffe://nope"
gatewayNmae: gw
listen: { eastWest: "gw.example.org:15443", admin: "127.0.0.1:99999" }
logLevel: loud
gatewaySvidTtl: 5x
`);
    const expected = [
      /^cluster: "Cluster_A" is not a DNS-1123 label/,
      /^trustDomain: "spiffe:\/\/nope" is not a valid SPIFFE trust domain/,
      /^gatewayNmae: unknown field \(did you mean "gatewayName"\?\)/,
      /^dataDir: is required/,
      /^listen\.eastWest: "gw\.example\.org" is not an IP address/,
      /^listen\.admin: port 99999 is out of range/,
      /^logLevel: "loud" is not one of/,
      /^gatewaySvidTtl: must be a duration/,
    ];
    for (const pattern of expected) assert.ok(problems.some((p) => pattern.test(p)), `no problem matching ${pattern}: ${problems.join(' | ')}`);
  });

  it('reads the trust and issuance sections, resolving files against the config file', () => {
    const config = parseConfigText(`${MINIMAL}
trust:
  publishWindow: 10m
  bundleRefreshHint: 1m
  workloadSvidTtl: 30m
  intermediate: { cert: ca/tls.crt, key: ca/tls.key, roots: /etc/org/root.pem }
issuance:
  rateLimit: { perSecond: 2, burst: 5 }
  kubernetes: { issuer: https://kubernetes.default.svc, audience: causeway, jwksFile: jwks.json }
listen: { identity: "127.0.0.1:0" }
`, '/etc/causeway/gw.yaml');
    assert.equal(config.trust.publishWindowSeconds, 600);
    assert.equal(config.trust.bundleRefreshHintSeconds, 60);
    assert.equal(config.trust.workloadSvidTtlSeconds, 1800);
    assert.equal(config.trust.maxWorkloadSvidTtlSeconds, 86400);
    assert.deepEqual(config.trust.intermediate, {
      kind: 'files', files: { certFile: '/etc/causeway/ca/tls.crt', keyFile: '/etc/causeway/ca/tls.key', rootsFile: '/etc/org/root.pem' },
    });
    const fromSecret = parseConfigText(`${MINIMAL}trust: { intermediate: { secret: { namespace: causeway, name: ca-us-east } } }\n`, '/etc/causeway/gw.yaml');
    assert.deepEqual(fromSecret.trust.intermediate, { kind: 'secret', secret: { namespace: 'causeway', name: 'ca-us-east' } });
    assert.deepEqual(config.issuance.rateLimit, { perSecond: 2, burst: 5 });
    assert.equal(config.issuance.kubernetes?.jwksFile, '/etc/causeway/jwks.json');
    assert.equal(config.issuance.kubernetes?.maxTokenTtlSeconds, 86400);
    assert.deepEqual(config.listen.identity, { host: '127.0.0.1', port: 0 });
    // Without jwksFile the keys come from the API server: in-cluster, or through kubeconfig.
    const fromApi = parseConfigText(`${MINIMAL}issuance: { kubernetes: { issuer: https://k8s, audience: causeway, kubeconfig: kube/config } }\n`, '/etc/causeway/gw.yaml');
    assert.deepEqual(fromApi.issuance.kubernetes, { issuer: 'https://k8s', audience: 'causeway', kubeconfig: '/etc/causeway/kube/config', maxTokenTtlSeconds: 86400 });
    const inCluster = parseConfigText(`${MINIMAL}issuance: { kubernetes: { issuer: https://k8s, audience: causeway } }\n`, '/etc/causeway/gw.yaml');
    assert.equal(inCluster.issuance.kubernetes?.jwksFile, undefined);
    assert.equal(inCluster.issuance.kubernetes?.kubeconfig, undefined);
  });

  it('refuses bad trust and issuance settings, each named', () => {
    const problems = problemsOf(`${MINIMAL}
trust:
  publishWindow: 1m
  bundleRefreshHint: 5m
  workloadSvidTtl: 2d
  maxWorkloadSvidTtl: 1d
  intermediate: { cert: a.crt, roots: r.pem, extra: 1 }
  rotate: yes
issuance:
  rateLimit: { perSecond: 0, burst: 1.5 }
  kubernetes: { audience: causeway }
`);
    const expected = [
      /^trust\.publishWindow: must be at least trust\.bundleRefreshHint/,
      /^trust\.workloadSvidTtl: must not exceed trust\.maxWorkloadSvidTtl/,
      /^trust\.intermediate\.key: is required/,
      /^trust\.intermediate\.extra: unknown field/,
      /^trust\.rotate: unknown field/,
      /^issuance\.rateLimit\.perSecond: must be a number above 0/,
      /^issuance\.rateLimit\.burst: must be a whole number/,
      /^issuance\.kubernetes\.issuer: is required/,
    ];
    for (const pattern of expected) assert.ok(problems.some((p) => pattern.test(p)), `no problem matching ${pattern}: ${problems.join(' | ')}`);
    const both = problemsOf(`${MINIMAL}issuance: { kubernetes: { issuer: https://k8s, audience: causeway, jwksFile: j.json, kubeconfig: k, jwks: x } }\n`);
    for (const pattern of [/^issuance\.kubernetes\.kubeconfig: reads the keys from the API server, which jwksFile replaces/, /^issuance\.kubernetes\.jwks: unknown field/]) {
      assert.ok(both.some((p) => pattern.test(p)), `no problem matching ${pattern}: ${both.join(' | ')}`);
    }
    const secret = problemsOf(`${MINIMAL}trust: { intermediate: { secret: { namespace: Bad_NS, key: x }, cert: a.crt } }\n`);
    for (const pattern of [/^trust\.intermediate\.secret\.namespace: must be a Kubernetes object name/, /^trust\.intermediate\.secret\.name: must be/,
      /^trust\.intermediate\.secret\.key: unknown field/, /^trust\.intermediate\.cert: unknown field/]) {
      assert.ok(secret.some((p) => pattern.test(p)), `no problem matching ${pattern}: ${secret.join(' | ')}`);
    }
  });

  it('bounds gatewaySvidTtl to 2m..30d', () => {
    for (const ttl of ['1m', '31d', '100000d']) {
      assert.ok(problemsOf(`${MINIMAL}gatewaySvidTtl: ${ttl}\n`).some((p) => p.startsWith('gatewaySvidTtl: must be a duration from 2m to 30d')), ttl);
    }
  });

  it('refuses a wildcard listen address without an advertise address', () => {
    const problems = problemsOf(`${MINIMAL}listen: { federation: "0.0.0.0:15012" }\n`);
    assert.ok(problems.some((p) => p.startsWith('advertise.federation: is required when listen.federation is the wildcard')));
  });

  it('refuses bad services and access rules with paths', () => {
    const problems = problemsOf(`${MINIMAL}
services:
  - name: db
    namespace: demo
    ports: [{ name: tcp, port: 5432, protocol: tcp }]
    endpoints: [{ address: db.internal, ports: { tcp: 5432 }, identity: "spiffe://cluster-a.example.org/x" }]
  - name: echo
    namespace: demo
    ports: [{ name: http, port: 8080 }]
    endpoints: []
  - name: echo
    namespace: demo
    ports: [{ name: http, port: 8080 }]
    endpoints: []
access:
  - { to: echo.demo, from: ["https://not-spiffe/x"] }
  - { to: "Not A Key", from: [] }
`);
    assert.ok(problems.some((p) => p.startsWith('services[0].endpoints[0].address')), problems.join(' | '));
    assert.ok(problems.some((p) => p === 'services[2]: echo.demo is declared twice'), problems.join(' | '));
    assert.ok(problems.some((p) => p.startsWith('access[0].from[0]: "https://not-spiffe/x" is not a SPIFFE ID')), problems.join(' | '));
    assert.ok(problems.some((p) => p.startsWith('access[1].to:')), problems.join(' | '));
    assert.ok(problems.some((p) => p.startsWith('access[1].from:')), problems.join(' | '));
  });

  it('refuses YAML that does not parse, and a document that is not a mapping', () => {
    assert.throws(() => parseConfigText('cluster: [unclosed', 'x.yaml'), (err) => isCausewayError(err, 'CW_CONFIG_INVALID') && /not valid YAML/.test(err.message));
    assert.throws(() => parseConfigText('- a\n- b', 'x.yaml'), (err) => isCausewayError(err, 'CW_CONFIG_INVALID') && /must be a mapping/.test(err.message));
    assert.throws(() => parseConfigText('a: 1\na: 2', 'x.yaml'), (err) => isCausewayError(err, 'CW_CONFIG_INVALID'));
  });

  it('parses durations and host:port strictly', () => {
    assert.equal(parseDuration('90s'), 90);
    assert.equal(parseDuration('15m'), 900);
    assert.equal(parseDuration('7d'), 604800);
    assert.equal(parseDuration('0s'), undefined);
    assert.equal(parseDuration('1.5h'), undefined);
    assert.deepEqual(parseHostPort('[::1]:443'), { host: '::1', port: 443 });
    assert.match(String(parseHostPort('localhost:80')), /not an IP address/);
    assert.match(String(parseHostPort('127.0.0.1')), /not host:port/);
  });
});

describe('gateway config: limits', () => {
  const base = 'cluster: a\ntrustDomain: a.example.org\ndataDir: /tmp/x\n';

  it('has a default for every limit, and reads durations, sizes and counts', () => {
    const defaults = parseConfigText(base).limits;
    assert.equal(defaults.handshakeTimeoutMs, 10_000);
    assert.equal(defaults.maxConnections, undefined);
    assert.equal(defaults.eastWest.maxConcurrentStreams, 1000);
    assert.equal(defaults.maxHeaderListSize, 65536);
    assert.equal(defaults.federation.anonymousMaxMessageBytes, 65536);
    assert.equal(defaults.federation.maxMessageBytes, 64 * 1024 * 1024);
    const set = parseConfigText(`${base}limits:
  handshakeTimeout: 500ms
  maxConnections: 3000
  maxHeaderListSize: 32KiB
  eastWest: { maxConcurrentStreams: 200 }
  federation: { anonymousMaxMessageSize: 128KiB, idleTimeout: 2m, heartbeatInterval: 1s, deadAfter: 4s }
`).limits;
    assert.equal(set.handshakeTimeoutMs, 500);
    assert.equal(set.maxConnections, 3000);
    assert.equal(set.maxHeaderListSize, 32 * 1024);
    assert.equal(set.eastWest.maxConcurrentStreams, 200);
    assert.equal(set.federation.anonymousMaxMessageBytes, 128 * 1024);
    assert.equal(set.federation.idleTimeoutMs, 120_000);
  });

  it('names every bad limit with its path', () => {
    assert.throws(() => parseConfigText(`${base}limits:
  handshakeTimeout: soon
  maxConnections: many
  maxPendingHandshakesPerSource: 1000
  eastWest: { maxConcurrentStreams: 0, streams: 1 }
  federation: { heartbeatInterval: 5s, deadAfter: 6s }
`), (err: CausewayError) => {
      const text = err.details.join('\n');
      for (const at of ['limits.handshakeTimeout', 'limits.maxConnections', 'limits.maxPendingHandshakesPerSource', 'limits.eastWest.maxConcurrentStreams', 'limits.eastWest.streams', 'limits.federation.deadAfter']) {
        assert.match(text, new RegExp(at.replace(/\./g, '\\.')), `${at} in ${text}`);
      }
      return true;
    });
  });

  it('derives the per-listener connection cap from the open-file limit', () => {
    const limits = parseConfigText(base).limits;
    assert.equal(connectionLimits(limits, 1024).maxConnections, 192);
    assert.equal(connectionLimits({ ...limits, maxConnections: 50 }, 1024).maxConnections, 50);
    assert.equal(openFileLimit(() => 'Limit  Soft Limit  Hard Limit  Units\nMax open files            20000                20000                files\n'), 20000);
    assert.equal(openFileLimit(() => { throw new Error('no /proc'); }), 1024);
  });
});

describe('gateway config: dataPlane', () => {
  const base = 'cluster: a\ntrustDomain: a.example.org\ndataDir: /tmp/x\n';

  it('has a default for every setting, and reads durations and sizes', () => {
    const defaults = parseConfigText(base).dataPlane;
    assert.equal(defaults.pool.idleTimeoutMs, 4000);
    assert.equal(defaults.streamWindowBytes, 1 << 20);
    assert.equal(defaults.sessionWindowBytes, 16 << 20);
    const set = parseConfigText(`${base}dataPlane:
  idleTimeout: 2s
  maxHeadSize: 16KiB
  streamWindow: 4MiB
  pool: { maxPerKey: 8, idleTimeout: 1s, queueTimeout: 250ms }
`).dataPlane;
    assert.equal(set.idleTimeoutMs, 2000);
    assert.equal(set.maxHeadBytes, 16 * 1024);
    assert.equal(set.streamWindowBytes, 4 << 20);
    assert.deepEqual(set.pool, { maxPerKey: 8, idleTimeoutMs: 1000, maxLifetimeMs: 300_000, queueTimeoutMs: 250 });
  });

  it('names every bad setting with its path', () => {
    assert.throws(() => parseConfigText(`${base}dataPlane:
  idleTimeout: never
  streamWindow: 4GiB
  windows: 1
  streamIdleTimeout: 1s
  pool: { maxPerKey: 0, idleTimeout: 2s, size: 3 }
`), (err: CausewayError) => {
      const text = err.details.join('\n');
      for (const at of ['dataPlane.idleTimeout', 'dataPlane.streamWindow', 'dataPlane.windows', 'dataPlane.pool.maxPerKey', 'dataPlane.pool.size', 'dataPlane.pool.idleTimeout']) {
        assert.match(text, new RegExp(at.replace(/\./g, '\\.')), `${at} in ${text}`);
      }
      return true;
    });
  });
});

describe('gateway config: dataPlane.tunnel', () => {
  const base = 'cluster: a\ntrustDomain: a.example.org\ndataDir: /tmp/x\n';

  it('defaults to PING every 500 ms, 1 s to answer, and the CONNECT answer within connectTimeout + 1 s', () => {
    assert.deepEqual(parseConfigText(base).dataPlane.tunnel, { pingIntervalMs: 250, pingTimeoutMs: 750, responseTimeoutMs: 6000 });
    assert.equal(parseConfigText(`${base}dataPlane: { connectTimeout: 2s }\n`).dataPlane.tunnel.responseTimeoutMs, 3000);
    assert.deepEqual(parseConfigText(`${base}dataPlane:
  tunnel: { pingInterval: 250ms, pingTimeout: 2s, responseTimeout: 4s }
`).dataPlane.tunnel, { pingIntervalMs: 250, pingTimeoutMs: 2000, responseTimeoutMs: 4000 });
  });

  it('refuses bad values, each with its path and the accepted range', () => {
    assert.deepEqual(problemsOf(`${base}dataPlane:
  tunnel: { pingInterval: 10ms, pingTimeout: forever, responseTimeout: 0, pingIntervall: 1s }
`), [
      'dataPlane.tunnel.pingIntervall: unknown field (did you mean "pingInterval"?)',
      'dataPlane.tunnel.pingInterval: must be a duration ("500ms", "10s", "5m"; a number is seconds) in ms from 100 to 60000',
      'dataPlane.tunnel.pingTimeout: must be a duration ("500ms", "10s", "5m"; a number is seconds) in ms from 100 to 60000',
      'dataPlane.tunnel.responseTimeout: must be a duration ("500ms", "10s", "5m"; a number is seconds) in ms from 100 to 600000',
    ]);
    assert.deepEqual(problemsOf(`${base}dataPlane: { tunnel: 5 }\n`), ['dataPlane.tunnel: must be a mapping of pingInterval, pingTimeout, responseTimeout']);
  });
});

describe('gateway config: policy', () => {
  it('defaults the policy directory to <dataDir>/policies and resolves a relative one against the config file', () => {
    assert.equal(parseConfigText(MINIMAL, '/etc/causeway/a.yaml').policy.directory, '/var/lib/causeway/policies');
    assert.equal(parseConfigText(`${MINIMAL}policy: { directory: ./policies.d }\n`, '/etc/causeway/a.yaml').policy.directory, '/etc/causeway/policies.d');
    assert.equal(parseConfigText(`${MINIMAL}policy: {}\n`, '/etc/causeway/a.yaml').policy.directory, '/var/lib/causeway/policies');
  });

  it('names a bad policy section', () => {
    assert.deepEqual(problemsOf(`${MINIMAL}policy: { directory: 7, directry: x }\n`), [
      'policy.directry: unknown field (did you mean "directory"?)',
      'policy.directory: must be a non-empty path (default <dataDir>/policies)',
    ]);
    assert.deepEqual(problemsOf(`${MINIMAL}policy: /etc/policies\n`), ['policy: must be a mapping with directory']);
  });
});

describe('config sources', () => {
  it('reads a Consul datacenter with its defaults', () => {
    const config = parseConfigText(`${MINIMAL}sources:\n  consul:\n    - { name: dc1, address: "10.0.0.5:8500", tokenFile: consul.token }\n`);
    const [consul] = config.sources.consul;
    assert.deepEqual({ ...consul, tokenFile: consul?.tokenFile?.endsWith('consul.token') }, {
      name: 'dc1', address: { host: '10.0.0.5', port: 8500 }, tls: false,
      tlsFiles: { caFile: undefined, certFile: undefined, keyFile: undefined, serverName: undefined }, tokenFile: true, datacenter: undefined, namespace: 'default',
      port: 80, exported: false, identity: `spiffe://${config.trustDomain}/ns/{namespace}/sa/{service}`, waitMs: 30_000, concurrency: 8, resyncMs: 300_000,
    });
    assert.deepEqual(parseConfigText(MINIMAL).sources, { consul: [], kubernetes: undefined });
  });

  it('names every problem of a bad Consul entry', () => {
    assert.deepEqual(problemsOf(`${MINIMAL}sources:\n  consul:\n    - { name: Dc_1, address: "consul.local:8500", namespace: Bad_NS, identity: "spiffe://other.example/x", port: 0, wait: 1ms, tls: yes, adress: x }\n    - { name: dc2, address: "10.0.0.5:8500" }\n    - { name: dc2, address: "10.0.0.6:8500" }\n`), [
      'sources.consul[0].adress: unknown field (did you mean "address"?)',
      'sources.consul[0].name: "Dc_1" must be lower-case letters, digits and "-"',
      'sources.consul[0].address: "consul.local" is not an IP address (names are never resolved)',
      'sources.consul[0].namespace: "Bad_NS" is not a DNS-1123 label',
      `sources.consul[0].identity: must be a SPIFFE ID of this gateway's trust domain (spiffe://${parseConfigText(MINIMAL).trustDomain}/...), with {service} and {namespace} placeholders`,
      'sources.consul[0].tls: must be true, false or a mapping of caFile, certFile, keyFile, serverName',
      'sources.consul[0].port: must be a whole number from 1 to 65535',
      'sources.consul[0].wait: must be a duration ("500ms", "10s", "5m"; a number is seconds) in ms from 1000 to 600000',
      'sources.consul[2].name: "dc2" is used twice',
    ]);
    assert.deepEqual(problemsOf(`${MINIMAL}sources: { consul: yes }\n`), ['sources.consul: must be a list of Consul datacenters']);
    assert.deepEqual(problemsOf(`${MINIMAL}sources: { kubernetes: { kubeconfg: x, serviceExports: yes, name: K8s } }\n`), [
      'sources.kubernetes.kubeconfg: unknown field (did you mean "kubeconfig"?)',
      'sources.kubernetes.name: must be lower-case letters, digits and "-"',
      'sources.kubernetes.serviceExports: must be true or false',
    ]);
    assert.deepEqual(problemsOf(`${MINIMAL}sources: { kubernetes: { serviceImports: 1 } }\n`), ['sources.kubernetes.serviceImports: must be true or false']);
    assert.deepEqual(parseConfigText(`${MINIMAL}sources: { kubernetes: { kubeconfig: kube/config } }\n`, '/etc/causeway/gw.yaml').sources.kubernetes,
      { name: 'kubernetes', kubeconfig: '/etc/causeway/kube/config', serviceExports: true, serviceImports: false });
  });
});
