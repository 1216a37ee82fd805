import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isCausewayError } from '../../../registry/index.js';
import { LOCK_FILE, lockDataDir } from '../../../gateway/data-dir-lock.js';
import { makeTempDir } from '../../helpers/paths.js';

/** A pid that ran and is gone (a child that exited). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid;
}

describe('data dir lock', () => {
  const dirs: Array<Awaited<ReturnType<typeof makeTempDir>>> = [];
  after(async () => Promise.all(dirs.map((d) => d.remove())));
  const tempDir = async (): Promise<string> => {
    const d = await makeTempDir('lock');
    dirs.push(d);
    return d.dir;
  };

  it('is exclusive: a second taker is refused with CW_DATA_DIR_LOCKED naming the holder pid, exit code 2', async () => {
    const dir = await tempDir();
    const lock = await lockDataDir(dir);
    await assert.rejects(lockDataDir(dir), (err) => isCausewayError(err, 'CW_DATA_DIR_LOCKED')
      && err.exitCode === 2 && err.message.includes(`pid ${process.pid}`) && err.message.includes(path.join(dir, LOCK_FILE)));
    await lock.release();
    assert.equal(existsSync(path.join(dir, LOCK_FILE)), false);
    const again = await lockDataDir(dir);
    await again.release();
  });

  it('takes over a lock whose holder is gone, and one that is not a lock at all', async () => {
    const dir = await tempDir();
    const file = path.join(dir, LOCK_FILE);
    await writeFile(file, JSON.stringify({ pid: deadPid(), host: 'h', startedAt: '2020-01-01T00:00:00Z' }));
    const lock = await lockDataDir(dir);
    assert.equal(JSON.parse(await readFile(file, 'utf8')).pid, process.pid);
    await lock.release();
    await writeFile(file, '{half-writ');
    const second = await lockDataDir(dir);
    await second.release();
  });

  it('takes over a lock naming its own pid that this process never took (a container\'s PID 1 restarted after SIGKILL)', async () => {
    const dir = await tempDir();
    const file = path.join(dir, LOCK_FILE);
    await writeFile(file, JSON.stringify({ pid: process.pid, host: 'h', startedAt: '2020-01-01T00:00:00Z' }));
    const lock = await lockDataDir(dir);
    assert.notEqual(JSON.parse(await readFile(file, 'utf8')).startedAt, '2020-01-01T00:00:00Z');
    // Held by this process now: a second taker here is refused, as any other.
    await assert.rejects(lockDataDir(dir), (err) => isCausewayError(err, 'CW_DATA_DIR_LOCKED'));
    await lock.release();
  });

  it('release never deletes a lock another process holds', async () => {
    const dir = await tempDir();
    const file = path.join(dir, LOCK_FILE);
    const lock = await lockDataDir(dir);
    await writeFile(file, JSON.stringify({ pid: process.ppid, host: 'h', startedAt: '' }));
    await lock.release();
    assert.equal(existsSync(file), true);
  });
});
