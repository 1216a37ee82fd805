import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Store } from './catalog-types.js';
import { CausewayError, ErrorCodes, describeError } from './errors.js';

/** Store names become file names: no separators, no dot-files, nothing to escape the dir. */
const STORE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,127}$/;
const TEMP_FILE = /\.json\.tmp-\d+-[0-9a-f]+$/;

/** Temp files being written by this process (any FileStore): never swept as leftovers. */
const inFlight = new Set<string>();

/**
 * The data dir store: one JSON file per name, `<dir>/<name>.json`.
 *
 * A save is atomic (design brief: "atomic write + rename"): the value is written to a fresh
 * temp file (mode 0600 — state may hold identities and token hashes), fsynced, renamed over
 * the old file (rename(2) replaces atomically on POSIX), and then the directory is fsynced so
 * the rename itself survives a crash. Readers see the old value or the new, never half.
 * Saves and removes of one name run one after another; close() waits for all of them.
 */
export class FileStore implements Store {
  private readonly chains = new Map<string, Promise<unknown>>();
  private ready: Promise<void> | undefined;
  private closed = false;

  constructor(readonly dir: string) {}

  async load<T>(name: string): Promise<T | undefined> {
    const file = this.fileOf(name);
    this.assertOpen('load', name);
    // Read after any save of the same name already queued: a caller sees its own writes.
    await this.chains.get(name)?.catch(() => undefined);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CausewayError(ErrorCodes.STORE_CORRUPT, `${file}: cannot be read (${describeError(err)})`, { cause: err });
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new CausewayError(ErrorCodes.STORE_CORRUPT, `${file}: is not valid JSON (${describeError(err)})`, { cause: err });
    }
  }

  async save(name: string, value: unknown): Promise<void> {
    const file = this.fileOf(name);
    this.assertOpen('save', name);
    let text: string | undefined;
    try {
      text = JSON.stringify(value, null, 2);
    } catch (err) {
      throw new CausewayError(ErrorCodes.STORE_WRITE, `${file}: value cannot be written as JSON (${describeError(err)})`, { cause: err });
    }
    if (text === undefined) throw new CausewayError(ErrorCodes.STORE_WRITE, `${file}: value cannot be written as JSON`);
    const body = `${text}\n`;
    return this.serialise(name, () => this.writeAtomically(file, body));
  }

  async remove(name: string): Promise<void> {
    const file = this.fileOf(name);
    this.assertOpen('remove', name);
    return this.serialise(name, async () => {
      try {
        await unlink(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw new CausewayError(ErrorCodes.STORE_WRITE, `${file}: cannot be removed (${describeError(err)})`, { cause: err });
      }
      await this.syncDir();
    });
  }

  /** Waits for every pending save and remove; later calls fail with CW_CLOSED. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.chains.values()]);
  }

  private fileOf(name: string): string {
    if (!STORE_NAME.test(name)) {
      throw new CausewayError(ErrorCodes.INTERNAL, `store name ${JSON.stringify(name)} must be letters, digits, "-" or "_"`);
    }
    return path.join(this.dir, `${name}.json`);
  }

  private assertOpen(operation: string, name: string): void {
    if (this.closed) throw new CausewayError(ErrorCodes.CLOSED, `store ${this.dir} is closed (${operation} ${name})`);
  }

  /** Runs `task` after every earlier task of `name`, whatever their outcome. */
  private serialise(name: string, task: () => Promise<void>): Promise<void> {
    const previous = this.chains.get(name) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(task);
    this.chains.set(name, run);
    const forget = (): void => { if (this.chains.get(name) === run) this.chains.delete(name); };
    run.then(forget, forget);
    return run;
  }

  /**
   * Creates the dir (0700) once, and removes temp files a crashed writer left behind. One
   * process owns a data dir, so a temp file this process is not writing is a leftover.
   */
  private prepare(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      for (const entry of await readdir(this.dir)) {
        const file = path.join(this.dir, entry);
        if (TEMP_FILE.test(entry) && !inFlight.has(file)) await unlink(file).catch(() => undefined);
      }
    })();
    // A failed mkdir is retried by the next save.
    this.ready.catch(() => { this.ready = undefined; });
    return this.ready;
  }

  private async writeAtomically(file: string, body: string): Promise<void> {
    const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    inFlight.add(tmp);
    try {
      await this.prepare();
      const handle = await open(tmp, 'wx', 0o600);
      try {
        await handle.writeFile(body, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, file);
      await this.syncDir();
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      if (err instanceof CausewayError) throw err;
      throw new CausewayError(ErrorCodes.STORE_WRITE, `${file}: cannot be written (${describeError(err)})`, { cause: err });
    } finally {
      inFlight.delete(tmp);
    }
  }

  /** fsync the directory so a rename or unlink is durable (POSIX leaves it to the caller). */
  private async syncDir(): Promise<void> {
    const handle = await open(this.dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
