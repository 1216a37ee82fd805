import { NAME_PATTERN } from './model.js';

/**
 * Small readers for validation that COLLECTS problems (the xDS NACK model: report every
 * problem, reject the whole input). Each reader pushes `<path>: <what is wrong>` onto
 * `errors` and returns undefined instead of throwing, so one pass names everything.
 */

export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` as an object, or a problem: `<path>: must be an object`. */
export function readObject(value: unknown, path: string, errors: string[], what = 'an object'): PlainObject | undefined {
  if (isPlainObject(value)) return value;
  errors.push(`${path}: ${value === undefined ? 'is missing' : `must be ${what}`}`);
  return undefined;
}

/**
 * Names every key of `value` that is not a known field, with a hint when the key is a near
 * miss of one (undici's habit: actionable messages for misspelled or renamed options).
 */
export function checkFields(value: PlainObject, known: readonly string[], path: string, errors: string[]): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const hint = closest(key, known);
    errors.push(`${join(path, key)}: unknown field${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`);
  }
}

/** `a.b` for a field of `a`; a bare `b` at the top level (path ''). */
export function join(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3; // more than two edits away is not a typo
  for (const candidate of known) {
    const d = candidate.toLowerCase() === lower ? 0 : editDistance(candidate, key);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] ?? 0;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

/** A DNS-1123 label (service, namespace, cluster and port names). */
export function readName(value: unknown, path: string, errors: string[]): string | undefined {
  if (value === undefined) {
    errors.push(`${path}: is missing`);
    return undefined;
  }
  if (typeof value !== 'string' || !NAME_PATTERN.test(value)) {
    errors.push(`${path}: ${JSON.stringify(value)} is not a DNS-1123 label (lower-case letters, digits, "-", at most 63)`);
    return undefined;
  }
  return value;
}

/** A non-empty printable string of at most `max` characters. */
export function readText(value: unknown, path: string, errors: string[], max = 253): string | undefined {
  if (value === undefined) {
    errors.push(`${path}: is missing`);
    return undefined;
  }
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value === '' || value.length > max || /[\u0000-\u001f\u007f]/.test(value)) {
    errors.push(`${path}: ${JSON.stringify(value)} must be a non-empty string of printable characters (at most ${max})`);
    return undefined;
  }
  return value;
}

/** An integer in [min, max]. */
export function readInteger(value: unknown, path: string, errors: string[], min: number, max: number): number | undefined {
  if (value === undefined) {
    errors.push(`${path}: is missing`);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    errors.push(`${path}: ${JSON.stringify(value)} must be an integer from ${min} to ${max}`);
    return undefined;
  }
  return value;
}

/**
 * A version counter: a number, or the decimal string a uint64 decodes to (proto-loader
 * `longs: String`); it must be a non-negative safe integer so comparisons stay exact.
 */
export function readCounter(value: unknown, path: string, errors: string[]): number | undefined {
  const n = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    errors.push(`${path}: ${value === undefined ? 'is missing' : `${JSON.stringify(value)} is not a non-negative integer below 2^53`}`);
    return undefined;
  }
  return n;
}

export function readBoolean(value: unknown, path: string, errors: string[], fallback?: boolean): boolean | undefined {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'boolean') {
    errors.push(`${path}: ${value === undefined ? 'is missing' : `${JSON.stringify(value)} must be true or false`}`);
    return undefined;
  }
  return value;
}

/** One of a fixed set of strings. */
export function readChoice<T extends string>(value: unknown, path: string, errors: string[], choices: readonly T[]): T | undefined {
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  errors.push(`${path}: ${value === undefined ? 'is missing' : `${JSON.stringify(value)} is not one of ${choices.join(' | ')}`}`);
  return undefined;
}

/** A list, or a problem. */
export function readList(value: unknown, path: string, errors: string[]): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  errors.push(`${path}: ${value === undefined ? 'is missing' : 'must be a list'}`);
  return undefined;
}
