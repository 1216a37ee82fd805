const UNITS: Readonly<Record<string, number>> = { B: 1, KiB: 1024, MiB: 1024 * 1024, GiB: 1024 * 1024 * 1024 };

/** `65536`, `64KiB`, `64MiB`, `1GiB` (binary units, IEC 80000-13) as a byte count; undefined for anything else. */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+)\s*(B|KiB|MiB|GiB)$/.exec(value.trim());
  if (match === null) return undefined;
  const bytes = Number(match[1]) * (UNITS[match[2] ?? ''] ?? 0);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}
