import { readFile } from 'node:fs/promises';
import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';

/**
 * Reads the Kubernetes service account issuer's JWKS (what `kubectl get --raw
 * /openid/v1/jwks` prints) for issuance.kubernetes.jwksFile; the verifier checks its keys.
 */
export async function readJwks(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new CausewayError(ErrorCodes.CONFIG_READ, `issuance.kubernetes.jwksFile: cannot read ${file}: ${describeError(err)}`);
  }
}
