/**
 * One rule of the gateway config's `access:` list: callers matching any `from` entry may reach
 * `to`. `from` holds SPIFFE ID patterns (an exact ID, `spiffe://td/path/*`, `spiffe://td/*`)
 * or the word "anonymous". The policy compiler turns these into the first allow rules of the
 * set (policy/compile-access.ts); decisions are made by policy/decide-access.ts.
 */
export interface AccessRule {
  /** A service key `name.namespace`, or "*" for every service. */
  to: string;
  from: readonly string[];
}
