import { createHash, randomBytes } from 'node:crypto';

/**
 * Bootstrap keys and credentials exactly as Terraform's federation module computes them,
 * written out here on purpose instead of calling the gateway's derivation: a test that used
 * the product's own function would pass whatever that function did, and the formula is a
 * contract with the Terraform code (spec: random_id byte_length 32 / 16, sha256 as hex).
 *
 *   secret = sha256("${key.hex}\n${sha256("causeway-bootstrap-v1\n${from}\n${to}\n${id.hex}\n${exp}")}")
 */

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** random_id.key[to] with byte_length = 32, as `.hex`. */
export function mintKey(): string {
  return randomBytes(32).toString('hex');
}

/** random_id.credential[pair] with byte_length = 16, as `.hex`. */
export function mintId(): string {
  return randomBytes(16).toString('hex');
}

export interface MintOptions {
  keyHex: string;
  from: string;
  to: string;
  /** Unix seconds (time_static.unix + ttl). */
  exp: number;
  id?: string;
}

export function mintSecret(o: Required<MintOptions>): string {
  return sha256(`${o.keyHex}\n${sha256(`causeway-bootstrap-v1\n${o.from}\n${o.to}\n${o.id}\n${o.exp}`)}`);
}

/** The credential text the federation module outputs: cwbt1.<from>.<to>.<id>.<exp>.<secret>. */
export function mintCredential(o: MintOptions): string {
  const full = { ...o, id: o.id ?? mintId() };
  return `cwbt1.${full.from}.${full.to}.${full.id}.${full.exp}.${mintSecret(full)}`;
}

/** Unix seconds `ttl` from now. */
export function expiresIn(ttlSeconds: number): number {
  return Math.floor(Date.now() / 1000) + ttlSeconds;
}
