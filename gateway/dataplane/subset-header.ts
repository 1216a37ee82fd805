import type { Labels } from '../policy/decide-route.js';

const LABEL = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,62})?$/;
const VALUE = /^[A-Za-z0-9._-]{0,63}$/;

/**
 * Parses `causeway-subset` (headers.ts): absent → undefined; malformed → the reason, so the
 * stream is refused rather than served from the wrong endpoints.
 */
export function parseSubset(value: string | string[] | undefined): Labels | undefined | string {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return 'causeway-subset must be one field';
  if (value === '' || value.length > 2048) return 'causeway-subset must be name=value pairs separated by commas';
  const labels: Record<string, string> = {};
  for (const pair of value.split(',')) {
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    const text = eq === -1 ? '' : pair.slice(eq + 1);
    if (eq === -1 || !LABEL.test(name) || !VALUE.test(text)) return `causeway-subset: "${pair.slice(0, 100)}" is not name=value`;
    if (name in labels) return `causeway-subset: label ${name} given twice`;
    labels[name] = text;
  }
  return labels;
}
