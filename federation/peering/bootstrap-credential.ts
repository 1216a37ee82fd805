import { CausewayError, ErrorCodes, NAME_PATTERN } from '../../registry/index.js';
import { sha256Hex } from '../tokens/index.js';

/**
 * Bootstrap credentials: peering credentials minted OUTSIDE any gateway (by Terraform's
 * federation module) from a key the dialled gateway is given, so that two gateways created
 * in the same apply peer without anyone copying a token between them.
 *
 *   text   = cwbt1.<from>.<to>.<id>.<exp>.<secret>
 *   secret = sha256hex(keyHex + "\n" + sha256hex("causeway-bootstrap-v1\n" + from + "\n" + to + "\n" + id + "\n" + exp))
 *
 * `from` dials `to`; `id` (16 random bytes, hex) makes it one-time; `exp` is Unix seconds.
 * The formula is a plain hash rather than an HMAC because Terraform has no HMAC function.
 * Length extension gains nothing here: the gateway only ever hashes exactly
 * key + "\n" + one 64-hex digest, so an extended input is never a secret it accepts.
 * The secret never crosses the wire: the dialler proves it holds it (bootstrap-proof.ts).
 */

export const BOOTSTRAP_PREFIX = 'cwbt1';
const DERIVATION_LABEL = 'causeway-bootstrap-v1';

/** A parsed credential. `exp` in Unix seconds (its canonical decimal text is what is hashed). */
export interface BootstrapCredential {
  from: string;
  to: string;
  id: string;
  exp: number;
  /** 64 lower-case hex. Never logged. */
  secret: string;
}

const PARTS = ['prefix', 'from', 'to', 'id', 'exp', 'secret'] as const;

/**
 * Parses credential text (one line; surrounding white space ignored). `where` names its
 * source (a file) in messages. Errors: CW_TOKEN_MALFORMED naming the first bad part.
 * Expiry is not judged here: a credential past its time is well-formed, and the caller
 * decides what that means (a peering already made needs it no more).
 */
export function parseBootstrapCredential(text: string, where = 'bootstrap credential'): BootstrapCredential {
  const malformed = (problem: string): CausewayError =>
    new CausewayError(ErrorCodes.TOKEN_MALFORMED, `${where}: ${problem} (expected ${BOOTSTRAP_PREFIX}.<from>.<to>.<id>.<exp>.<secret>)`);
  const parts = text.trim().split('.');
  if (parts[0] !== BOOTSTRAP_PREFIX) throw malformed(`does not start with "${BOOTSTRAP_PREFIX}."`);
  if (parts.length !== PARTS.length) throw malformed(`has ${parts.length} dot-separated parts, not ${PARTS.length}`);
  const [, from = '', to = '', id = '', exp = '', secret = ''] = parts;
  if (!NAME_PATTERN.test(from)) throw malformed(`from: "${from}" is not a DNS-1123 label`);
  if (!NAME_PATTERN.test(to)) throw malformed(`to: "${to}" is not a DNS-1123 label`);
  if (from === to) throw malformed(`from and to are both "${from}"`);
  if (!/^[0-9a-f]{32}$/.test(id)) throw malformed('id: must be 32 lower-case hex digits');
  // Canonical decimal only: the text is hashed, so "0123" and "123" must not both be valid.
  if (!/^[1-9][0-9]{0,15}$/.test(exp) || !Number.isSafeInteger(Number(exp))) throw malformed('exp: must be Unix seconds in decimal');
  if (!/^[0-9a-f]{64}$/.test(secret)) throw malformed('secret: must be 64 lower-case hex digits');
  return { from, to, id, exp: Number(exp), secret };
}

/** The credential's text (tests, and the shape Terraform writes). */
export function formatBootstrapCredential(c: BootstrapCredential): string {
  return [BOOTSTRAP_PREFIX, c.from, c.to, c.id, String(c.exp), c.secret].join('.');
}

/**
 * Checks a bootstrap key's text (the key file's contents): exactly 64 hex digits after
 * trimming. Returns the trimmed text, which is what the derivation hashes, verbatim.
 */
export function parseBootstrapKey(text: string, where = 'bootstrap key'): string {
  const key = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(key)) {
    throw new CausewayError(ErrorCodes.CONFIG_INVALID,
      `${where}: must hold exactly 64 hex digits (32 random bytes, such as Terraform's random_id.hex), found ${key.length} characters${/^[0-9a-fA-F]*$/.test(key) ? '' : ' that are not all hex'}`);
  }
  return key;
}

/** The credential's secret as the dialled gateway derives it from its key (the formula above). */
export function deriveBootstrapSecret(keyHex: string, c: Pick<BootstrapCredential, 'from' | 'to' | 'id' | 'exp'>): string {
  const scope = sha256Hex(`${DERIVATION_LABEL}\n${c.from}\n${c.to}\n${c.id}\n${String(c.exp)}`);
  return sha256Hex(`${keyHex}\n${scope}`);
}
