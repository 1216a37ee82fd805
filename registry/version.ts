import type { Version } from './model.js';

/**
 * Orders two versions of the same origin: epoch first, then seq. Versions of different
 * origins are not comparable (a record has exactly one writer); callers compare only
 * versions of the same record key.
 */
export function compareVersions(a: Version, b: Version): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

export function isNewer(candidate: Version, held: Version | undefined): boolean {
  return held === undefined || compareVersions(candidate, held) > 0;
}

export function formatVersion(v: Version): string {
  return `${v.origin}@${v.epoch}.${v.seq}`;
}
