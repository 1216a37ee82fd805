import { watch, type FSWatcher } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  CausewayError, ErrorCodes, describeError, NO_EVENTS, isPlainObject, syncDirectory, writeAtomic, type EventSink, type Logger, type Store,
} from '../../registry/index.js';
import type { PolicyEvent } from '../telemetry/events.js';
import type { AccessRule } from '../dataplane/access-rules.js';
import { compilePolicySet, type PolicyInput } from './compile.js';
import { apiFileName } from './kind-names.js';
import { formatPolicyError, policySetRefused, type PolicyError } from './policy-error.js';
import { identityOf, inputsOf, locate, readPolicyDirectory, type DirectoryContents } from './policy-files.js';
import { EMPTY_POLICY_SET, type PolicySet, type PolicySource, type StoredPolicy } from './policy-set.js';
import { policyYaml } from './policy-yaml.js';
import type { PolicyKind } from './schema.js';

export interface PolicyStoreOptions {
  /** The policy directory: the one source of truth; the admin API writes into it too. */
  directory: string;
  /** The data dir's state store; the last good set is kept there (`policies.json`). */
  state: Store;
  /** The gateway config's `access:` list, read at every compile. */
  configAccess: () => readonly AccessRule[];
  logger: Logger;
  clock?: () => number;
  /** Quiet time after a change event before the directory is read (an editor writes in bursts). */
  debounceMs?: number;
  /** The directory is also read this often: fs.watch can miss events (network file systems, ConfigMap swaps). */
  pollIntervalMs?: number;
  /** Telemetry: each set put in force, each set refused. */
  events?: EventSink<PolicyEvent>;
}

export interface PolicyRefusal {
  at: string;
  /** What was refused: the directory's contents, an admin API apply or delete, or a config reload. */
  source: 'directory' | 'api' | 'config';
  errors: PolicyError[];
}

export interface PolicyStoreStatus {
  version: number;
  appliedAt: string;
  documents: number;
  directory: string;
  lastRefusal?: PolicyRefusal;
}

export interface AppliedPolicy {
  kind: PolicyKind;
  name: string;
  file: string;
  action: 'created' | 'configured' | 'unchanged';
}

/** What `policies.json` in the state store holds. */
interface SavedSet {
  version: number;
  appliedAt: number;
  documents: Array<{ origin: string; document: unknown }>;
}

/** A file the API writes, with what it held before (undefined: absent), to put back on failure. */
interface FileWrite {
  file: string;
  text: string;
  before: string | undefined;
}

const STATE_NAME = 'policies';
const FILE_MODE = 0o600;

/**
 * The policy set in force, read from the policy directory and replaced whole or not at all.
 * A valid set gets the next version and is saved as the last good set; an invalid one is
 * refused with every problem listed (`lastRefusal`) and the set in force stays — at start,
 * the last good set saved in the data dir, else the empty set (which denies cross-trust-domain
 * traffic). Every change runs through one queue, so a reload, an apply and a delete never
 * interleave.
 */
export class PolicyStore implements PolicySource {
  private readonly options: Required<PolicyStoreOptions>;
  private set: PolicySet = EMPTY_POLICY_SET;
  /** What the set in force was compiled from (its documents and the config's access list). */
  private inputsKey = '';
  private appliedAt: number;
  private lastRefusal: PolicyRefusal | undefined;
  /** The directory contents last acted on: a poll that finds them unchanged does nothing. */
  private lastReadKey: string | undefined;
  private readonly listeners = new Set<(set: PolicySet) => void>();
  private queue: Promise<unknown> = Promise.resolve();
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private watchWarned = false;
  private closed = false;

  constructor(options: PolicyStoreOptions) {
    this.options = {
      clock: Date.now, debounceMs: 150, pollIntervalMs: 5_000, events: NO_EVENTS, ...options,
      logger: options.logger.child({ component: 'policy-store' }),
    };
    this.appliedAt = this.options.clock();
  }

  get directory(): string {
    return this.options.directory;
  }

  current(): PolicySet {
    return this.set;
  }

  onChange(listener: (set: PolicySet) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): PolicyStoreStatus {
    return {
      version: this.set.version, appliedAt: new Date(this.appliedAt).toISOString(), documents: this.set.documents.length,
      directory: this.options.directory, ...(this.lastRefusal === undefined ? {} : { lastRefusal: this.lastRefusal }),
    };
  }

  get(kind: PolicyKind, name: string): StoredPolicy | undefined {
    return this.set.documents.find((d) => d.kind === kind && d.name === name);
  }

  /** Restores the last good set, reads the directory, then follows it (fs.watch + poll). */
  async start(): Promise<void> {
    await mkdir(this.options.directory, { recursive: true, mode: 0o700 });
    await this.run(async () => {
      await this.restore();
      await this.loadDirectory();
    });
    this.watch();
    this.poll = setInterval(() => {
      if (this.watcher === undefined) this.watch();
      this.schedule();
    }, this.options.pollIntervalMs);
    this.poll.unref();
  }

  /** Compiles the set in force again with the config's current access list (config reload). */
  recompile(): Promise<void> {
    return this.run(async () => {
      const inputs = this.set.documents.map((d): PolicyInput => ({ origin: d.origin, document: d.document }));
      const errors = await this.adopt(inputs, 'config');
      if (errors.length > 0) throw policySetRefused(errors);
    });
  }

  /**
   * Adds or replaces documents (same kind and name) and writes each to its own file
   * `<kind>-<name>.yaml`, but only if the whole resulting set is valid; otherwise nothing
   * changes and CW_POLICY_INVALID lists every problem. `source` names the documents in it;
   * `parseErrors` are problems found reading them (YAML syntax), refused with the rest.
   */
  apply(documents: readonly unknown[], source = 'request', parseErrors: readonly PolicyError[] = []): Promise<{ version: number; applied: AppliedPolicy[] }> {
    return this.run(async () => {
      const dir = await readPolicyDirectory(this.options.directory);
      const ids = documents.map(identityOf);
      this.refuseOperatorFiles(dir, ids.flatMap((id) => (id === undefined ? [] : [id])));
      const replaced = new Set(ids.map((id) => (id === undefined ? '' : `${id.kind}/${id.name}`)));
      const inputs = [
        ...inputsOf(dir.files, (kind, name) => replaced.has(`${kind}/${name}`)),
        ...documents.map((document, i): PolicyInput => ({ origin: source, document, position: i + 1 })),
      ];
      const nameErrors = ids.flatMap((id, i) => (id !== undefined && apiFileName(id.kind, id.name).length > 255
        ? [{ origin: source, document: `${id.kind}/${id.name}`, path: 'metadata.name', message: `is too long for a file name (document ${i + 1})` }] : []));
      this.check(inputs, [...parseErrors, ...dir.errors, ...nameErrors]);
      const applied: AppliedPolicy[] = [];
      const writes: FileWrite[] = [];
      documents.forEach((document, i) => {
        const id = ids[i] as { kind: PolicyKind; name: string };
        const file = apiFileName(id.kind, id.name);
        const before = dir.files.find((f) => f.name === file);
        const same = before !== undefined && isDeepStrictEqual(before.documents[0]?.document, document);
        applied.push({ ...id, file, action: before === undefined ? 'created' : same ? 'unchanged' : 'configured' });
        if (!same) writes.push({ file, text: policyYaml(document), before: before?.text });
      });
      await this.writeAll(writes);
      await this.loadDirectory({ force: true });
      return { version: this.set.version, applied };
    });
  }

  /** Removes a document the API wrote, if the set without it is valid. */
  delete(kind: PolicyKind, name: string): Promise<{ version: number; deleted: { kind: PolicyKind; name: string; file: string } }> {
    return this.run(async () => {
      const dir = await readPolicyDirectory(this.options.directory);
      const where = locate(dir.files, kind, name);
      if (where === undefined) throw new CausewayError(ErrorCodes.POLICY_UNKNOWN, `${kind}/${name} is not in the policy directory ${this.options.directory}`);
      this.refuseOperatorFiles(dir, [{ kind, name }]);
      this.check(inputsOf(dir.files, (k, n) => k === kind && n === name), dir.errors);
      const file = path.join(this.options.directory, where.file);
      try {
        await unlink(file);
        await syncDirectory(this.options.directory);
      } catch (err) {
        throw new CausewayError(ErrorCodes.STORE_WRITE, `${file}: cannot be removed (${describeError(err)})`, { cause: err });
      }
      await this.loadDirectory({ force: true });
      return { version: this.set.version, deleted: { kind, name, file: where.file } };
    });
  }

  /** Stops following the directory and waits for a change in progress. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.debounce);
    clearInterval(this.poll);
    this.watcher?.close();
    this.watcher = undefined;
    await this.queue.catch(() => undefined);
  }

  // --- the queue and the steps ---------------------------------------------------------------

  private run<T>(task: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new CausewayError(ErrorCodes.CLOSED, 'the policy store is closed'));
    const next = this.queue.catch(() => undefined).then(task);
    this.queue = next;
    return next;
  }

  /** Compiles `inputs` as the next set; in force if valid (and new), else recorded as refused. */
  private async adopt(inputs: PolicyInput[], source: PolicyRefusal['source'], readErrors: PolicyError[] = []): Promise<PolicyError[]> {
    const configAccess = this.options.configAccess();
    const result = compilePolicySet(inputs, { version: this.set.version + 1, configAccess });
    const errors = [...readErrors, ...(result.ok ? [] : result.errors)];
    if (errors.length > 0) {
      this.refuse(source, errors);
      return errors;
    }
    const key = inputsKeyOf(inputs, configAccess);
    if (result.ok && key !== this.inputsKey) await this.install(result.set, key, true);
    return [];
  }

  /** Refuses (CW_POLICY_INVALID, recorded as lastRefusal) unless `inputs` compile as a set. */
  private check(inputs: PolicyInput[], readErrors: PolicyError[]): void {
    const result = compilePolicySet(inputs, { version: this.set.version + 1, configAccess: this.options.configAccess() });
    const errors = [...readErrors, ...(result.ok ? [] : result.errors)];
    if (errors.length === 0) return;
    this.refuse('api', errors);
    throw policySetRefused(errors);
  }

  private async loadDirectory(options: { force?: boolean } = {}): Promise<void> {
    const dir = await readPolicyDirectory(this.options.directory);
    if (options.force !== true && dir.key === this.lastReadKey) return;
    this.lastReadKey = dir.key;
    await this.adopt(inputsOf(dir.files), 'directory', dir.errors);
  }

  private async install(set: PolicySet, key: string, save: boolean): Promise<void> {
    this.set = set;
    this.inputsKey = key;
    this.appliedAt = this.options.clock();
    this.options.logger.info({ version: set.version, documents: set.documents.length }, 'policy set in force');
    this.options.events.publish({ type: 'policy.applied', version: set.version, documents: set.documents.length });
    if (save) {
      const saved: SavedSet = { version: set.version, appliedAt: this.appliedAt, documents: set.documents.map((d) => ({ origin: d.origin, document: d.document })) };
      // The set is in force either way; only a restart into a broken directory would miss it.
      await this.options.state.save(STATE_NAME, saved).catch((err: unknown) => this.options.logger.error({ reason: describeError(err) }, 'cannot save the last good policy set'));
    }
    for (const listener of this.listeners) {
      try {
        listener(set);
      } catch (err) {
        this.options.logger.error({ reason: describeError(err) }, 'a policy change listener failed');
      }
    }
  }

  private refuse(source: PolicyRefusal['source'], errors: PolicyError[]): void {
    this.lastRefusal = { at: new Date(this.options.clock()).toISOString(), source, errors };
    this.options.events.publish({ type: 'policy.refused', source, problems: errors.length });
    this.options.logger.warn({ source, version: this.set.version, errors: errors.slice(0, 100).map(formatPolicyError), count: errors.length },
      'policy set refused; the set in force stays');
  }

  /** The last good set from the data dir, compiled again (the config's access may have changed). */
  private async restore(): Promise<void> {
    let saved: SavedSet | undefined;
    try {
      const value = await this.options.state.load<unknown>(STATE_NAME);
      if (isPlainObject(value) && Number.isInteger(value.version) && Array.isArray(value.documents)) saved = value as unknown as SavedSet;
      else if (value !== undefined) this.options.logger.warn('the saved policy set has the wrong shape; ignored');
    } catch (err) {
      this.options.logger.warn({ reason: describeError(err) }, 'cannot read the saved policy set; ignored');
    }
    const version = saved?.version ?? 0;
    if (saved !== undefined) {
      const inputs = saved.documents.map((d): PolicyInput => ({ origin: d.origin, document: d.document }));
      if (await this.restoreFrom(inputs, version)) {
        this.appliedAt = saved.appliedAt;
        return;
      }
      // Saved by another version of Causeway whose schema differs, say: start from the empty set.
      this.options.logger.warn({ version }, 'the saved policy set no longer compiles; starting from the empty set');
    }
    if (!(await this.restoreFrom([], version))) this.options.logger.error('the config\'s access rules do not compile; no access rule is in force');
  }

  private async restoreFrom(inputs: PolicyInput[], version: number): Promise<boolean> {
    const configAccess = this.options.configAccess();
    const result = compilePolicySet(inputs, { version, configAccess });
    if (result.ok) await this.install(result.set, inputsKeyOf(inputs, configAccess), false);
    else if (inputs.length === 0) this.refuse('config', result.errors);
    return result.ok;
  }

  /** The admin API never rewrites or removes a document an operator keeps in a file of their own. */
  private refuseOperatorFiles(dir: DirectoryContents, ids: ReadonlyArray<{ kind: PolicyKind; name: string }>): void {
    const problems: string[] = [];
    for (const { kind, name } of ids) {
      const where = locate(dir.files, kind, name);
      const target = apiFileName(kind, name);
      if (where !== undefined && !where.apiOwned) {
        problems.push(`${kind}/${name} lives in ${where.file}, a file the admin API did not write; edit that file instead`);
      } else if (where === undefined && dir.files.some((f) => f.name === target)) {
        problems.push(`${target} already exists and holds other documents; the admin API will not overwrite it`);
      }
    }
    if (problems.length > 0) throw new CausewayError(ErrorCodes.POLICY_FILE_OWNED, problems[0] ?? '', { details: problems });
  }

  /** Writes every file or none: a failure puts back the ones already written. */
  private async writeAll(writes: readonly FileWrite[]): Promise<void> {
    const done: FileWrite[] = [];
    try {
      for (const write of writes) {
        await writeAtomic(path.join(this.options.directory, write.file), write.text, FILE_MODE);
        done.push(write);
      }
    } catch (err) {
      for (const write of done.reverse()) {
        const file = path.join(this.options.directory, write.file);
        await (write.before === undefined ? unlink(file) : writeAtomic(file, write.before, FILE_MODE)).catch(() => undefined);
      }
      throw new CausewayError(ErrorCodes.STORE_WRITE, `cannot write the policy directory ${this.options.directory}: ${describeError(err)}; nothing was applied`, { cause: err });
    }
  }

  // --- following the directory ---------------------------------------------------------------

  private watch(): void {
    if (this.closed) return;
    try {
      this.watcher = watch(this.options.directory, { persistent: false }, () => this.schedule());
      this.watchWarned = false;
      this.watcher.on('error', (err) => {
        this.options.logger.warn({ reason: describeError(err) }, 'policy directory watch failed; polling until it can be watched again');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      // Retried at every poll (the directory may come back): said once, not every 5 s.
      if (!this.watchWarned) this.options.logger.warn({ reason: describeError(err) }, 'cannot watch the policy directory; polling it');
      this.watchWarned = true;
    }
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.run(() => this.loadDirectory()).catch((err: unknown) => this.options.logger.error({ reason: describeError(err) }, 'cannot read the policy directory'));
    }, this.options.debounceMs);
    this.debounce.unref();
  }
}

/** Equal keys, equal sets: the same documents from the same files, and the same config access list. */
function inputsKeyOf(inputs: readonly PolicyInput[], configAccess: readonly AccessRule[]): string {
  return JSON.stringify([inputs.map((i) => [i.origin, i.document]), configAccess]);
}
