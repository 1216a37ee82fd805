import { parseSpiffeId } from '../../federation/index.js';

/**
 * A caller as a policy names it. Parsed once when a policy set is compiled; matching on the
 * request path is then string work only.
 */
export type SourcePattern =
  | { kind: 'anonymous'; text: string }
  | { kind: 'class'; text: string; name: string }
  /** `spiffe://<td>` or `spiffe://<td>/*`: every identity of the trust domain. */
  | { kind: 'domain'; text: string; trustDomain: string }
  | { kind: 'id'; text: string; id: string }
  /** Path segments, `*` for one segment; `rest` when the last `*` also matches further segments. */
  | { kind: 'pattern'; text: string; trustDomain: string; segments: readonly string[]; rest: boolean };

export const ANONYMOUS_SOURCE = 'anonymous';
const CLASS_PREFIX = 'class:';
const CLASS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Parses a source; a string is the reason it is not one (for the set's error list). */
export function parseSource(text: string): SourcePattern | string {
  if (text === ANONYMOUS_SOURCE) return { kind: 'anonymous', text };
  if (text.startsWith(CLASS_PREFIX)) {
    const name = text.slice(CLASS_PREFIX.length);
    return CLASS_NAME.test(name) ? { kind: 'class', text, name } : `"${text}": a class name is lower-case letters, digits and "-"`;
  }
  if (!text.startsWith('spiffe://')) return `"${text.slice(0, 200)}" is not anonymous, class:<name> or a spiffe:// ID or pattern`;
  const wild = text.split('/').slice(3);
  // Before the ID check, which would only say that "*" is not a path character.
  for (const [i, part] of wild.entries()) {
    if (part !== '*' && part.includes('*')) return `"${text.slice(0, 200)}": * must be a whole path segment (segment ${i + 1} is "${part}")`;
  }
  if (!wild.includes('*')) {
    try {
      const id = parseSpiffeId(text);
      return id.path === '' ? { kind: 'domain', text, trustDomain: id.trustDomain } : { kind: 'id', text, id: id.uri };
    } catch (err) {
      return (err as Error).message;
    }
  }
  // Check the pattern as an ID with each `*` replaced by a legal segment.
  let parsed;
  try {
    parsed = parseSpiffeId(text.split('/').map((part, i) => (i >= 3 && part === '*' ? 'x' : part)).join('/'));
  } catch (err) {
    return (err as Error).message.replace(/"[^"]*"/, `"${text.slice(0, 200)}"`);
  }
  const segments = parsed.path.slice(1).split('/').map((s, i) => (wild[i] === '*' ? '*' : s));
  if (segments.length === 1 && segments[0] === '*') return { kind: 'domain', text, trustDomain: parsed.trustDomain };
  return { kind: 'pattern', text, trustDomain: parsed.trustDomain, segments, rest: segments[segments.length - 1] === '*' };
}

/** The caller of one request, as the decisions see it. */
export interface Caller {
  /** The verified SPIFFE ID; undefined for an anonymous caller. */
  spiffeId: string | undefined;
  /** Its trust domain (for an anonymous caller: of the gateway it came through, if any). */
  trustDomain: string | undefined;
  /** Path segments of the SPIFFE ID (without the leading empty one). */
  segments: readonly string[];
  /** The traffic classes it belongs to. */
  classes: ReadonlySet<string>;
}

/** Whether `pattern` names `caller`. Class membership is resolved into `caller.classes` first. */
export function sourceMatches(pattern: SourcePattern, caller: Caller): boolean {
  switch (pattern.kind) {
    case 'anonymous': return caller.spiffeId === undefined;
    case 'class': return caller.classes.has(pattern.name);
    case 'domain': return caller.spiffeId !== undefined && caller.trustDomain === pattern.trustDomain;
    case 'id': return caller.spiffeId === pattern.id;
    case 'pattern': {
      if (caller.spiffeId === undefined || caller.trustDomain !== pattern.trustDomain) return false;
      const { segments, rest } = pattern;
      if (rest ? caller.segments.length < segments.length : caller.segments.length !== segments.length) return false;
      for (let i = 0; i < segments.length; i += 1) {
        if (segments[i] !== '*' && segments[i] !== caller.segments[i]) return false;
      }
      return true;
    }
  }
}

/** A Caller from a verified SPIFFE ID (already parsed by whoever verified it) or none. */
export function callerOf(spiffeId: string | undefined, viaTrustDomain?: string): Omit<Caller, 'classes'> {
  if (spiffeId === undefined) return { spiffeId: undefined, trustDomain: viaTrustDomain, segments: [] };
  const rest = spiffeId.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  return {
    spiffeId,
    trustDomain: slash === -1 ? rest : rest.slice(0, slash),
    segments: slash === -1 ? [] : rest.slice(slash + 1).split('/'),
  };
}
