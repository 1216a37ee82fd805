import { open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CausewayError, ErrorCodes } from '../registry/index.js';

export const LOCK_FILE = 'gateway.lock';

interface LockContent {
  pid: number;
  host: string;
  startedAt: string;
}

export interface DataDirLock {
  readonly file: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): Promise<void>;
}

/** Whether a process with this pid exists on this host (EPERM: it exists, run by another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(file: string): Promise<LockContent | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<LockContent>;
    return typeof parsed.pid === 'number' && Number.isInteger(parsed.pid) && parsed.pid > 0
      ? { pid: parsed.pid, host: String(parsed.host ?? ''), startedAt: String(parsed.startedAt ?? '') }
      : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Unreadable or half-written by a holder that died mid-write: treat as stale.
    return { pid: 0, host: '', startedAt: '' };
  }
}

/**
 * Takes `<dataDir>/gateway.lock` exclusively, so that one gateway at a time owns a data dir:
 * two gateways on one dir would fight over peer links, the CA state and the runtime file.
 * The lock is created with O_EXCL (atomic on local file systems) and names its holder's pid.
 * A lock whose pid no longer runs (a gateway killed with SIGKILL) is stale and taken over.
 * Node has no flock(2), hence a pid file; its one blind spot is a pid reused by an unrelated
 * process after a crash, which the refusal message tells the operator how to clear.
 */
/** The lock files this process holds: a lock naming our pid but not in here is a previous incarnation's. */
const heldHere = new Set<string>();

export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const file = path.join(dataDir, LOCK_FILE);
  const content: LockContent = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
  // A second round follows the removal of a stale lock; losing that race to another starter
  // is reported like any held lock.
  for (let attempt = 0; ; attempt += 1) {
    try {
      const handle = await open(file, 'wx', 0o644);
      try {
        await handle.writeFile(`${JSON.stringify(content)}\n`);
      } finally {
        await handle.close();
      }
      heldHere.add(file);
      return { file, release: releaser(file) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readLock(file);
    if (holder === undefined && attempt < 3) continue; // released between our open and read
    // Our own pid on a lock we never took: a gateway that ran as the same pid and died — in a
    // container the gateway is PID 1 at every restart, and its emptyDir outlives it.
    const ourOldSelf = holder?.pid === process.pid && !heldHere.has(file);
    if (holder === undefined || (holder.pid !== 0 && !ourOldSelf && (processAlive(holder.pid) || attempt > 0))) {
      throw new CausewayError(ErrorCodes.DATA_DIR_LOCKED,
        `data dir ${dataDir} is in use by another gateway (pid ${holder?.pid ?? '?'}${holder?.startedAt ? `, started ${holder.startedAt}` : ''}); `
        + `stop it first, or if no gateway runs there, delete ${file}`);
    }
    await rm(file, { force: true });
  }
}

function releaser(file: string): () => Promise<void> {
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    heldHere.delete(file);
    // Only our own lock: never delete one another process took over.
    if ((await readLock(file))?.pid === process.pid) await rm(file, { force: true });
  };
}
