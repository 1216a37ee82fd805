import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateDeclaration, validateEndpoint, validateServicePort, validateServiceRecord } from '../../../registry/index.js';
import { locality, record } from './fixtures.js';

const defaults = { locality: locality('east') };

function goodDeclaration(): Record<string, any> {
  return {
    name: 'pay', namespace: 'prod',
    ports: [{ name: 'http', port: 80 }],
    endpoints: [{ address: '10.0.0.1', ports: { http: 8080 }, identity: 'spiffe://east.test/ns/prod/sa/pay' }],
  };
}

function problemsOf(value: unknown): string[] {
  const errors: string[] = [];
  const result = validateDeclaration(value, 'services[2]', errors, defaults);
  assert.equal(result, undefined, 'an input with problems yields no value');
  return errors;
}

describe('validateDeclaration', () => {
  it('fills defaults: export false, protocol http, kind pod, health healthy, weight 1, locality field by field', () => {
    const input = goodDeclaration();
    input.endpoints[0].locality = { zone: 'z9' };
    const errors: string[] = [];
    const d = validateDeclaration(input, 'services[0]', errors, { locality: locality('east'), kind: 'vm' });
    assert.deepEqual(errors, []);
    assert.deepEqual(d, {
      name: 'pay', namespace: 'prod', exported: false, ports: [{ name: 'http', port: 80, protocol: 'http' }],
      endpoints: [{
        address: '10.0.0.1', ports: { http: 8080 }, locality: { cloud: 'aws', region: 'us-east-1', zone: 'z9', cluster: 'east' },
        kind: 'vm', identity: 'spiffe://east.test/ns/prod/sa/pay', health: 'healthy', weight: 1, labels: {},
      }],
    });
  });

  it('accepts IPv6 endpoint addresses', () => {
    const input = goodDeclaration();
    input.endpoints[0].address = 'fd00::12';
    const errors: string[] = [];
    assert.equal(validateDeclaration(input, 's', errors, defaults)?.endpoints[0]?.address, 'fd00::12');
    assert.deepEqual(errors, []);
  });

  it('refuses host names: we never resolve', () => {
    const input = goodDeclaration();
    input.endpoints[0].address = 'pay.example';
    assert.deepEqual(problemsOf(input), ['services[2].endpoints[0].address: "pay.example" is not an IP address']);
  });

  it('names a missing endpoint port and a port the service does not have', () => {
    const input = goodDeclaration();
    input.endpoints[0].ports = { grpc: 9090 };
    assert.deepEqual(problemsOf(input), [
      'services[2].endpoints[0].ports.http: is missing',
      'services[2].endpoints[0].ports.grpc: the service has no port named "grpc"',
    ]);
  });

  it('names unknown fields with a hint for a near miss', () => {
    const input = goodDeclaration();
    input.endpoint = input.endpoints;
    delete input.endpoints;
    input.exported = true;
    const errors = problemsOf(input);
    assert.ok(errors.includes('services[2].endpoint: unknown field (did you mean "endpoints"?)'), errors.join('\n'));
    assert.ok(errors.includes('services[2].exported: unknown field (did you mean "export"?)'), errors.join('\n'));
  });

  it('collects every problem in one pass, each with its path', () => {
    const errors = problemsOf({
      name: 'Pay', namespace: '', export: 'yes', ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }, { name: 'x', port: 70000, protocol: 'udp' }],
      endpoints: [{ address: '10.0.0.1', ports: { http: 1 }, identity: 'http://x', weight: 0, kind: 'lambda', labels: { a: 1 } }],
    });
    for (const path of [
      'services[2].name:', 'services[2].namespace: "" is not a DNS-1123 label', 'services[2].export:', 'services[2].ports[2].port:', 'services[2].ports[2].protocol:',
      'services[2].ports[1].name: "http" is already services[2].ports[0]', 'services[2].endpoints[0].identity:',
      'services[2].endpoints[0].weight:', 'services[2].endpoints[0].kind:', 'services[2].endpoints[0].labels.a:',
    ]) assert.ok(errors.some((e) => e.startsWith(path)), `no problem for ${path} in:\n${errors.join('\n')}`);
  });

  it('refuses a locality naming another cluster, duplicate endpoints and an empty port list', () => {
    const input = goodDeclaration();
    input.endpoints[0].locality = { cluster: 'west' };
    input.endpoints.push({ ...input.endpoints[0], locality: undefined });
    input.ports = [];
    const errors = problemsOf(input);
    assert.ok(errors.includes('services[2].ports: needs at least one port'), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('services[2].endpoints[0].locality.cluster: "west" differs')), errors.join('\n'));
  });

  it('refuses non-objects without throwing', () => {
    assert.deepEqual(problemsOf('pay'), ['services[2]: must be an object']);
    assert.deepEqual(problemsOf(undefined), ['services[2]: is missing']);
  });
});

describe('validateEndpoint and validateServicePort', () => {
  it('without defaults every endpoint field is required', () => {
    const errors: string[] = [];
    assert.equal(validateEndpoint({ address: '10.0.0.1', ports: {}, identity: 'spiffe://a/b' }, 'e', errors), undefined);
    for (const field of ['locality', 'kind', 'health', 'weight', 'labels']) assert.ok(errors.includes(`e.${field}: is missing`), errors.join('\n'));
  });

  it('a v6 zone index is not an address', () => {
    const errors: string[] = [];
    validateEndpoint({ address: 'fe80::1%eth0' }, 'e', errors, defaults);
    assert.ok(errors.includes('e.address: "fe80::1%eth0" is not an IP address'));
  });

  it('service ports', () => {
    const errors: string[] = [];
    assert.deepEqual(validateServicePort({ name: 'db', port: 5432, protocol: 'tcp' }, 'p', errors), { name: 'db', port: 5432, protocol: 'tcp' });
    assert.equal(validateServicePort({ name: 'db', port: 0 }, 'p', errors), undefined);
    assert.deepEqual(errors, ['p.port: 0 must be an integer from 1 to 65535']);
  });
});

describe('validateServiceRecord', () => {
  it('accepts version counters as numbers or decimal strings and returns numbers', () => {
    const input = { ...record('west', 'pay', 1, 2), version: { origin: 'west', epoch: '1700000000000', seq: '42' } };
    const errors: string[] = [];
    const out = validateServiceRecord(input, 'records[0]', errors);
    assert.deepEqual(errors, []);
    assert.deepEqual(out?.version, { origin: 'west', epoch: 1700000000000, seq: 42 });
  });

  it('refuses negative, fractional and unsafe counters, a foreign version origin, and a tombstone with endpoints', () => {
    const errors: string[] = [];
    const bad = { ...record('west', 'pay', 1, 2), version: { origin: 'east', epoch: -1, seq: '9007199254740993' }, deleted: true };
    assert.equal(validateServiceRecord(bad, 'records[3]', errors), undefined);
    assert.ok(errors.includes('records[3].version.epoch: -1 is not a non-negative integer below 2^53'), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('records[3].version.seq:')), errors.join('\n'));
    assert.ok(errors.includes('records[3].version.origin: "east" differs from the record\'s origin "west"'), errors.join('\n'));
    assert.ok(errors.includes('records[3].endpoints: a deleted record carries no endpoints'), errors.join('\n'));
    const errors2: string[] = [];
    validateServiceRecord({ ...record('west', 'pay', 1, 2), version: { origin: 'west', epoch: 1.5, seq: 1 } }, 'r', errors2);
    assert.deepEqual(errors2, ['r.version.epoch: 1.5 is not a non-negative integer below 2^53']);
  });

  it('a record\'s endpoint may serve a subset of the ports (merged sources) but not a port the service lacks', () => {
    const input = JSON.parse(JSON.stringify(record('west', 'pay', 1, 1)));
    input.ports.push({ name: 'grpc', port: 90, protocol: 'tcp' });
    const errors: string[] = [];
    assert.notEqual(validateServiceRecord(input, 'r', errors), undefined);
    input.endpoints[0].ports = { http: 1, admin: 2 };
    assert.equal(validateServiceRecord(input, 'r', errors), undefined);
    assert.deepEqual(errors, ['r.endpoints[0].ports.admin: the service has no port named "admin"']);
  });

  it('a "__proto__" label stays an ordinary label', () => {
    const input = JSON.parse(JSON.stringify(record('west', 'pay', 1, 1)));
    input.endpoints[0].labels = JSON.parse('{"__proto__": "x", "version": "v1"}');
    const errors: string[] = [];
    const out = validateServiceRecord(input, 'r', errors);
    assert.deepEqual(errors, []);
    const labels = out?.endpoints[0]?.labels ?? {};
    assert.equal(Object.getPrototypeOf(labels), Object.prototype);
    assert.deepEqual(Object.keys(labels).sort(), ['__proto__', 'version']);
  });
});
