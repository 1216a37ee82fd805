import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { CRD_DIRECTORY, crdFiles, crdKustomization } from '../../../../gateway/policy/crd.js';
import { parseKind } from '../../../../gateway/policy/kind-names.js';
import { FIXTURES, REPO_ROOT } from '../../../helpers/paths.js';

type Node = Record<string, any>;

const committed = (file: string): string => readFileSync(path.join(REPO_ROOT, CRD_DIRECTORY, file), 'utf8');
const schemaOf = (crd: Node): Node => crd.spec.versions[0].schema.openAPIV3Schema as Node;

/**
 * The rules of a Kubernetes structural schema ("Specifying a structural schema",
 * apiextensions.k8s.io/v1) that a generator could break, checked on every node.
 */
function structuralProblems(node: Node, at: string, problems: string[]): void {
  if (node.type === undefined && node['x-kubernetes-int-or-string'] !== true) problems.push(`${at}: no type`);
  if (node.properties !== undefined && node.type !== 'object') problems.push(`${at}: properties without type object`);
  if (node.properties !== undefined && node.additionalProperties !== undefined) problems.push(`${at}: properties and additionalProperties`);
  if (node.type === 'array' && node.items === undefined) problems.push(`${at}: array without items`);
  for (const key of ['patternProperties', '$ref', '$id', '$schema', 'const', 'oneOf', 'allOf', 'not', 'uniqueItems', 'definitions']) {
    if (key in node) problems.push(`${at}: ${key}`);
  }
  if ('anyOf' in node && node['x-kubernetes-int-or-string'] !== true) problems.push(`${at}: anyOf without x-kubernetes-int-or-string`);
  if (node.additionalProperties === false || node.additionalProperties === true) problems.push(`${at}: additionalProperties ${String(node.additionalProperties)}`);
  if (typeof node.format === 'string' && node.format.startsWith('policy-')) problems.push(`${at}: format ${node.format} is the gateway's own`);
  for (const [key, child] of Object.entries((node.properties ?? {}) as Node)) structuralProblems(child as Node, `${at}.${key}`, problems);
  if (node.items !== undefined) structuralProblems(node.items as Node, `${at}[]`, problems);
  if (typeof node.additionalProperties === 'object') structuralProblems(node.additionalProperties as Node, `${at}{}`, problems);
}

describe('policy CRDs', () => {
  it('are committed exactly as `npm run crds` generates them (no drift from schema.ts)', () => {
    const generated = [...crdFiles(), crdKustomization()];
    assert.deepEqual(generated.map((f) => f.file).sort(), readdirSync(path.join(REPO_ROOT, CRD_DIRECTORY)).sort(), 'the CRD directory holds exactly the generated files');
    for (const { file, text } of generated) assert.equal(committed(file), text, `${file} differs from what npm run crds writes; run it and commit`);
  });

  it('parse as CustomResourceDefinitions of group causeway.dev, v1alpha1 served and stored, namespaced', () => {
    const expected = {
      'accesspolicies.causeway.dev.yaml': { kind: 'AccessPolicy', plural: 'accesspolicies', fields: ['rules', 'trafficClasses'] },
      'failoverpolicies.causeway.dev.yaml': {
        kind: 'FailoverPolicy', plural: 'failoverpolicies',
        fields: ['service', 'targets', 'minHealthy', 'failback', 'healthCheck', 'outlierDetection', 'timeout', 'retries', 'classes'],
      },
      'trafficsplits.causeway.dev.yaml': { kind: 'TrafficSplit', plural: 'trafficsplits', fields: ['service', 'classes', 'backends'] },
    };
    for (const [file, want] of Object.entries(expected)) {
      const crd = parse(committed(file)) as Node;
      assert.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
      assert.equal(crd.kind, 'CustomResourceDefinition');
      assert.equal(crd.metadata.name, `${want.plural}.causeway.dev`);
      assert.equal(crd.spec.group, 'causeway.dev');
      assert.equal(crd.spec.scope, 'Namespaced');
      assert.equal(crd.spec.names.kind, want.kind);
      assert.equal(crd.spec.names.plural, want.plural);
      assert.equal(crd.spec.versions.length, 1);
      assert.deepEqual([crd.spec.versions[0].name, crd.spec.versions[0].served, crd.spec.versions[0].storage], ['v1alpha1', true, true]);
      const schema = schemaOf(crd);
      assert.deepEqual(schema.properties.metadata, { type: 'object' });
      assert.deepEqual(Object.keys(schema.properties.spec.properties), want.fields, file);
    }
  });

  it('carry valid structural schemas', () => {
    for (const { file, text } of crdFiles()) {
      const problems: string[] = [];
      structuralProblems(schemaOf(parse(text) as Node), file, problems);
      assert.deepEqual(problems, []);
    }
    const failover = schemaOf(parse(committed('failoverpolicies.causeway.dev.yaml')) as Node).properties.spec.properties;
    assert.equal(failover.minHealthy['x-kubernetes-int-or-string'], true);
    assert.deepEqual(failover.targets.items.properties.labels, {
      type: 'object', description: 'Endpoint labels; every one must match.', additionalProperties: { type: 'string', maxLength: 63 },
    });
    assert.equal(failover.retries.properties.on['x-kubernetes-list-type'], 'set');
  });

  it('accept the documents the gateway accepts (the worked examples)', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validators = new Map(crdFiles().map(({ text }) => {
      const crd = parse(text) as Node;
      return [crd.spec.names.kind as string, ajv.compile(schemaOf(crd))];
    }));
    const docs = parseAllDocuments(readFileSync(path.join(FIXTURES, 'policies', 'dev-off-prod.yaml'), 'utf8')).map((d) => d.toJS() as Node);
    for (const doc of docs) {
      const validate = validators.get(doc.kind as string);
      assert.ok(validate !== undefined && validate(doc), JSON.stringify(validate?.errors));
    }
  });
});

describe('policy kind names', () => {
  it('reads a kind as kubectl would: kind, singular, plural, short name, with or without the group', () => {
    for (const text of ['AccessPolicy', 'accesspolicy', 'accesspolicies', 'cwap', 'accesspolicies.causeway.dev']) assert.equal(parseKind(text), 'AccessPolicy', text);
    assert.equal(parseKind('cwfp'), 'FailoverPolicy');
    assert.equal(parseKind('TrafficSplits'), 'TrafficSplit');
    for (const text of ['ts', 'Access', 'VirtualService', '']) assert.equal(parseKind(text), undefined, text);
  });
});
