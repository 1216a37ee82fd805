import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CausewayError, ErrorCodes } from '../../registry/index.js';

/**
 * The life of one signing authority of a trust domain (docs/security.md, "Rotation"):
 * - prepared: its root is published in the bundle, but it signs nothing yet, so every
 *   peer and bundle-endpoint consumer can learn the root before the first SVID under it;
 * - active: it signs every new SVID (exactly one authority is active);
 * - retiring: superseded; its root stays in the bundle until every SVID it signed has expired.
 */
export type AuthorityState = 'prepared' | 'active' | 'retiring';

export interface AuthorityRecord {
  id: number;
  /** self-managed: a root created here; intermediate: supplied by the operator under an organisation root. */
  kind: 'self-managed' | 'intermediate';
  state: AuthorityState;
  /** File names inside the CA directory. `cert` holds the signing certificate then any intermediates above it. */
  certFile: string;
  keyFile: string;
  /** Intermediate authorities: the organisation root(s) they chain to. */
  rootsFile?: string;
  /** ms since the epoch. */
  publishedAt: number;
  activateAt?: number;
  activatedAt?: number;
  retireAt?: number;
}

export interface CaStateFile {
  version: 1;
  trustDomain: string;
  /** `spiffe_sequence` of the bundle: bumped whenever the set of published roots changes. */
  sequence: number;
  nextId: number;
  authorities: AuthorityRecord[];
}

const STATES: readonly string[] = ['prepared', 'active', 'retiring'];
const KINDS: readonly string[] = ['self-managed', 'intermediate'];

function isTime(value: unknown): boolean {
  return value === undefined || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0);
}

function isFileName(value: unknown): boolean {
  return typeof value === 'string' && /^[A-Za-z0-9._-]+$/.test(value) && value !== '.' && value !== '..';
}

/** Parses `authorities.json`; anything unexpected is CW_CA_INIT naming the field. */
export function parseCaState(text: string, file: string): CaStateFile {
  const corrupt = (problem: string): CausewayError => new CausewayError(ErrorCodes.CA_INIT, `${file}: ${problem}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw corrupt('is not JSON');
  }
  const v = value as Partial<CaStateFile> | null;
  if (v === null || typeof v !== 'object' || v.version !== 1) throw corrupt('expected {"version": 1, ...}');
  if (typeof v.trustDomain !== 'string') throw corrupt('trustDomain is missing');
  if (!Number.isSafeInteger(v.sequence) || (v.sequence ?? 0) < 1) throw corrupt('sequence must be a positive integer');
  if (!Number.isSafeInteger(v.nextId) || (v.nextId ?? 0) < 1) throw corrupt('nextId must be a positive integer');
  if (!Array.isArray(v.authorities)) throw corrupt('authorities must be a list');
  v.authorities.forEach((a: Partial<AuthorityRecord>, i) => {
    const ok = a !== null && typeof a === 'object' && Number.isSafeInteger(a.id)
      && KINDS.includes(String(a.kind)) && STATES.includes(String(a.state))
      && isFileName(a.certFile) && isFileName(a.keyFile) && (a.rootsFile === undefined || isFileName(a.rootsFile))
      && isTime(a.publishedAt) && isTime(a.activateAt) && isTime(a.activatedAt) && isTime(a.retireAt);
    if (!ok) throw corrupt(`authorities[${i}] is not an authority record`);
  });
  if (v.authorities.filter((a) => a.state === 'active').length !== 1) throw corrupt('exactly one authority must be active');
  return v as CaStateFile;
}

/** A data dir from before authorities.json: root.crt/root.key and bundle.json's sequence. */
export async function legacyState(dir: string, trustDomain: string, now: number): Promise<CaStateFile> {
  let sequence = 1;
  try {
    const stored = JSON.parse(await readFile(path.join(dir, 'bundle.json'), 'utf8')) as { sequence?: unknown };
    if (typeof stored.sequence === 'number' && Number.isSafeInteger(stored.sequence) && stored.sequence > 0) sequence = stored.sequence;
  } catch {
    // No bundle metadata: sequence 1.
  }
  return {
    version: 1, trustDomain, sequence, nextId: 2,
    authorities: [{ id: 1, kind: 'self-managed', state: 'active', certFile: 'root.crt', keyFile: 'root.key', publishedAt: now, activatedAt: now }],
  };
}
