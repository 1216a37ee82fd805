import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';

export const ADMIN_TOKEN_FILE = 'admin.token';

/**
 * The bearer token that guards the admin API's mutating endpoints (minting peering
 * tokens, adding and removing peers). Created on first start in the data dir with mode
 * 0600, so only the gateway's own user — and the CLI run as that user — can act.
 */
export async function ensureAdminToken(dataDir: string): Promise<string> {
  const file = path.join(dataDir, ADMIN_TOKEN_FILE);
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(32).toString('base64url');
  const tmp = `${file}.tmp-${process.pid}`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(`${token}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  return token;
}

/**
 * Whether text has the shape of an admin token: one line of base64url (what
 * `ensureAdminToken` writes, 43 characters; at least 32 accepted, as on load). Anything else
 * — a PEM key, a YAML file — is refused by the CLI before it is sent or shown anywhere.
 */
export function isAdminTokenText(text: string): boolean {
  return /^[A-Za-z0-9_-]{32,512}$/.test(text);
}

/** Constant-time comparison of an `Authorization: Bearer …` header with the token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  // Hash both sides so the comparison runs on equal lengths whatever was sent.
  const given = createHash('sha256').update(header.slice(7).trim()).digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected);
}
