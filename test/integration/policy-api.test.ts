import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { silentLogger } from '../../registry/index.js';
import { Gateway, parseConfigText } from '../../gateway/index.js';
import { FIXTURES, makeTempDir } from '../helpers/paths.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { waitFor } from '../helpers/wait-for.js';

/** Two documents: the class dev, and payments.prod's FailoverPolicy that routes it. */
const CLASSES = readFileSync(path.join(FIXTURES, 'policies', 'dev-off-prod.yaml'), 'utf8');

const BROKEN = `apiVersion: causeway.dev/v1alpha1
kind: AccessPolicy
metadata: { name: broken }
spec:
  rules:
    - { form: ["spiffe://x/a*b"], to: [payments.prod] }
    - { from: ["http://x", "class:qa"], to: ["payments"] }
---
apiVersion: causeway.dev/v1
kind: TrafficSplit
metadata: { name: web }
spec: { service: web.shop, backends: [{ cluster: a, weight: 50 }] }
`;

describe('policy resources through the admin API and the CLI', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let gateway: Gateway;
  let base = '';
  let token = '';
  let configFile = '';
  let policyDir = '';
  let target: string[] = [];

  const config = (access: string): string => `
cluster: cluster-a
trustDomain: cluster-a.example.org
dataDir: ${path.join(tmp.dir, 'data')}
listen: { eastWest: "127.0.0.1:0", federation: "127.0.0.1:0", outbound: "127.0.0.1:0", admin: "127.0.0.1:0", identity: "127.0.0.1:0" }
policy: { directory: ./policies }
${access}`;

  const cli = (...args: string[]): Promise<CliResult> => runCli([...args, ...target]);
  const policies = async (): Promise<Record<string, any>> => (await fetch(`${base}/v1/policies`)).json() as Promise<Record<string, any>>;
  const snapshot = async (): Promise<Record<string, string>> => {
    const files: Record<string, string> = {};
    for (const name of await readdir(policyDir)) files[name] = await readFile(path.join(policyDir, name), 'utf8');
    return files;
  };

  before(async () => {
    tmp = await makeTempDir('policy-api');
    configFile = path.join(tmp.dir, 'gateway.yaml');
    policyDir = path.join(tmp.dir, 'policies');
    await writeFile(configFile, config(''));
    gateway = await Gateway.start(parseConfigText(await readFile(configFile, 'utf8'), configFile), { logger: silentLogger(), configFile });
    base = `http://${gateway.listeners.admin}`;
    token = (await readFile(path.join(tmp.dir, 'data', 'admin.token'), 'utf8')).trim();
    target = ['--admin', gateway.listeners.admin, '--token-file', path.join(tmp.dir, 'data', 'admin.token')];
  });

  after(async () => {
    await gateway?.close();
    await tmp?.remove();
  });

  it('starts with an empty set in a new policy directory, shown in /v1/status and causeway status', async () => {
    assert.deepEqual(await readdir(policyDir), []);
    const answer = await policies();
    assert.equal(answer.version, 0);
    assert.deepEqual(answer.documents, []);
    assert.equal(answer.directory, policyDir);
    const status = (await (await fetch(`${base}/v1/status`)).json()) as Record<string, any>;
    assert.equal(status.policies.version, 0);
    assert.equal(status.policies.documents, 0);
    const printed = await cli('status');
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /^policies {2}version 0, 0 documents$/m);
  });

  it('refuses apply and delete without the admin token (401), changing nothing', async () => {
    const post = await fetch(`${base}/v1/policies`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: CLASSES });
    assert.equal(post.status, 401);
    assert.equal(((await post.json()) as { error: { code: string } }).error.code, 'CW_ADMIN_UNAUTHORIZED');
    const del = await fetch(`${base}/v1/policies/AccessPolicy/classes`, { method: 'DELETE', headers: { authorization: 'Bearer wrong' } });
    assert.equal(del.status, 401);
    const noToken = await runCli(['policy', 'apply', '-f', '-', '--admin', gateway.listeners.admin], { input: CLASSES, env: { ...process.env, CAUSEWAY_ADMIN_TOKEN: '' } });
    assert.equal(noToken.code, 1, noToken.stderr);
    assert.match(noToken.stderr, /CW_ADMIN_UNAUTHORIZED/);
    assert.deepEqual(await readdir(policyDir), []);
    assert.equal((await policies()).version, 0);
  });

  it('applies a file with causeway policy apply: each document its own file, a new version', async () => {
    const file = path.join(tmp.dir, 'payments.yaml');
    await writeFile(file, CLASSES);
    const result = await cli('policy', 'apply', '-f', file);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, [
      'AccessPolicy/classes created (accesspolicy-classes.yaml)',
      'FailoverPolicy/payments created (failoverpolicy-payments.yaml)',
      'policy set version 1', '',
    ].join('\n'));
    assert.deepEqual((await readdir(policyDir)).sort(), ['accesspolicy-classes.yaml', 'failoverpolicy-payments.yaml']);
    assert.equal(gateway.policies.current().failover.get('payments.prod')?.minHealthy.toString(), { count: 2 }.toString());
    // The same file again changes nothing, and says so.
    const again = await cli('policy', 'apply', '-f', file);
    assert.match(again.stdout, /AccessPolicy\/classes unchanged[\s\S]*policy set version 1/);
  });

  it('lists the set with causeway policy get: table, one kind, one document, JSON and YAML', async () => {
    const listed = await cli('policy', 'get');
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^policy set version 1, in force since /);
    assert.match(listed.stdout, /^KIND +NAME +ORIGIN +SUMMARY$/m);
    assert.match(listed.stdout, /^AccessPolicy +classes +accesspolicy-classes\.yaml +0 rules; classes dev$/m);
    assert.match(listed.stdout, /^FailoverPolicy +payments +failoverpolicy-payments\.yaml +payments\.prod: then region="eu-west-1"; minHealthy 2$/m);

    const failover = await cli('policy', 'get', 'failoverpolicies');
    assert.doesNotMatch(failover.stdout, /AccessPolicy/);
    assert.match(failover.stdout, /FailoverPolicy +payments/);

    const json = JSON.parse((await cli('policy', 'get', 'cwfp', 'payments', '-o', 'json')).stdout) as Record<string, any>;
    assert.equal(json.policy.origin, 'failoverpolicy-payments.yaml');
    assert.equal(json.policy.document.spec.minHealthy, 2);

    // -o yaml prints the documents as written, ready to apply again.
    const yaml = await cli('policy', 'get', '-o', 'yaml');
    const docs = parseAllDocuments(yaml.stdout).map((d) => d.toJS() as Record<string, any>);
    assert.deepEqual(docs.map((d) => `${d.kind}/${d.metadata.name}`), ['AccessPolicy/classes', 'FailoverPolicy/payments']);
    const reapplied = await runCli(['policy', 'apply', '-f', '-', ...target], { input: yaml.stdout });
    assert.match(reapplied.stdout, /policy set version 1/);

    const missing = await cli('policy', 'get', 'AccessPolicy', 'nobody');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /CW_POLICY_UNKNOWN: no AccessPolicy\/nobody is in force/);
    const badKind = await cli('policy', 'get', 'VirtualService');
    assert.equal(badKind.code, 2);
    assert.match(badKind.stderr, /CW_USAGE: "VirtualService" is not a policy kind/);
  });

  it('refuses an invalid file with every problem on its own line; files and set untouched', async () => {
    const before = await snapshot();
    const file = path.join(tmp.dir, 'broken.yaml');
    await writeFile(file, BROKEN);
    const result = await cli('policy', 'apply', '-f', file);
    assert.equal(result.code, 2, result.stderr);
    assert.deepEqual(result.stderr.trimEnd().split('\n'), [
      'broken.yaml AccessPolicy/broken spec.rules[0].from: is required',
      'broken.yaml AccessPolicy/broken spec.rules[0].form: unknown field (did you mean "from"?)',
      'broken.yaml AccessPolicy/broken spec.rules[1].from[0]: "http://x" is not anonymous, class:<name> or a spiffe:// ID or pattern',
      'broken.yaml AccessPolicy/broken spec.rules[1].to[0]: "payments": expected *, *.<namespace> or <name>.<namespace>',
      'broken.yaml TrafficSplit/web apiVersion: "causeway.dev/v1" is not served for TrafficSplit; expected causeway.dev/v1alpha1 (or SMI split.smi-spec.io/v1alpha2, split.smi-spec.io/v1alpha3, split.smi-spec.io/v1alpha4)',
      'causeway: error CW_POLICY_INVALID: policy set refused (5 problems); nothing changed',
    ]);
    assert.deepEqual(await snapshot(), before);
    const answer = await policies();
    assert.equal(answer.version, 1);
    assert.equal(answer.lastRefusal.source, 'api');
    assert.equal(answer.lastRefusal.errors.length, 5);
    assert.deepEqual(answer.lastRefusal.errors[0], { origin: 'broken.yaml', document: 'AccessPolicy/broken', path: 'spec.rules[0].from', message: 'is required' });
    // The table shows the refusal while it is the latest news.
    assert.match((await cli('policy', 'get')).stdout, /last refusal .* \(api\), the set above stayed in force:\n {2}broken\.yaml AccessPolicy\/broken spec\.rules\[0\]\.from: is required/);
    assert.match((await cli('status')).stdout, /^policies {2}version 1, 2 documents; refused .* \(api, 5 problems\): broken\.yaml AccessPolicy\/broken spec\.rules\[0\]\.from: is required$/m);
    // Under -o json the refusal is one JSON error with every line in details.
    const json = await cli('policy', 'apply', '-f', file, '-o', 'json');
    assert.equal(JSON.parse(json.stderr).details.length, 5);
  });

  it('takes multi-document YAML bodies, and refuses a YAML syntax error with its line (422)', async () => {
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/yaml' };
    const ok = await fetch(`${base}/v1/policies`, { method: 'POST', headers: auth, body: CLASSES });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { version: number }).version, 1);
    const bad = await fetch(`${base}/v1/policies`, { method: 'POST', headers: auth, body: `${CLASSES}---\nkind: [AccessPolicy\n` });
    assert.equal(bad.status, 422);
    const error = ((await bad.json()) as { error: { code: string; details: string[] } }).error;
    assert.equal(error.code, 'CW_POLICY_INVALID');
    // A line of the whole body: the unclosed [ is found at the end of the text, after its last line.
    assert.match(error.details[0] ?? '', new RegExp(`^request document 3: not valid YAML at line ${CLASSES.split('\n').length + 2}, column 1: `));
  });

  it('refuses bodies that are not policy documents (400) and unknown kinds (404)', async () => {
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    for (const body of ['{"documents": []}', '{"documents": [{}], "force": true}', '{"docs": []}', '[1]', '{"documents": [{}], "source": ""}']) {
      const response = await fetch(`${base}/v1/policies`, { method: 'POST', headers: auth, body });
      assert.equal(response.status, 400, body);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'CW_BODY_INVALID', body);
    }
    const unknown = await fetch(`${base}/v1/policies/VirtualService`);
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'CW_POLICY_UNKNOWN');
    assert.equal((await fetch(`${base}/v1/policies/AccessPolicy/a/b`)).status, 404);
  });

  it('writes one AccessPolicy with causeway allow, which policy get then shows', async () => {
    const result = await cli('allow', 'spiffe://corp.example/ns/default/sa/scott', '--to', 'payments.prod', '--methods', 'get,POST', '--paths', '/v1/charges');
    assert.equal(result.code, 0, result.stderr);
    const name = 'allow-corp-example-ns-default-sa-scott-to-payments-prod';
    assert.equal(result.stdout, `AccessPolicy/${name} created (accesspolicy-${name}.yaml); policy set version 2\n`);
    const shown = JSON.parse((await cli('policy', 'get', 'AccessPolicy', name, '-o', 'json')).stdout) as Record<string, any>;
    assert.deepEqual(shown.policy.document.spec.rules, [
      { from: ['spiffe://corp.example/ns/default/sa/scott'], to: ['payments.prod'], methods: ['GET', 'POST'], paths: ['/v1/charges'] },
    ]);
    const rule = gateway.policies.current().accessRules.find((r) => r.policy === `AccessPolicy/${name}`);
    assert.equal(rule?.from[0]?.kind, 'id');
    // A bad caller is refused by the gateway, with the reason.
    const bad = await cli('allow', 'scott', '--to', 'payments.prod');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /causeway allow AccessPolicy\/allow-scott-to-payments-prod spec\.rules\[0\]\.from\[0\]: "scott" is not anonymous/);
    assert.equal((await cli('allow', 'spiffe://corp.example/x')).code, 2, '--to is required');
  });

  it('deletes what the API wrote; an operator\'s own file is followed but never rewritten', async () => {
    const name = 'allow-corp-example-ns-default-sa-scott-to-payments-prod';
    const deleted = await cli('policy', 'delete', 'AccessPolicy', name);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, `AccessPolicy/${name} deleted (accesspolicy-${name}.yaml)\npolicy set version 3\n`);
    assert.equal((await cli('policy', 'delete', 'AccessPolicy', name)).code, 2);

    // Deleting the class that the FailoverPolicy routes is refused with the reason.
    const inUse = await cli('policy', 'delete', 'AccessPolicy', 'classes');
    assert.equal(inUse.code, 2);
    assert.match(inUse.stderr, /^failoverpolicy-payments\.yaml FailoverPolicy\/payments spec\.classes\[0\]\.class: class "dev" is not defined/m);

    // An operator writes a file of their own: in force without a restart, but not the API's to change.
    await writeFile(path.join(policyDir, '50-ops.yaml'), 'apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: { name: web, namespace: shop }\nspec: { service: web, backends: [{ service: web-v1, weight: 9 }, { service: web-v2, weight: 1 }] }\n');
    await waitFor('the operator file in force', async () => ((await policies()).documents.some((d: { name: string }) => d.name === 'web') ? true : undefined), 10_000);
    assert.deepEqual(gateway.policies.current().splits.get('web.shop')?.[0]?.backends.map((b) => b.weight), [90, 10]);
    const owned = await cli('policy', 'delete', 'TrafficSplit', 'web');
    assert.equal(owned.code, 2);
    assert.match(owned.stderr, /CW_POLICY_FILE_OWNED: TrafficSplit\/web lives in 50-ops\.yaml, a file the admin API did not write/);
  });

  it('compiles the set again when a config reload changes the access list', async () => {
    const version = (await policies()).version as number;
    await writeFile(configFile, config('access:\n  - { to: payments.prod, from: ["spiffe://partner.example/*"] }\n'));
    const reloaded = await fetch(`${base}/v1/reload`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(reloaded.status, 200, await reloaded.clone().text());
    assert.equal((await policies()).version, version + 1);
    assert.equal(gateway.policies.current().accessRules[0]?.policy, 'config access');
  });
});
