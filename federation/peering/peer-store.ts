import { CausewayError, ErrorCodes, NAME_PATTERN, validatePeerLabels, type Store } from '../../registry/index.js';
import { isValidTrustDomain } from '../trust/index.js';
import { hostPortProblem } from './address.js';

/**
 * Our side of a peering: 'dialer' — we redeemed the peer's token and open the link to its
 * federation address; 'acceptor' — the peer redeemed our token and dials us.
 */
export type PeerRole = 'dialer' | 'acceptor';

/** One peering as persisted in the 'peers' store entry. */
export interface PeerRecord {
  name: string;
  cluster: string;
  trustDomain: string;
  /** The peer's SPIFFE trust bundle JSON (latest received), restored into the TrustStore on start. */
  bundle: string;
  /** Where we dial it (dialers only). */
  federationAddress?: string;
  role: PeerRole;
  /** ms since the epoch. */
  addedAt: number;
  /** The peer gateway's SPIFFE ID as of the redemption (informational). */
  gatewayId?: string;
  /**
   * Labels our operator gave the peering (`peer add --label`, or `peer token --label` for
   * the peer that redeems the token). With the peer's announced cloud and region they are
   * what `exportTo: ["key=value"]` selectors match (registry/export-scope.ts).
   */
  labels?: Record<string, string>;
  /**
   * ms since the epoch when the PEER told us it removed the peering (a Removed link message).
   * The record stays, untrusted and not dialled, so `peer list` shows what happened, until
   * our operator removes it too or a new peering with that cluster replaces it.
   */
  removedAt?: number;
  /** What the peer said (printable, at most 200 characters). */
  removedReason?: string;
}

/**
 * A token this gateway redeemed, remembered until it expires so that presenting it again is
 * refused locally as CW_TOKEN_USED — even when the issuer is unreachable or has moved.
 */
export interface RedeemedToken {
  id: string;
  /** Unix seconds. */
  exp: number;
}

/**
 * A bootstrap credential this gateway accepted (it was the `to`), kept past its expiry so
 * that it is refused as CW_TOKEN_USED even by a restarted gateway. It is saved in the same
 * write as the peering it made: a crash can never leave one without the other.
 */
export interface AcceptedBootstrap {
  id: string;
  /** Unix seconds. */
  exp: number;
  /** The cluster that presented it. */
  from: string;
  /** ms since the epoch. */
  usedAt: number;
}

export interface PeersState {
  peers: PeerRecord[];
  redeemedTokens: RedeemedToken[];
  acceptedBootstrap: AcceptedBootstrap[];
}

interface PeersFile {
  version: 1;
  peers: PeerRecord[];
  redeemedTokens?: RedeemedToken[];
  acceptedBootstrap?: AcceptedBootstrap[];
}

/** Loads and saves the peer list; a malformed file is CW_STORE_CORRUPT naming the entry. */
export class PeerStore {
  constructor(
    private readonly store: Store,
    private readonly name = 'peers',
  ) {}

  async load(): Promise<PeersState> {
    const value = await this.store.load<unknown>(this.name);
    if (value === undefined) return { peers: [], redeemedTokens: [], acceptedBootstrap: [] };
    if (value === null || typeof value !== 'object' || (value as PeersFile).version !== 1 || !Array.isArray((value as PeersFile).peers)) {
      throw new CausewayError(ErrorCodes.STORE_CORRUPT, `${this.name}: expected {"version": 1, "peers": [...]}`);
    }
    const { peers, redeemedTokens = [], acceptedBootstrap = [] } = value as PeersFile;
    const errors: string[] = [];
    peers.forEach((p, i) => peerProblems(p, `peers[${i}]`, errors));
    const names = new Set<string>();
    peers.forEach((p, i) => {
      if (names.has(p.name)) errors.push(`peers[${i}].name: "${p.name}" appears twice`);
      names.add(p.name);
    });
    if (!Array.isArray(redeemedTokens)) errors.push('redeemedTokens: must be a list');
    else {
      redeemedTokens.forEach((t, i) => {
        if (t === null || typeof t !== 'object' || typeof t.id !== 'string' || !Number.isSafeInteger(t.exp)) {
          errors.push(`redeemedTokens[${i}]: must be {id, exp}`);
        }
      });
    }
    if (!Array.isArray(acceptedBootstrap)) errors.push('acceptedBootstrap: must be a list');
    else {
      acceptedBootstrap.forEach((a, i) => {
        if (a === null || typeof a !== 'object' || typeof a.id !== 'string' || !Number.isSafeInteger(a.exp)
          || typeof a.from !== 'string' || !Number.isSafeInteger(a.usedAt)) {
          errors.push(`acceptedBootstrap[${i}]: must be {id, exp, from, usedAt}`);
        }
      });
    }
    if (errors.length > 0) {
      throw new CausewayError(ErrorCodes.STORE_CORRUPT, `${this.name}: ${errors[0]}`, { details: errors });
    }
    return { peers, redeemedTokens, acceptedBootstrap };
  }

  async save(state: PeersState): Promise<void> {
    const file: PeersFile = {
      version: 1, peers: [...state.peers], redeemedTokens: [...state.redeemedTokens], acceptedBootstrap: [...state.acceptedBootstrap],
    };
    await this.store.save(this.name, file);
  }
}

function peerProblems(p: PeerRecord, path: string, errors: string[]): void {
  if (p === null || typeof p !== 'object') {
    errors.push(`${path}: is not a peer record`);
    return;
  }
  const label = (field: 'name' | 'cluster'): void => {
    if (typeof p[field] !== 'string' || !NAME_PATTERN.test(p[field])) errors.push(`${path}.${field}: ${JSON.stringify(p[field])} is not a DNS-1123 label`);
  };
  label('name');
  label('cluster');
  if (typeof p.trustDomain !== 'string' || !isValidTrustDomain(p.trustDomain)) errors.push(`${path}.trustDomain: is not a trust domain`);
  if (typeof p.bundle !== 'string') errors.push(`${path}.bundle: must be a string`);
  if (p.role !== 'dialer' && p.role !== 'acceptor') errors.push(`${path}.role: must be "dialer" or "acceptor"`);
  if (p.role === 'dialer' || p.federationAddress !== undefined) {
    const problem = typeof p.federationAddress === 'string' ? hostPortProblem(p.federationAddress) : 'is missing';
    if (problem !== undefined) errors.push(`${path}.federationAddress: ${problem}`);
  }
  if (!Number.isSafeInteger(p.addedAt)) errors.push(`${path}.addedAt: must be ms since the epoch`);
  if (p.gatewayId !== undefined && typeof p.gatewayId !== 'string') errors.push(`${path}.gatewayId: must be a string`);
  if (p.labels !== undefined) validatePeerLabels(p.labels, `${path}.labels`, errors);
  if (p.removedAt !== undefined && !Number.isSafeInteger(p.removedAt)) errors.push(`${path}.removedAt: must be ms since the epoch`);
  if (p.removedReason !== undefined && typeof p.removedReason !== 'string') errors.push(`${path}.removedReason: must be a string`);
}
