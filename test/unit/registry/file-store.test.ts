import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FileStore, isCausewayError } from '../../../registry/index.js';
import { makeTempDir } from '../../helpers/paths.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => { for (const c of cleanups) await c(); });

async function tempDir(): Promise<string> {
  const { dir, remove } = await makeTempDir('store');
  cleanups.push(remove);
  return dir;
}

describe('FileStore', () => {
  it('saves atomically: dir 0700, file 0600, no temp file left, load returns the value', async () => {
    const dir = path.join(await tempDir(), 'state');
    const store = new FileStore(dir);
    assert.equal(await store.load('catalog'), undefined);
    await store.save('catalog', { a: 1, list: ['x'] });
    assert.deepEqual(await store.load('catalog'), { a: 1, list: ['x'] });
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(path.join(dir, 'catalog.json'))).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ['catalog.json']);
    await store.close();
  });

  it('serialises saves of one name: the last save wins and every intermediate file was whole', async () => {
    const dir = await tempDir();
    const store = new FileStore(dir);
    const big = (n: number): { n: number; pad: string[] } => ({ n, pad: Array.from({ length: 2000 }, (_, i) => `entry-${n}-${i}`) });
    const saves = Array.from({ length: 8 }, (_, n) => store.save('catalog', big(n)));
    // Readers between writes see the old file or the new one, never half of one.
    const reads = Array.from({ length: 4 }, () => store.load<{ n: number }>('catalog'));
    await Promise.all([...saves, ...reads]);
    for (const value of await Promise.all(reads)) assert.equal(typeof value?.n, 'number');
    assert.equal((await store.load<{ n: number }>('catalog'))?.n, 7);
    assert.deepEqual(await readdir(dir), ['catalog.json']);
    await store.close();
  });

  it('a file that is not JSON is CW_STORE_CORRUPT naming the file', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'peers.json'), '{"peers": [', { mode: 0o600 });
    const store = new FileStore(dir);
    await assert.rejects(store.load('peers'), (e) =>
      isCausewayError(e, 'CW_STORE_CORRUPT') && e.message.startsWith(`${path.join(dir, 'peers.json')}: is not valid JSON`));
    await store.close();
  });

  it('removes temp files a crashed writer left, and keeps the last good file', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'catalog.json'), '{"good": true}');
    await writeFile(path.join(dir, 'catalog.json.tmp-4242-0a1b2c'), '{"half');
    const store = new FileStore(dir);
    assert.deepEqual(await store.load('catalog'), { good: true });
    await store.save('other', 1);
    assert.deepEqual((await readdir(dir)).sort(), ['catalog.json', 'other.json']);
    await store.close();
  });

  it('a value that is not JSON-writable is CW_STORE_WRITE and the old file stays', async () => {
    const dir = await tempDir();
    const store = new FileStore(dir);
    await store.save('catalog', { v: 1 });
    await assert.rejects(store.save('catalog', { v: 2n }), (e) => isCausewayError(e, 'CW_STORE_WRITE'));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(store.save('catalog', cyclic), (e) => isCausewayError(e, 'CW_STORE_WRITE'));
    assert.deepEqual(await store.load('catalog'), { v: 1 });
    await store.close();
  });

  it('a directory that cannot be created is CW_STORE_WRITE', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'blocker'), 'a file, not a dir');
    const store = new FileStore(path.join(dir, 'blocker', 'state'));
    await assert.rejects(store.save('catalog', {}), (e) => isCausewayError(e, 'CW_STORE_WRITE') && e.message.includes('blocker'));
    await store.close();
  });

  it('refuses names that could leave the dir', async () => {
    const store = new FileStore(await tempDir());
    for (const name of ['../x', 'a/b', '.hidden', '']) {
      await assert.rejects(store.save(name, {}), (e) => isCausewayError(e, 'CW_INTERNAL'), name);
    }
    await store.close();
  });

  it('remove deletes the file; close waits for pending saves, is idempotent, and later calls fail CW_CLOSED', async () => {
    const dir = await tempDir();
    const store = new FileStore(dir);
    await store.save('a', 1);
    await store.remove('a');
    await store.remove('a');
    assert.equal(await store.load('a'), undefined);
    const pending = store.save('b', { pending: true });
    await store.close();
    await pending;
    assert.equal(await readFile(path.join(dir, 'b.json'), 'utf8'), '{\n  "pending": true\n}\n');
    await store.close();
    await assert.rejects(store.save('b', 2), (e) => isCausewayError(e, 'CW_CLOSED'));
    await assert.rejects(store.load('b'), (e) => isCausewayError(e, 'CW_CLOSED'));
  });
});
