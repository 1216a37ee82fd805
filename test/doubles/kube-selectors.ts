// Label and field selectors as kube-apiserver parses them for list and watch
// (k8s.io/apimachinery/pkg/labels/selector.go, pkg/fields/selector.go):
// https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors and
// https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/
import { statusErrors } from './kube-status.js';

type LabelOp = 'exists' | 'notexists' | 'in' | 'notin' | 'gt' | 'lt';

interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

export type LabelSelector = readonly LabelRequirement[];

const KEY = String.raw`(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?`;
const VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const EXISTS = new RegExp(`^(!?)\\s*(${KEY})$`);
const EQUALITY = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(\\S*)$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\((.*)\\)$`);
const COMPARE = new RegExp(`^(${KEY})\\s*([<>])\\s*(-?\\d+)$`);

/** Splits at the commas outside parentheses: `a in (x,y),b` is two requirements. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    else if (s[i] === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts.map((p) => p.trim());
}

function badValue(value: string, raw: string): never {
  throw statusErrors.badRequest(`unable to parse requirement: values[0][${raw}]: Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
}

/** `?labelSelector=`: equality (`=`, `==`, `!=`) and set-based (`in`, `notin`, `key`, `!key`, `>`, `<`) requirements, ANDed. */
export function parseLabelSelector(raw: string): LabelSelector {
  if (raw.trim() === '') return [];
  return splitTopLevel(raw).map((r): LabelRequirement => {
    let m = EXISTS.exec(r);
    if (m) return { key: m[2] ?? '', op: m[1] === '!' ? 'notexists' : 'exists', values: [] };
    m = EQUALITY.exec(r);
    if (m) {
      const value = m[3] ?? '';
      if (!VALUE.test(value) || value.length > 63) badValue(value, r);
      return { key: m[1] ?? '', op: m[2] === '!=' ? 'notin' : 'in', values: [value] };
    }
    m = SET.exec(r);
    if (m) {
      const values = (m[3] ?? '').split(',').map((v) => v.trim());
      for (const v of values) if (!VALUE.test(v) || v.length > 63) badValue(v, r);
      return { key: m[1] ?? '', op: m[2] === 'notin' ? 'notin' : 'in', values };
    }
    m = COMPARE.exec(r);
    if (m) return { key: m[1] ?? '', op: m[2] === '>' ? 'gt' : 'lt', values: [m[3] ?? ''] };
    throw statusErrors.badRequest(`unable to parse requirement: found '${r}', expected: identifier, '!', 'in', 'notin', '=', '==', '!=', '>' or '<'`);
  });
}

/** `!=` and `notin` also match objects without the label, as in apimachinery. */
export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  for (const req of selector) {
    const value = labels?.[req.key];
    switch (req.op) {
      case 'exists': if (value === undefined) return false; break;
      case 'notexists': if (value !== undefined) return false; break;
      case 'in': if (value === undefined || !req.values.includes(value)) return false; break;
      case 'notin': if (value !== undefined && req.values.includes(value)) return false; break;
      case 'gt': case 'lt': {
        const n = Number(value);
        if (value === undefined || !/^-?\d+$/.test(value)) return false;
        if (req.op === 'gt' ? !(n > Number(req.values[0])) : !(n < Number(req.values[0]))) return false;
        break;
      }
    }
  }
  return true;
}

export interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

/** Splits at unescaped `sep`, undoing `\,` `\=` `\!` `\\` escapes in each part afterwards. */
function splitEscaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (c === '\\' && i + 1 < s.length) {
      cur += c + (s[i + 1] ?? '');
      i++;
    } else if (c === sep) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

const unescape = (s: string): string => s.replace(/\\(.)/g, '$1');

/**
 * `?fieldSelector=`: `field=value`, `field==value`, `field!=value`, comma-separated and ANDed; only the
 * fields the resource supports (`supported`) — others are refused with the server's 400.
 */
export function parseFieldSelector(raw: string, supported: ReadonlySet<string>, custom: boolean): FieldRequirement[] {
  if (raw.trim() === '') return [];
  return splitEscaped(raw, ',').map((part): FieldRequirement => {
    const m = /^((?:[^=!\\]|\\.)+?)\s*(==|=|!=)\s*(.*)$/.exec(part.trim());
    if (m === null) throw statusErrors.badRequest(`invalid selector: '${raw}'; can't understand '${part}'`);
    const field = unescape(m[1] ?? '');
    if (!supported.has(field)) {
      throw statusErrors.badRequest(custom
        ? `"${field}" is not a known field selector: only ${[...supported].map((f) => `"${f}"`).join(', ')}`
        : `field label not supported: ${field}`);
    }
    return { field, value: unescape(m[3] ?? ''), negate: m[2] === '!=' };
  });
}

export function matchesFields(selector: readonly FieldRequirement[], fieldOf: (field: string) => string): boolean {
  for (const req of selector) if ((fieldOf(req.field) === req.value) === req.negate) return false;
  return true;
}
