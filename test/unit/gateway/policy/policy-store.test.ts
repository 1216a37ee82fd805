import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FileStore, isCausewayError, silentLogger } from '../../../../registry/index.js';
import { PolicyStore } from '../../../../gateway/policy/policy-store.js';
import type { PolicySet } from '../../../../gateway/policy/policy-set.js';
import { FIXTURES, makeTempDir } from '../../../helpers/paths.js';
import { waitFor } from '../../../helpers/wait-for.js';

const CLASSES = readFileSync(path.join(FIXTURES, 'policies', 'dev-off-prod.yaml'), 'utf8');

const SPLIT_JSON = JSON.stringify({
  apiVersion: 'causeway.dev/v1alpha1', kind: 'TrafficSplit', metadata: { name: 'web' },
  spec: { service: 'web.shop', backends: [{ cluster: 'a', weight: 100 }] },
});

const scott = (to = 'payments.prod'): Record<string, unknown> => ({
  apiVersion: 'causeway.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'scott' },
  spec: { rules: [{ from: ['spiffe://corp.example/ns/default/sa/scott'], to: [to] }] },
});

describe('PolicyStore', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let directory = '';
  let stateDir = '';
  const open: PolicyStore[] = [];
  let access: Array<{ to: string; from: string[] }> = [];

  async function startStore(pollIntervalMs = 60_000): Promise<PolicyStore> {
    const store = new PolicyStore({
      directory, state: new FileStore(stateDir), configAccess: () => access, logger: silentLogger(), debounceMs: 50, pollIntervalMs,
    });
    open.push(store);
    await store.start();
    return store;
  }

  /**
   * Resolves with the next set the store puts in force. The store's own timers are unref'd and
   * its watch is not persistent (they must never keep a gateway alive), so this timer is what
   * keeps the test process waiting.
   */
  function nextSet(store: PolicyStore, timeoutMs = 10_000): Promise<PolicySet> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no new policy set within ${timeoutMs} ms`)), timeoutMs);
      const off = store.onChange((set) => {
        off();
        clearTimeout(timer);
        resolve(set);
      });
    });
  }

  beforeEach(async () => {
    tmp = await makeTempDir('policy-store');
    directory = path.join(tmp.dir, 'policies');
    stateDir = path.join(tmp.dir, 'state');
    access = [];
  });

  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    await tmp.remove();
  });

  it('creates a missing directory (0700) and starts with the empty set', async () => {
    const store = await startStore();
    assert.equal((await stat(directory)).mode & 0o777, 0o700);
    assert.equal(store.current().version, 0);
    assert.deepEqual(store.status(), { version: 0, appliedAt: store.status().appliedAt, documents: 0, directory });
  });

  it('loads every YAML and JSON document of the directory as one set, saved as the last good set', async () => {
    await (await startStore()).close();
    await writeFile(path.join(directory, '10-classes.yaml'), CLASSES);
    await writeFile(path.join(directory, '20-split.json'), SPLIT_JSON);
    await writeFile(path.join(directory, 'README.md'), '# not policy');
    await writeFile(path.join(directory, '.swap.yaml'), 'not: [valid');
    const store = await startStore();
    const set = store.current();
    assert.equal(set.version, 1);
    assert.deepEqual(set.documents.map((d) => `${d.kind}/${d.name}@${d.origin}`), [
      'AccessPolicy/classes@10-classes.yaml', 'FailoverPolicy/payments@10-classes.yaml', 'TrafficSplit/web@20-split.json',
    ]);
    assert.deepEqual(set.failover.get('payments.prod')?.classes.get('dev')?.targets, [{ labels: { env: 'dev' } }]);
    const saved = JSON.parse(await readFile(path.join(stateDir, 'policies.json'), 'utf8')) as { version: number; documents: unknown[] };
    assert.equal(saved.version, 1);
    assert.equal(saved.documents.length, 3);
    assert.equal((await stat(path.join(stateDir, 'policies.json'))).mode & 0o777, 0o600);
  });

  it('follows the directory: a file written while running is in force without a restart', async () => {
    const store = await startStore();
    const changed = nextSet(store);
    await writeFile(path.join(directory, 'classes.yaml'), CLASSES);
    const set = await changed;
    assert.equal(set.version, 1);
    assert.equal(store.current(), set);
    assert.deepEqual([...set.classes.keys()], ['dev']);
    // Removing the file is a change too.
    const removed = nextSet(store);
    await rm(path.join(directory, 'classes.yaml'));
    assert.equal((await removed).documents.length, 0);
  });

  it('refuses an invalid directory whole: the previous set stays, every problem is the last refusal', async () => {
    await (await startStore()).close();
    await writeFile(path.join(directory, 'classes.yaml'), CLASSES);
    const store = await startStore();
    const before = store.current();
    await writeFile(path.join(directory, 'broken.yaml'), 'apiVersion: causeway.dev/v1alpha1\nkind: AccessPolicy\nmetadata: { name: x\nspec: {}\n');
    await writeFile(path.join(directory, 'bad.yaml'), 'apiVersion: causeway.dev/v1alpha1\nkind: TrafficSplit\nmetadata: { name: s }\nspec: { service: web.shop, backends: [{ cluster: a, weight: 60 }], colour: red }\n');
    const refusal = await waitFor('the refusal of both files', () => {
      const last = store.status().lastRefusal;
      return last?.errors.some((e) => e.origin === 'bad.yaml') === true ? last : undefined;
    }, 10_000);
    assert.equal(store.current(), before);
    assert.equal(refusal.source, 'directory');
    const lines = refusal.errors.map((e) => `${e.origin} ${e.document} ${e.path}: ${e.message}`);
    assert.ok(lines.some((l) => l.startsWith('broken.yaml document 1 : not valid YAML at line ')), lines.join('\n'));
    assert.ok(lines.includes('bad.yaml TrafficSplit/s spec.colour: unknown field'), lines.join('\n'));
    // A document with shape problems is not checked further (its weights are not summed).
    assert.ok(!lines.some((l) => l.includes('weights sum')), lines.join('\n'));
    assert.equal(store.status().version, 1);
  });

  it('restores the last good set at start when the directory is invalid', async () => {
    await (await startStore()).close();
    await writeFile(path.join(directory, 'classes.yaml'), CLASSES);
    const first = await startStore();
    assert.equal(first.current().version, 1);
    await first.close();
    await writeFile(path.join(directory, 'classes.yaml'), `${CLASSES}---\nkind: Nonsense\n`);
    const store = await startStore();
    assert.equal(store.current().version, 1);
    assert.deepEqual(store.current().documents.map((d) => d.name), ['classes', 'payments']);
    assert.deepEqual(store.status().lastRefusal?.errors, [
      { origin: 'classes.yaml', document: 'document 3', path: 'kind', message: '"Nonsense" is not a policy kind (expected AccessPolicy, FailoverPolicy, TrafficSplit)' },
    ]);
  });

  it('counts versions on across restarts and gives an unchanged directory no new version', async () => {
    await (await startStore()).close();
    await writeFile(path.join(directory, 'classes.yaml'), CLASSES);
    await (await startStore()).close();
    const again = await startStore();
    assert.equal(again.current().version, 1);
    await again.close();
    await writeFile(path.join(directory, 'split.json'), SPLIT_JSON);
    assert.equal((await startStore()).current().version, 2);
  });

  it('refuses a missing directory rather than withdrawing every policy', async () => {
    // A short poll: fs.watch may stay silent when the watched directory itself goes away.
    const store = await startStore(100);
    await store.apply([scott()]);
    await rename(directory, `${directory}.gone`);
    const refusal = await waitFor('the refusal', () => store.status().lastRefusal, 10_000);
    assert.match(refusal.errors[0]?.message ?? '', /^cannot be read: ENOENT/);
    assert.equal(store.current().documents.length, 1);
    // Back again: followed again (the watch is re-established by the poll).
    await rename(`${directory}.gone`, directory);
    await writeFile(path.join(directory, 'split.json'), SPLIT_JSON);
    await waitFor('the split in force', () => (store.current().splits.size === 1 ? true : undefined), 10_000);
  });

  it('applies documents through the directory: one file each, whole set checked, version counted', async () => {
    const store = await startStore();
    const applied = await store.apply([scott()]);
    assert.deepEqual(applied, { version: 1, applied: [{ kind: 'AccessPolicy', name: 'scott', file: 'accesspolicy-scott.yaml', action: 'created' }] });
    const file = path.join(directory, 'accesspolicy-scott.yaml');
    assert.match(await readFile(file, 'utf8'), /kind: AccessPolicy/);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal(store.get('AccessPolicy', 'scott')?.origin, 'accesspolicy-scott.yaml');
    assert.equal((await store.apply([scott()])).applied[0]?.action, 'unchanged');
    assert.equal(store.current().version, 1);
    const again = await store.apply([scott('*.prod')]);
    assert.deepEqual([again.version, again.applied[0]?.action], [2, 'configured']);
    assert.deepEqual(store.current().accessRules[0]?.to, ['*.prod']);
  });

  it('refuses an invalid apply: files untouched, set unchanged, the refusal recorded', async () => {
    const store = await startStore();
    await store.apply([scott()]);
    const files = await readdir(directory);
    const text = await readFile(path.join(directory, 'accesspolicy-scott.yaml'), 'utf8');
    const bad = { ...scott(), spec: { rules: [{ from: ['class:dev'], to: ['payments.prod'] }] } };
    await assert.rejects(store.apply([bad, { ...scott(), metadata: { name: 'other' }, spec: { rules: [{ form: [] }] } }], 'bad.yaml'), (err: unknown) => {
      assert.ok(isCausewayError(err, 'CW_POLICY_INVALID'));
      assert.deepEqual(err.details, [
        'bad.yaml AccessPolicy/other spec.rules[0].from: is required',
        'bad.yaml AccessPolicy/other spec.rules[0].to: is required',
        'bad.yaml AccessPolicy/other spec.rules[0].form: unknown field (did you mean "from"?)',
        'bad.yaml AccessPolicy/scott spec.rules[0].from[0]: class "dev" is not defined by any AccessPolicy\'s trafficClasses (no AccessPolicy defines any class)',
      ]);
      return true;
    });
    assert.deepEqual(await readdir(directory), files);
    assert.equal(await readFile(path.join(directory, 'accesspolicy-scott.yaml'), 'utf8'), text);
    assert.equal(store.current().version, 1);
    assert.equal(store.status().lastRefusal?.source, 'api');
    assert.equal(store.status().lastRefusal?.errors.length, 4);
  });

  it('never rewrites or removes what an operator keeps in a file of their own', async () => {
    await (await startStore()).close();
    await writeFile(path.join(directory, 'classes.yaml'), CLASSES);
    const store = await startStore();
    await assert.rejects(store.apply([{ ...scott(), kind: 'AccessPolicy', metadata: { name: 'classes' } }]),
      (err: unknown) => isCausewayError(err, 'CW_POLICY_FILE_OWNED') && /lives in classes\.yaml/.test(err.message));
    await assert.rejects(store.delete('FailoverPolicy', 'payments'), (err: unknown) => isCausewayError(err, 'CW_POLICY_FILE_OWNED') && /classes\.yaml/.test(err.message));
    await writeFile(path.join(directory, 'accesspolicy-scott.yaml'), `${CLASSES.split('---')[0] ?? ''}`.replace('name: classes', 'name: someone-else'));
    await assert.rejects(store.apply([scott()]), (err: unknown) => isCausewayError(err, 'CW_POLICY_FILE_OWNED') && /accesspolicy-scott\.yaml already exists/.test(err.message));
    await assert.rejects(store.delete('TrafficSplit', 'none'), (err: unknown) => isCausewayError(err, 'CW_POLICY_UNKNOWN'));
  });

  it('deletes what the API wrote, unless the rest of the set still needs it', async () => {
    const store = await startStore();
    const classes = { apiVersion: 'causeway.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'classes' }, spec: { trafficClasses: [{ name: 'dev', from: ['spiffe://dev.example'] }] } };
    const uses = { ...scott(), spec: { rules: [{ action: 'deny', from: ['class:dev'], to: ['*'] }] } };
    await store.apply([classes, uses]);
    await assert.rejects(store.delete('AccessPolicy', 'classes'), (err: unknown) => {
      assert.ok(isCausewayError(err, 'CW_POLICY_INVALID'));
      assert.match(err.details[0] ?? '', /^accesspolicy-scott\.yaml AccessPolicy\/scott spec\.rules\[0\]\.from\[0\]: class "dev" is not defined/);
      return true;
    });
    assert.ok((await readdir(directory)).includes('accesspolicy-classes.yaml'));
    const deleted = await store.delete('AccessPolicy', 'scott');
    assert.deepEqual(deleted, { version: 2, deleted: { kind: 'AccessPolicy', name: 'scott', file: 'accesspolicy-scott.yaml' } });
    assert.deepEqual(await readdir(directory), ['accesspolicy-classes.yaml']);
    assert.equal(store.get('AccessPolicy', 'scott'), undefined);
  });

  it('compiles again when the config\'s access list changes', async () => {
    const store = await startStore();
    access = [{ to: 'web.shop', from: ['spiffe://other.example/*'] }];
    const changed = nextSet(store);
    await store.recompile();
    const set = await changed;
    assert.equal(set.version, 1);
    assert.equal(set.accessRules[0]?.policy, 'config access');
    await store.recompile();
    assert.equal(store.current().version, 1, 'nothing changed, no new version');
  });

  it('refuses calls after close', async () => {
    const store = await startStore();
    await store.close();
    await store.close();
    await assert.rejects(store.apply([scott()]), (err: unknown) => isCausewayError(err, 'CW_CLOSED'));
  });
});
