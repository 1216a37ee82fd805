/** `90s`, `15m`, `24h`, `7d` or a whole number of seconds; undefined for anything else. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+)(s|m|h|d)$/.exec(value.trim());
  if (match === null) return undefined;
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  return seconds > 0 ? seconds : undefined;
}

/**
 * Like parseDuration, plus `250ms`, in milliseconds (for timeouts a test or an operator may
 * want below a second); a bare number still means seconds.
 */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const match = /^(\d+)ms$/.exec(value.trim());
    if (match !== null) return Number(match[1]) > 0 ? Number(match[1]) : undefined;
  }
  const seconds = parseDuration(value);
  return seconds === undefined ? undefined : seconds * 1000;
}
