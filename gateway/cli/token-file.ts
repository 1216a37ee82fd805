import { open } from 'node:fs/promises';
import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';
import { isAdminTokenText } from '../admin/admin-token.js';

/** An admin token file is one short line; reading more than this says it is some other file. */
const MAX_TOKEN_FILE_BYTES = 1024;

function notAToken(what: string): CausewayError {
  // Never quote the contents: a wrong --token-file is often a key file (issue 8).
  return new CausewayError(ErrorCodes.USAGE,
    `${what} does not hold an admin token (one line of base64url, as the gateway writes to <dataDir>/admin.token); its contents are not shown`);
}

/**
 * Reads an admin token file. `required: false` means a missing file is no token (the
 * default `<dataDir>/admin.token` of a gateway that never started); any other failure, or a
 * file that is not a token, is CW_USAGE (exit 2) naming the file and never its contents.
 */
export async function readTokenFile(file: string, required: boolean): Promise<string | undefined> {
  let text: string;
  try {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(MAX_TOKEN_FILE_BYTES + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      if (bytesRead > MAX_TOKEN_FILE_BYTES) throw notAToken(file);
      text = buffer.subarray(0, bytesRead).toString('utf8').trim();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof CausewayError) throw err;
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CausewayError(ErrorCodes.USAGE, `cannot read admin token file ${file}: ${describeError(err)}`);
  }
  if (!isAdminTokenText(text)) throw notAToken(file);
  return text;
}

/** The token from $CAUSEWAY_ADMIN_TOKEN, held to the same shape as a token file. */
export function tokenFromEnv(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!isAdminTokenText(value.trim())) throw notAToken('$CAUSEWAY_ADMIN_TOKEN');
  return value.trim();
}
