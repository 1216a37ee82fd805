import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Catalog, LocalRegistry, admitsPeer, exportedTo, peerLabels, validateDeclaration, validateExportTo, validatePeerLabels,
  validateServiceRecord, type ExportPeer,
} from '../../../registry/index.js';
import { declaration, locality, record } from './fixtures.js';

const peerB: ExportPeer = { name: 'cluster-b', cluster: 'cluster-b', labels: { cloud: 'aws', region: 'eu-west-1' } };
const peerC: ExportPeer = { name: 'c-by-us', cluster: 'cluster-c', labels: { cloud: 'gcp', region: 'us-east1', env: 'prod' } };

function problems(check: (errors: string[]) => unknown): string[] {
  const errors: string[] = [];
  assert.equal(check(errors), undefined, 'an input with problems yields no value');
  return errors;
}

describe('exportTo selectors', () => {
  it('admit by peer name or cluster, or by one label equal to the value; undefined admits all, [] none', () => {
    assert.equal(admitsPeer(undefined, peerB), true);
    assert.equal(admitsPeer([], peerB), false);
    assert.equal(admitsPeer(['cluster-b'], peerB), true);
    assert.equal(admitsPeer(['cluster-b'], peerC), false);
    // A peering added with --name: its local name and its cluster both select it.
    assert.equal(admitsPeer(['c-by-us'], peerC), true);
    assert.equal(admitsPeer(['cluster-c'], peerC), true);
    assert.equal(admitsPeer(['region=eu-west-1'], peerB), true);
    assert.equal(admitsPeer(['region=eu-west-1'], peerC), false);
    assert.equal(admitsPeer(['region=eu-west'], peerB), false, 'values match whole, not by prefix');
    assert.equal(admitsPeer(['cluster-x', 'env=prod'], peerC), true, 'the list is an OR');
    assert.equal(admitsPeer(['env=prod'], peerB), false, 'a label the peer does not have');
    // Inherited properties are no labels.
    assert.equal(admitsPeer(['constructor=x', 'toString=y'], { ...peerB, labels: {} }), false);
  });

  it('exported: false sends to nobody whatever exportTo says', () => {
    assert.equal(exportedTo({ exported: false }, peerB), false);
    assert.equal(exportedTo({ exported: false, exportTo: ['cluster-b'] }, peerB), false);
    assert.equal(exportedTo({ exported: true }, peerB), true);
    assert.equal(exportedTo({ exported: true, exportTo: [] }, peerB), false);
  });

  it('validates every selector with its path, duplicates and the list size', () => {
    const errors = problems((e) => validateExportTo(['cluster-b', 'Cluster_B', 'region=', '=x', 'a b=c', 'k=v w', 'cluster-b', 7], 'services[0].exportTo', e));
    assert.deepEqual(errors, [
      'services[0].exportTo[1]: "Cluster_B" is neither a peer name (a DNS-1123 label such as "cluster-b") nor a label selector key=value',
      'services[0].exportTo[2]: "region=": "" is not a label value (letters, digits, "-", "_", ".", 1 to 63)',
      'services[0].exportTo[3]: "=x": "" is not a label key ([prefix/]name: letters, digits, "-", "_", ".", at most 63)',
      'services[0].exportTo[4]: "a b=c": "a b" is not a label key ([prefix/]name: letters, digits, "-", "_", ".", at most 63)',
      'services[0].exportTo[5]: "k=v w": "v w" is not a label value (letters, digits, "-", "_", ".", 1 to 63)',
      'services[0].exportTo[6]: "cluster-b" is already services[0].exportTo[0]',
      'services[0].exportTo[7]: 7 must be a string',
    ]);
    assert.deepEqual(problems((e) => validateExportTo('cluster-b', 'x', e)), ['x: must be a list of peer names and key=value label selectors (e.g. [cluster-b, "region=eu-west-1"])']);
    assert.match(problems((e) => validateExportTo(Array.from({ length: 65 }, (_, i) => `p${i}`), 'x', e))[0] ?? '', /65 selectors; at most 64/);
    const errors2: string[] = [];
    assert.deepEqual(validateExportTo(['topology.kubernetes.io/region=eu-west-1', 'Env=Prod_1.2', 'b'], 'x', errors2), ['topology.kubernetes.io/region=eu-west-1', 'Env=Prod_1.2', 'b']);
    assert.deepEqual(validateExportTo([], 'x', errors2), []);
    assert.deepEqual(errors2, []);
  });

  it('peer labels: cloud and region from the Hello, then the operator\'s labels, which win; no zone', () => {
    const hello = { cloud: 'aws', region: 'eu-west-1', zone: 'eu-west-1a', cluster: 'cluster-b' };
    const labels = peerLabels(hello, { env: 'prod', region: 'eu-central-1' });
    assert.deepEqual({ ...labels }, { cloud: 'aws', region: 'eu-central-1', env: 'prod' });
    assert.deepEqual({ ...peerLabels(undefined, undefined) }, {});
    assert.deepEqual({ ...peerLabels({ cloud: '', region: 'r' }, {}) }, { region: 'r' });
    assert.deepEqual(problems((e) => validatePeerLabels({ env: 'prod', 'bad key': 'x', tier: '' }, 'labels', e)), [
      'labels: "bad key" is not a label key ([prefix/]name: letters, digits, "-", "_", ".", at most 63)',
      'labels.tier: "" is not a label value (letters, digits, "-", "_", ".", 1 to 63)',
    ]);
    assert.deepEqual(problems((e) => validatePeerLabels(['env=prod'], 'labels', e)), ['labels: must be a map of label names to values']);
  });
});

describe('exportTo in declarations and records', () => {
  const base = {
    name: 'pay', namespace: 'prod', ports: [{ name: 'http', port: 80 }],
    endpoints: [{ address: '10.0.0.1', ports: { http: 8080 }, identity: 'spiffe://east.test/ns/prod/sa/pay' }],
  };
  const defaults = { locality: locality('east') };

  it('a declaration takes exportTo with export: true, and names its problems with their paths', () => {
    const errors: string[] = [];
    assert.deepEqual(validateDeclaration({ ...base, export: true, exportTo: ['cluster-b', 'region=eu-west-1'] }, 'services[0]', errors, defaults)?.exportTo,
      ['cluster-b', 'region=eu-west-1']);
    assert.equal(validateDeclaration({ ...base, export: true }, 'services[0]', errors, defaults)?.exportTo, undefined);
    assert.deepEqual(errors, []);
    assert.deepEqual(problems((e) => validateDeclaration({ ...base, exportTo: ['cluster-b'] }, 'services[1]', e, defaults)),
      ['services[1].exportTo: needs export: true (a service that is not exported goes to no peer)']);
    assert.deepEqual(problems((e) => validateDeclaration({ ...base, export: true, exportTo: ['B'] }, 'services[1]', e, defaults)),
      ['services[1].exportTo[0]: "B" is neither a peer name (a DNS-1123 label such as "cluster-b") nor a label selector key=value']);
    assert.match(problems((e) => validateDeclaration({ ...base, export: true, exportTO: [] }, 's', e, defaults))[0] ?? '', /exportTO: unknown field \(did you mean "exportTo"\?\)/);
  });

  it('a record (restored state) may carry exportTo, validated the same way', () => {
    const errors: string[] = [];
    assert.deepEqual(validateServiceRecord({ ...record('east', 'pay', 1, 1), exportTo: ['cluster-b'] }, 'records[0]', errors)?.exportTo, ['cluster-b']);
    assert.deepEqual(errors, []);
    assert.deepEqual(problems((e) => validateServiceRecord({ ...record('east', 'pay', 1, 1), exportTo: ['x y'] }, 'records[0]', e)),
      ['records[0].exportTo[0]: "x y" is neither a peer name (a DNS-1123 label such as "cluster-b") nor a label selector key=value']);
  });

  it('LocalRegistry: exportTo is the union of the exporting sources\', absent when one exports to all; a change is a new version', () => {
    const catalog = new Catalog({ localCluster: 'east' });
    const registry = new LocalRegistry({ catalog, version: { epoch: 1, seq: 0 } });
    const pay = (exportTo?: string[], exported = true) => ({ ...declaration('pay', 'east', ['10.0.0.1'], exported), ...(exportTo === undefined ? {} : { exportTo }) });
    registry.upsert('config', pay(['region=eu-west-1', 'cluster-b']));
    assert.deepEqual(catalog.get('east', 'pay.prod')?.exportTo, ['cluster-b', 'region=eu-west-1'], 'sorted');
    const first = catalog.get('east', 'pay.prod')?.version.seq;
    registry.upsert('config', pay(['cluster-b', 'region=eu-west-1']));
    assert.equal(catalog.get('east', 'pay.prod')?.version.seq, first, 'the same set in another order is no change');
    registry.upsert('agent', pay(['cluster-c', 'cluster-b']));
    assert.deepEqual(catalog.get('east', 'pay.prod')?.exportTo, ['cluster-b', 'cluster-c', 'region=eu-west-1']);
    // A source that declares without exporting adds no peer.
    registry.upsert('consul', pay(undefined, false));
    assert.deepEqual(catalog.get('east', 'pay.prod')?.exportTo, ['cluster-b', 'cluster-c', 'region=eu-west-1']);
    registry.upsert('agent', pay());
    assert.equal(catalog.get('east', 'pay.prod')?.exportTo, undefined, 'one source exporting to every peer exports to every peer');
    registry.remove('agent', 'pay.prod');
    registry.upsert('config', pay([]));
    const narrowed = catalog.get('east', 'pay.prod');
    assert.deepEqual(narrowed?.exportTo, [], 'exportTo: [] goes to nobody, and says so');
    assert.equal(narrowed?.exported, true);
    // The tombstone of a removed service keeps its export scope: only peers that had it need it.
    registry.remove('consul', 'pay.prod');
    registry.upsert('config', pay(['cluster-b']));
    registry.remove('config', 'pay.prod');
    const tombstone = catalog.get('east', 'pay.prod');
    assert.equal(tombstone?.deleted, true);
    assert.deepEqual(tombstone?.exportTo, ['cluster-b']);
  });
});
