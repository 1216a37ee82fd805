/**
 * The path an access rule is matched against. A rule on `/admin` must not be dodged with
 * `/public/../admin`, `//admin` or `/%61dmin`, so the path is brought to one form first:
 * query and fragment dropped, percent-encoded unreserved characters decoded (RFC 3986 §6.2.2.2),
 * dot segments removed (§5.2.4), repeated slashes merged. A path whose meaning depends on the
 * backend — an encoded `/` or `\`, a raw `\`, a raw `;` (path parameters, which servlet
 * containers strip from each segment: to Tomcat `/public/..;/admin` is `/admin`) — is
 * `ambiguous`: deny rules on paths match it and allow rules on paths do not, so the
 * uncertainty always falls on the side of refusing.
 */
export interface NormalisedPath {
  path: string;
  ambiguous: boolean;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

export function normalisePath(target: string): NormalisedPath {
  let end = target.length;
  for (const stop of ['?', '#']) {
    const at = target.indexOf(stop);
    if (at !== -1 && at < end) end = at;
  }
  const raw = target.slice(0, end);
  let ambiguous = raw.includes('\\') || raw.includes(';') || /%(2f|5c)/i.test(raw);
  const decoded = raw.replace(/%([0-9A-Fa-f]{2})/g, (whole, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : whole.toUpperCase();
  });
  if (/%(?![0-9A-F]{2})/.test(decoded)) ambiguous = true;
  const output: string[] = [];
  for (const segment of decoded.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') output.pop();
    else output.push(segment);
  }
  const trailing = decoded.endsWith('/') || decoded.endsWith('/.') || decoded.endsWith('/..');
  const path = `/${output.join('/')}${trailing && output.length > 0 ? '/' : ''}`;
  return { path, ambiguous };
}

/**
 * Segment-aware prefix match: `/v1` matches `/v1` and `/v1/x` but not `/v10`; a prefix that
 * ends in `/` matches anything below it.
 */
export function pathHasPrefix(path: string, prefix: string): boolean {
  if (prefix.endsWith('/')) return path.startsWith(prefix) || path === prefix.slice(0, -1);
  return path === prefix || path.startsWith(`${prefix}/`);
}
