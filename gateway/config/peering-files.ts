import { readFile, stat } from 'node:fs/promises';
import { CausewayError, ErrorCodes, describeError, type ErrorCode } from '../../registry/index.js';
import { parseBootstrapCredential, parseBootstrapKey, type BootstrapPeeringSpec } from '../../federation/index.js';
import type { PeeringConfig } from './validate-peering.js';

/** What the files named by `peering:` hold, checked. */
export interface PeeringMaterial {
  /** The bootstrap key's text (64 hex); absent without peering.bootstrapKeyFile. */
  bootstrapKey?: string;
  peers: BootstrapPeeringSpec[];
  /** Files others besides their owner may read (logged; not refused: a Kubernetes Secret volume may be so). */
  warnings: string[];
}

interface Problem {
  code: ErrorCode;
  message: string;
}

/**
 * Reads and checks the bootstrap key file and every credential file, at start and on each
 * reload (Terraform may rewrite them in place). Every problem is collected, each naming its
 * field and file; the first one's code is thrown (CW_CONFIG_READ unreadable, CW_CONFIG_INVALID
 * a bad key, CW_TOKEN_MALFORMED a bad credential, CW_TOKEN_WRONG_PEER a credential for
 * another pair) and nothing is applied. An expired credential is not a problem here: the
 * peering it was for may be made already (bootstrap-peerings.ts judges it).
 */
export async function readPeeringFiles(peering: PeeringConfig, cluster: string): Promise<PeeringMaterial> {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const read = async (file: string, field: string): Promise<string | undefined> => {
    try {
      const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
      if ((info.mode & 0o077) !== 0) warnings.push(`${field}: ${file} is readable by others besides its owner (mode ${(info.mode & 0o777).toString(8)}); 0600 is enough`);
      return text;
    } catch (err) {
      problems.push({ code: ErrorCodes.CONFIG_READ, message: `${field}: cannot read ${file}: ${describeError(err)}` });
      return undefined;
    }
  };
  const attempt = <T>(run: () => T): T | undefined => {
    try {
      return run();
    } catch (err) {
      problems.push({ code: err instanceof CausewayError ? err.code : ErrorCodes.CONFIG_INVALID, message: describeError(err) });
      return undefined;
    }
  };

  let bootstrapKey: string | undefined;
  if (peering.bootstrapKeyFile !== undefined) {
    const field = 'peering.bootstrapKeyFile';
    const text = await read(peering.bootstrapKeyFile, field);
    if (text !== undefined) bootstrapKey = attempt(() => parseBootstrapKey(text, `${field}: ${peering.bootstrapKeyFile ?? ''}`));
  }
  const peers: BootstrapPeeringSpec[] = [];
  for (const [i, entry] of peering.peers.entries()) {
    const field = `peering.peers[${i}].credentialFile`;
    const text = await read(entry.credentialFile, field);
    if (text === undefined) continue;
    const where = `${field}: ${entry.credentialFile}`;
    const credential = attempt(() => parseBootstrapCredential(text, where));
    if (credential === undefined) continue;
    if (credential.from !== cluster) {
      problems.push({ code: ErrorCodes.TOKEN_WRONG_PEER, message: `${where}: the credential is for cluster "${credential.from}" to present, and this gateway is "${cluster}"` });
    } else if (credential.to !== entry.name) {
      problems.push({ code: ErrorCodes.TOKEN_WRONG_PEER, message: `${where}: the credential is for dialling "${credential.to}", not "${entry.name}" (peering.peers[${i}].name)` });
    } else {
      peers.push({ name: entry.name, address: entry.address, credential });
    }
  }
  const first = problems[0];
  if (first !== undefined) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    throw new CausewayError(first.code, `${first.message}${more}`, { details: problems.map((p) => p.message) });
  }
  return { ...(bootstrapKey === undefined ? {} : { bootstrapKey }), peers, warnings };
}
