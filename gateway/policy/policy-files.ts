import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { describeError, isPlainObject } from '../../registry/index.js';
import type { PolicyInput } from './compile.js';
import { apiFileName } from './kind-names.js';
import type { PolicyError } from './policy-error.js';
import { parsePolicyText, type PositionedDocument } from './policy-yaml.js';
import { METADATA_NAME_PATTERN, POLICY_KINDS, type PolicyKind } from './schema.js';

/** What a policy file may be called; dot-files (editor swaps, our own temp files) are skipped. */
const POLICY_FILE = /^[^.].*\.(ya?ml|json)$/;
const NAME = new RegExp(METADATA_NAME_PATTERN);
/** A policy file larger than this is a mistake (a log, a dump), not policy. */
export const MAX_POLICY_FILE_BYTES = 1024 * 1024;

export interface PolicyFile {
  /** The file's name in the directory (the `origin` of its documents). */
  name: string;
  text: string;
  documents: PositionedDocument[];
}

export interface DirectoryContents {
  files: PolicyFile[];
  /** Files that could not be read or parsed, and YAML syntax errors. */
  errors: PolicyError[];
  /** Identifies the contents: equal keys, equal directories (names and bytes). */
  key: string;
}

/**
 * Reads every `*.yaml`, `*.yml` and `*.json` file of the directory, in name order. Symbolic
 * links are followed, so a Kubernetes ConfigMap mounted as the directory works (its files are
 * links into a `..data` directory that is swapped whole on update). A missing directory is an
 * error, never an empty set: an unmounted volume must not withdraw every policy.
 */
export async function readPolicyDirectory(directory: string): Promise<DirectoryContents> {
  const errors: PolicyError[] = [];
  let names: string[];
  try {
    names = (await readdir(directory)).filter((n) => POLICY_FILE.test(n)).sort();
  } catch (err) {
    const problem = { origin: directory, document: 'directory', path: '', message: `cannot be read: ${describeError(err)}` };
    return { files: [], errors: [problem], key: `unreadable ${describeError(err)}` };
  }
  const files: PolicyFile[] = [];
  const hash = createHash('sha256');
  for (const name of names) {
    const file = path.join(directory, name);
    const fail = (message: string): void => {
      errors.push({ origin: name, document: 'file', path: '', message });
      hash.update(`${name}\0!${message}\0`);
    };
    try {
      const info = await stat(file);
      if (!info.isFile()) continue;
      if (info.size > MAX_POLICY_FILE_BYTES) {
        fail(`is ${info.size} bytes; a policy file holds at most ${MAX_POLICY_FILE_BYTES}`);
        continue;
      }
      const text = await readFile(file, 'utf8');
      hash.update(`${name}\0${text}\0`);
      const parsed = parsePolicyText(text, name);
      errors.push(...parsed.errors);
      files.push({ name, text, documents: parsed.documents });
    } catch (err) {
      // Removed between the listing and the read: the next change event reads the directory again.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      fail(`cannot be read: ${describeError(err)}`);
    }
  }
  return { files, errors, key: hash.digest('hex') };
}

/** The documents of a directory as compiler inputs, each with its file and position. */
export function inputsOf(files: readonly PolicyFile[], skip?: (kind: PolicyKind, name: string) => boolean): PolicyInput[] {
  return files.flatMap((file) => file.documents
    .filter(({ document }) => {
      const id = identityOf(document);
      return skip === undefined || id === undefined || !skip(id.kind, id.name);
    })
    .map(({ position, document }) => ({ origin: file.name, document, position })));
}

/** A document's kind and name, when it has a usable pair. */
export function identityOf(document: unknown): { kind: PolicyKind; name: string } | undefined {
  if (!isPlainObject(document) || !isPlainObject(document.metadata)) return undefined;
  const kind = POLICY_KINDS.find((k) => k === document.kind);
  const name = document.metadata.name;
  return kind === undefined || typeof name !== 'string' || !NAME.test(name) ? undefined : { kind, name };
}

/** Where a kind/name lives in the directory, and whether the admin API may rewrite that file. */
export interface Location {
  file: string;
  /** The file is `<kind>-<name>.yaml` and holds this one document: the API wrote it. */
  apiOwned: boolean;
}

export function locate(files: readonly PolicyFile[], kind: PolicyKind, name: string): Location | undefined {
  for (const file of files) {
    const held = file.documents.filter(({ document }) => {
      const id = identityOf(document);
      return id?.kind === kind && id.name === name;
    });
    if (held.length > 0) return { file: file.name, apiOwned: file.name === apiFileName(kind, name) && file.documents.length === 1 };
  }
  return undefined;
}
