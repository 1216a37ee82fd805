import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { CausewayError, ErrorCodes, describeError, readOptional, silentLogger, writeAtomic, type Logger } from '../../registry/index.js';
import {
  TrustStore, buildCsr, decodeBundle, encodeBundle, newKeyPair, parseJoinToken, parseSpiffeId,
  type Svid, type SvidSource, type TrustBundle,
} from '../../federation/index.js';
import { fetchBundle, identityRequest } from './identity-request.js';

export const AGENT_KEY_FILE = 'agent-key.pem';
export const AGENT_SVID_FILE = 'agent-svid.pem';
export const AGENT_STATE_FILE = 'agent-state.json';

export interface AgentIdentityOptions {
  /** Where the key (mode 0600), the SVID and the bundle are kept. */
  dataDir: string;
  /** The one-time join token's file; read only when the data dir holds no usable SVID. */
  joinTokenFile?: string | undefined;
  /** The identity to ask for; default the token's grant when it is one exact SPIFFE ID. */
  identity?: string | undefined;
  /** The identity listener (host:port) to use instead of the one in the token. */
  identityAddress?: string | undefined;
  /** Renew when this share of the SVID's lifetime has passed. Default 0.5. */
  renewAt?: number;
  /** Retry a failed renewal after this long (doubling to 60 s). Default 2000 ms. */
  retryMs?: number;
  requestTimeoutMs?: number;
  logger?: Logger;
}

/** What is kept next to the key: enough to renew and to reach the gateway again after a restart. */
interface AgentState {
  v: 1;
  trustDomain: string;
  spiffeId: string;
  /** host:port of the gateway's identity listener. */
  identityAddress: string;
  /** The trust domain's bundle (SPIFFE bundle JSON). */
  bundle: string;
  /** The host name the join token was minted for, if it named one. */
  host?: string;
}

/**
 * The agent's identity: its private key, made on this host and never sent (design brief:
 * "the private key never leaves the host"), its X.509-SVID, and its trust domain's bundle.
 * The first SVID comes from the gateway's identity listener by CSR with a one-time join
 * token, over TLS pinned to the bundle the token carries; each renewal is a new key and CSR
 * authenticated by the SVID in force, at half its lifetime, retried with backoff until it
 * expires. Everything is persisted (key 0600) so a restarted agent needs no new token.
 */
export class AgentIdentity implements SvidSource {
  readonly trust = new TrustStore();
  private readonly logger: Logger;
  private readonly listeners = new Set<(svid: Svid) => void>();
  private svid!: Svid;
  private state!: AgentState;
  private timer: NodeJS.Timeout | undefined;
  private bundleTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;

  private constructor(private readonly options: AgentIdentityOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'agent-identity' });
  }

  /** Loads the persisted identity, or joins with the token when there is none (or it expired). */
  static async open(options: AgentIdentityOptions): Promise<AgentIdentity> {
    const identity = new AgentIdentity(options);
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    if (!(await identity.restore())) await identity.join();
    identity.schedule();
    identity.scheduleBundleRefresh();
    return identity;
  }

  get trustDomain(): string {
    return this.state.trustDomain;
  }

  get spiffeId(): string {
    return this.state.spiffeId;
  }

  /** The host name the join token named (`token create --agent HOST`), if any. */
  get host(): string | undefined {
    return this.state.host;
  }

  /** host:port of the gateway's identity listener (the agent channel is on it too). */
  get identityAddress(): string {
    return this.options.identityAddress ?? this.state.identityAddress;
  }

  current(): Svid {
    return this.svid;
  }

  onRotate(listener: (svid: Svid) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The bundle of our own trust domain (what the gateway and the sidecar hop are checked against). */
  bundle(): TrustBundle {
    const bundle = this.trust.get(this.state.trustDomain);
    if (bundle === undefined) throw new CausewayError(ErrorCodes.INTERNAL, 'the agent holds no bundle of its trust domain');
    return bundle;
  }

  /** Renews now (and reschedules); what the renewal timer runs. */
  async renew(): Promise<void> {
    const key = newKeyPair();
    const answer = await identityRequest({
      address: this.identityAddress, trustDomain: this.state.trustDomain, roots: this.bundle().rootsPem,
      clientSvid: this.svid, body: { csr: buildCsr(key.privateKey, this.state.spiffeId), spiffeId: this.state.spiffeId },
      timeoutMs: this.options.requestTimeoutMs ?? 10_000,
    });
    await this.adopt(key.privateKeyPem, answer, this.state.identityAddress);
    this.logger.info({ spiffeId: this.svid.spiffeId, notAfter: this.svid.notAfter.toISOString() }, 'SVID renewed');
  }

  /**
   * Reads the bundle endpoint again (at the bundle's refresh hint): a CA rotation publishes
   * the new root there a publish window before it signs, so the agent trusts the gateway's
   * next certificate before it sees one. A stale or unreadable answer changes nothing.
   */
  async refreshBundle(): Promise<boolean> {
    const text = await fetchBundle({
      address: this.identityAddress, trustDomain: this.state.trustDomain, roots: this.bundle().rootsPem,
      clientSvid: this.svid, timeoutMs: this.options.requestTimeoutMs ?? 10_000,
    });
    if (!this.trust.set(decodeBundle(this.state.trustDomain, text))) return false;
    this.state = { ...this.state, bundle: text };
    await writeAtomic(this.file(AGENT_STATE_FILE), `${JSON.stringify(this.state, null, 2)}\n`, 0o600);
    this.logger.info({ sequence: this.bundle().sequence }, 'trust bundle updated');
    return true;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.bundleTimer !== undefined) clearTimeout(this.bundleTimer);
    this.listeners.clear();
  }

  private file(name: string): string {
    return path.join(this.options.dataDir, name);
  }

  /** The persisted identity, if there is one whose SVID is still valid. */
  private async restore(): Promise<boolean> {
    const [stateText, keyPem, chainPem] = await Promise.all([
      readOptional(this.file(AGENT_STATE_FILE)), readOptional(this.file(AGENT_KEY_FILE)), readOptional(this.file(AGENT_SVID_FILE)),
    ]);
    if (stateText === undefined || keyPem === undefined || chainPem === undefined) return false;
    let state: AgentState;
    let svid: Svid;
    try {
      state = JSON.parse(stateText) as AgentState;
      if (state.v !== 1 || typeof state.spiffeId !== 'string' || typeof state.identityAddress !== 'string') throw new Error('unknown state format');
      svid = svidOf(chainPem, keyPem);
      this.trust.set(decodeBundle(state.trustDomain, state.bundle));
    } catch (err) {
      throw new CausewayError(ErrorCodes.STORE_CORRUPT, `${this.options.dataDir}: the agent's saved identity cannot be read: ${describeError(err)}; remove ${AGENT_STATE_FILE} to join again with a new token`);
    }
    if (svid.notAfter.getTime() <= Date.now()) {
      this.logger.warn({ spiffeId: svid.spiffeId, notAfter: svid.notAfter.toISOString() }, 'the saved SVID has expired; joining again with the join token');
      return false;
    }
    this.state = state;
    this.svid = svid;
    this.logger.info({ spiffeId: svid.spiffeId, notAfter: svid.notAfter.toISOString() }, 'identity restored from the data dir');
    return true;
  }

  /** First SVID: join token + CSR, TLS pinned to the token's bundle. */
  private async join(): Promise<void> {
    const file = this.options.joinTokenFile;
    if (file === undefined) {
      throw new CausewayError(ErrorCodes.CONFIG_INVALID, `${this.options.dataDir} holds no valid SVID and no joinTokenFile is configured: create a token with \`causeway token create --agent <host> --identity <SPIFFE ID>\``);
    }
    let text: string;
    try {
      text = (await readFile(file, 'utf8')).trim();
    } catch (err) {
      throw new CausewayError(ErrorCodes.CONFIG_READ, `joinTokenFile ${file}: cannot read: ${describeError(err)}`, { cause: err });
    }
    const token = parseJoinToken(text, Date.now());
    const spiffeId = this.options.identity ?? (token.identity.endsWith('/*') ? undefined : token.identity);
    if (spiffeId === undefined) {
      throw new CausewayError(ErrorCodes.CONFIG_INVALID, `identity: the join token grants ${token.identity}; name the identity to ask for in the agent config`);
    }
    if (parseSpiffeId(spiffeId).trustDomain !== token.trustDomain) {
      throw new CausewayError(ErrorCodes.CONFIG_INVALID, `identity: ${spiffeId} is outside the token's trust domain ${token.trustDomain}`);
    }
    const bundle = decodeBundle(token.trustDomain, token.bundle);
    const address = this.options.identityAddress ?? token.address;
    // The key exists on disk (0600) before anything is sent: a crash after issuance loses no key.
    const key = newKeyPair();
    await writeAtomic(this.file(AGENT_KEY_FILE), key.privateKeyPem, 0o600);
    const answer = await identityRequest({
      address, trustDomain: token.trustDomain, roots: bundle.rootsPem, bearer: text,
      body: { csr: buildCsr(key.privateKey, spiffeId), spiffeId }, timeoutMs: this.options.requestTimeoutMs ?? 10_000,
    });
    this.state = {
      v: 1, trustDomain: token.trustDomain, spiffeId, identityAddress: token.address, bundle: token.bundle,
      ...(answer.agent === undefined ? {} : { host: answer.agent }),
    };
    this.trust.set(bundle);
    await this.adopt(key.privateKeyPem, answer, token.address);
    this.logger.info({ spiffeId, gateway: address, notAfter: this.svid.notAfter.toISOString() }, 'joined: SVID issued by CSR');
  }

  /** Takes an issued SVID (and the bundle that came with it), persists, and tells the listeners. */
  private async adopt(keyPem: string, answer: { certChainPem: string; bundle: string; spiffeId: string }, identityAddress: string): Promise<void> {
    const svid = svidOf(answer.certChainPem, keyPem);
    if (svid.spiffeId !== this.state.spiffeId) {
      throw new CausewayError(ErrorCodes.SVID_INVALID, `the gateway issued ${svid.spiffeId}, not the ${this.state.spiffeId} asked for`);
    }
    const bundle = decodeBundle(this.state.trustDomain, answer.bundle);
    // A bundle may only move forward (CW_BUNDLE_STALE otherwise); a rotation arrives this way too.
    this.trust.set(bundle);
    this.state = { ...this.state, identityAddress, bundle: encodeBundle(this.trust.get(this.state.trustDomain) ?? bundle) };
    await writeAtomic(this.file(AGENT_KEY_FILE), keyPem, 0o600);
    await writeAtomic(this.file(AGENT_SVID_FILE), answer.certChainPem, 0o644);
    await writeAtomic(this.file(AGENT_STATE_FILE), `${JSON.stringify(this.state, null, 2)}\n`, 0o600);
    const first = (this.svid as Svid | undefined) === undefined;
    this.svid = svid;
    if (!first) for (const listener of this.listeners) listener(svid);
  }

  private scheduleBundleRefresh(): void {
    if (this.closed) return;
    this.bundleTimer = setTimeout(() => {
      this.refreshBundle().catch((err: unknown) => {
        this.logger.warn({ err: describeError(err) }, 'trust bundle refresh failed; retrying at the next hint');
      }).finally(() => this.scheduleBundleRefresh());
    }, refreshDelayMs(this.bundle().refreshHintSeconds));
    this.bundleTimer.unref();
  }

  private schedule(): void {
    if (this.closed) return;
    const { notBefore, notAfter } = this.svid;
    const lifetime = notAfter.getTime() - notBefore.getTime();
    const due = this.failures === 0
      ? notBefore.getTime() + lifetime * (this.options.renewAt ?? 0.5) - Date.now()
      : Math.min(60_000, (this.options.retryMs ?? 2000) * 2 ** (this.failures - 1));
    this.timer = setTimeout(() => {
      this.renew().then(() => {
        this.failures = 0;
      }, (err: unknown) => {
        this.failures += 1;
        const left = this.svid.notAfter.getTime() - Date.now();
        this.logger[left > 0 ? 'warn' : 'error']({ err: describeError(err), expiresInMs: left, attempt: this.failures }, 'SVID renewal failed; retrying');
      }).finally(() => this.schedule());
    }, Math.max(0, due));
    this.timer.unref();
  }
}

/** Between 5 s and 1 h, whatever the bundle's hint says. */
function refreshDelayMs(hintSeconds: number): number {
  return Math.min(3_600_000, Math.max(5_000, hintSeconds * 1000));
}

function svidOf(chainPem: string, keyPem: string): Svid {
  const leaf = new X509Certificate(chainPem);
  if (!leaf.checkPrivateKey(createPrivateKey(keyPem))) throw new CausewayError(ErrorCodes.SVID_INVALID, 'the SVID does not belong to the agent key');
  const uri = (leaf.subjectAltName ?? '').split(', ').find((s) => s.startsWith('URI:'))?.slice(4);
  if (uri === undefined) throw new CausewayError(ErrorCodes.SVID_INVALID, 'the SVID has no URI SAN');
  return { spiffeId: parseSpiffeId(uri).uri, certChainPem: chainPem, keyPem, notBefore: new Date(leaf.validFrom), notAfter: new Date(leaf.validTo) };
}
