import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { CausewayError, ErrorCodes, NO_EVENTS, describeError, silentLogger, type EventSink, type Logger } from '../../registry/index.js';
import type { TrustEvent } from './trust-events.js';
import { readOptional, writeAtomic } from './ca-files.js';
import { legacyState, parseCaState, type AuthorityRecord, type CaStateFile } from './ca-state.js';
import {
  checkAuthorityMaterial, fingerprintOf, intermediateFromFiles, loadAuthority, type IntermediateSource, type OperatorIntermediate, type SigningAuthority,
} from './signing-authority.js';
import { parseSpiffeId } from './spiffe-id.js';
import { newKeyPair } from './certificate-builder.js';
import { BACKDATE_MS, createSelfSignedRoot, signLeaf } from './svid-signer.js';
import type { Svid, TrustBundle } from './types.js';

export interface IntermediateFiles {
  /** PEM: the intermediate that will sign SVIDs, then any intermediates above it. */
  certFile: string;
  keyFile: string;
  /** PEM: the organisation root(s) it chains to; they become this trust domain's bundle. */
  rootsFile: string;
}

export interface CertificateAuthorityOptions {
  dir: string;
  trustDomain: string;
  logger?: Logger;
  now?: () => number;
  /** Lifetime of self-managed roots (default 3650 days). */
  rootTtlDays?: number;
  /** How long a new root is published before it signs anything (default 300 s). */
  publishWindowSeconds?: number;
  /** The longest TTL any SVID of this domain may have; a superseded authority stays published this long (default 1 day). */
  maxSvidTtlSeconds?: number;
  /** `spiffe_refresh_hint` of the bundle (default 300 s). */
  refreshHintSeconds?: number;
  /** Sign with an operator-supplied intermediate under an organisation root instead of a self-managed root (files: intermediateFromFiles). */
  intermediate?: IntermediateSource | IntermediateFiles;
  /** Telemetry: each change of the bundle or of the signing authority (trust-events.ts). */
  events?: EventSink<TrustEvent>;
}

export interface IssuedCertificate {
  certPem: string;
  /** The leaf, then the intermediates a verifier needs up to (not including) the root. */
  certChainPem: string;
  notBefore: Date;
  notAfter: Date;
}

export interface AuthorityStatus {
  id: number;
  kind: AuthorityRecord['kind'];
  state: AuthorityRecord['state'];
  subject: string;
  fingerprint: string;
  notAfter: string;
  activateAt?: string;
  activatedAt?: string;
  retireAt?: string;
}

export interface CaStatus {
  trustDomain: string;
  sequence: number;
  refreshHintSeconds: number;
  authorities: AuthorityStatus[];
}

export type CaEvent = 'bundle' | 'activated';

const STATE_FILE = 'authorities.json';
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The CA of one trust domain. It signs X.509-SVIDs with exactly one active authority — a
 * self-managed root created here (default) or an operator's intermediate — and rotates
 * without a flag day: a new root is published in the bundle (higher `spiffe_sequence`)
 * a publish window BEFORE it signs anything, and a superseded one stays published until
 * every SVID it signed has expired (maxSvidTtl after it stopped signing).
 * State lives in `dir`: authorities.json, certificates, keys (mode 0600).
 */
export class CertificateAuthority {
  readonly trustDomain: string;
  private state: CaStateFile;
  private authorities: SigningAuthority[];
  private readonly options: Required<Omit<CertificateAuthorityOptions, 'intermediate' | 'logger'>> & { intermediate: IntermediateSource | undefined };
  private readonly logger: Logger;
  private readonly listeners = new Set<(event: CaEvent) => void>();
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(options: CertificateAuthorityOptions, state: CaStateFile, authorities: SigningAuthority[]) {
    this.trustDomain = options.trustDomain;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'ca', trustDomain: options.trustDomain });
    this.options = {
      dir: options.dir,
      trustDomain: options.trustDomain,
      now: options.now ?? Date.now,
      rootTtlDays: options.rootTtlDays ?? 3650,
      publishWindowSeconds: options.publishWindowSeconds ?? 300,
      maxSvidTtlSeconds: options.maxSvidTtlSeconds ?? 86400,
      refreshHintSeconds: options.refreshHintSeconds ?? 300,
      events: options.events ?? NO_EVENTS,
      intermediate: options.intermediate === undefined ? undefined
        : 'read' in options.intermediate ? options.intermediate : intermediateFromFiles(options.intermediate),
    };
    this.state = state;
    this.authorities = authorities;
  }

  /** Loads the CA in `dir`, creating it on first start; due rotation steps are applied at once. */
  static async loadOrCreate(options: CertificateAuthorityOptions): Promise<CertificateAuthority> {
    parseSpiffeId(`spiffe://${options.trustDomain}`);
    const now = (options.now ?? Date.now)();
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    const stateFile = path.join(options.dir, STATE_FILE);
    let ca: CertificateAuthority;
    try {
      const stored = await readOptional(stateFile);
      const legacyKey = stored === undefined ? await readOptional(path.join(options.dir, 'root.key')) : undefined;
      let state: CaStateFile;
      if (stored !== undefined) state = parseCaState(stored, stateFile);
      else if (legacyKey !== undefined) state = await legacyState(options.dir, options.trustDomain, now);
      else state = { version: 1, trustDomain: options.trustDomain, sequence: 1, nextId: 1, authorities: [] };
      if (state.trustDomain !== options.trustDomain) {
        throw new Error(`${stateFile} is the CA of trust domain "${state.trustDomain}", not of trust domain "${options.trustDomain}"`);
      }
      const authorities = await Promise.all(state.authorities.map((record) => loadAuthority(options.dir, options.trustDomain, record, now)));
      ca = new CertificateAuthority(options, state, authorities);
    } catch (err) {
      if (err instanceof CausewayError && err.code === ErrorCodes.CA_INIT) throw err;
      throw new CausewayError(ErrorCodes.CA_INIT, `cannot load CA in ${options.dir}: ${describeError(err)}`, { cause: err });
    }
    await ca.initialise();
    return ca;
  }

  private async initialise(): Promise<void> {
    if (this.authorities.length === 0) {
      // First start: nothing was ever signed, so the first authority is active at once.
      if (this.options.intermediate !== undefined) await this.adoptIntermediate({ activateNow: true });
      else await this.createRoot({ activateNow: true });
      await this.advance();
      return;
    }
    const now = this.options.now();
    const active = this.active();
    const expiredAt = new Date(active.signingCert.validTo).getTime();
    // An expired active authority can sign nothing: replace it at once (nothing valid to protect).
    const expired = expiredAt <= now;
    if (this.options.intermediate !== undefined) {
      let supplied: OperatorIntermediate | undefined;
      try {
        supplied = await this.options.intermediate.read();
      } catch (err) {
        // The held authority still signs: an unreachable source (API server down) is no reason not to start.
        if (expired) throw err;
        this.logger.warn({ source: this.options.intermediate.describe, reason: describeError(err) }, 'cannot read the operator intermediate; signing with the one held');
      }
      const held = supplied !== undefined && this.authorities.some((a) => a.signingCertPem.trim() === supplied.signingCertPem.trim());
      // New operator material since the last start: take it up as a rotation would.
      if (supplied !== undefined && !held) await this.adoptIntermediate({ activateNow: expired }, supplied);
      else if (expired) {
        throw new CausewayError(ErrorCodes.CA_INIT, `the active intermediate expired at ${new Date(expiredAt).toISOString()}; supply a new one in ${this.options.intermediate.describe}`);
      }
    } else if (expired) {
      this.logger.warn({ expiredAt: new Date(expiredAt).toISOString() }, 'the active root expired; a new root signs at once');
      await this.createRoot({ activateNow: true });
    } else {
      await this.persist({ ...this.state, authorities: this.authorities.map((a) => a.record) });
    }
    await this.removeOrphanKeys();
    await this.advance();
  }

  /** Keys left by a crash between saving the state and deleting a retired key, or before a state was saved. */
  private async removeOrphanKeys(): Promise<void> {
    const referenced = new Set(this.authorities.map((a) => a.record.keyFile));
    for (const name of await readdir(this.options.dir)) {
      if (!name.endsWith('.key') || referenced.has(name)) continue;
      await rm(path.join(this.options.dir, name), { force: true });
      this.logger.info({ file: name }, 'removed a CA key no authority refers to');
    }
  }

  // --- reading ------------------------------------------------------------------------------

  /** The trust bundle: the roots of every authority not yet retired, active first, never duplicated. */
  bundle(): TrustBundle {
    return { trustDomain: this.trustDomain, sequence: this.state.sequence, refreshHintSeconds: this.options.refreshHintSeconds, rootsPem: rootsOf(this.authorities) };
  }

  /** The active authority's root (self-managed) or first organisation root. */
  get rootCertificatePem(): string {
    return this.active().rootsPem[0] ?? '';
  }

  status(): CaStatus {
    const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
    return {
      trustDomain: this.trustDomain,
      sequence: this.state.sequence,
      refreshHintSeconds: this.options.refreshHintSeconds,
      authorities: this.authorities.map(({ record, signingCert }) => {
        const status: AuthorityStatus = {
          id: record.id, kind: record.kind, state: record.state, subject: signingCert.subject.replace(/\n/g, ', '),
          fingerprint: fingerprintOf(signingCert), notAfter: new Date(signingCert.validTo).toISOString(),
        };
        const activateAt = iso(record.activateAt);
        const activatedAt = iso(record.activatedAt);
        const retireAt = iso(record.retireAt);
        if (activateAt !== undefined && record.state === 'prepared') status.activateAt = activateAt;
        if (activatedAt !== undefined) status.activatedAt = activatedAt;
        if (retireAt !== undefined) status.retireAt = retireAt;
        return status;
      }),
    };
  }

  /** 'bundle' when the published roots change; 'activated' when a new authority starts signing. */
  onChange(listener: (event: CaEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // --- issuing ------------------------------------------------------------------------------

  /**
   * Signs an X.509-SVID for a public key with the active authority (X509-SVID §2, §4): the ID
   * must be in this trust domain and name a workload (non-empty path); the TTL is capped by
   * maxSvidTtl and by the signing chain's own expiry.
   */
  issueSvid(request: { spiffeId: string; publicKeyPem?: string; publicKey?: KeyObject; ttlSeconds: number; dnsNames?: string[] }): IssuedCertificate {
    const id = parseSpiffeId(request.spiffeId);
    if (id.trustDomain !== this.trustDomain) {
      throw new CausewayError(ErrorCodes.SVID_INVALID, `${id.uri} is outside trust domain ${this.trustDomain}; this CA signs only its own domain`);
    }
    if (id.path === '') throw new CausewayError(ErrorCodes.SVID_INVALID, 'a workload SVID needs a path (X509-SVID §2)');
    if (!Number.isInteger(request.ttlSeconds) || request.ttlSeconds <= 0 || request.ttlSeconds > this.options.maxSvidTtlSeconds) {
      throw new CausewayError(ErrorCodes.SVID_INVALID, `ttlSeconds must be a whole number from 1 to ${this.options.maxSvidTtlSeconds}, got ${request.ttlSeconds}`);
    }
    let publicKey: KeyObject;
    try {
      publicKey = request.publicKey ?? createPublicKey(request.publicKeyPem ?? '');
    } catch (err) {
      throw new CausewayError(ErrorCodes.SVID_INVALID, `public key is not a PEM public key: ${describeError(err)}`);
    }
    const authority = this.active();
    const now = this.options.now();
    const chainEnd = Math.min(...[authority.signingCert, ...authority.upperChainPem.map((p) => new X509Certificate(p))].map((c) => new Date(c.validTo).getTime()));
    if (chainEnd <= now) {
      throw new CausewayError(ErrorCodes.CA_ROTATION, `the signing authority of ${this.trustDomain} expired at ${new Date(chainEnd).toISOString()}; rotate the CA`);
    }
    const notBefore = new Date(now - BACKDATE_MS);
    const notAfter = new Date(Math.min(now + request.ttlSeconds * 1000, chainEnd));
    let certPem: string;
    try {
      certPem = signLeaf({
        spiffeId: id.uri, publicKey, dnsNames: request.dnsNames ?? [], notBefore, notAfter,
        issuerCertDer: authority.signingCert.raw, issuerKey: authority.key,
      });
    } catch (err) {
      throw new CausewayError(ErrorCodes.SVID_INVALID, `cannot sign for this public key: ${describeError(err)}`);
    }
    const intermediates = authority.record.kind === 'intermediate' ? [authority.signingCertPem, ...authority.upperChainPem] : [];
    return { certPem, certChainPem: [certPem, ...intermediates].join(''), notBefore, notAfter };
  }

  /** A new key pair and its SVID; the key stays in memory. */
  issueKeyAndSvid(spiffeId: string, ttlSeconds: number): Svid {
    const key = newKeyPair('ec-p256');
    const issued = this.issueSvid({ spiffeId, publicKey: createPublicKey(key.privateKey), ttlSeconds });
    return { spiffeId: parseSpiffeId(spiffeId).uri, certChainPem: issued.certChainPem, keyPem: key.privateKeyPem, notBefore: issued.notBefore, notAfter: issued.notAfter };
  }

  // --- rotation -----------------------------------------------------------------------------

  /**
   * Starts a rotation. Self-managed: a new root is created and published now; it starts
   * signing after the publish window. Intermediate: the operator's files are read again; an
   * intermediate under a root already published signs at once, one under a new root waits
   * out the publish window like a new self-managed root.
   */
  rotate(): Promise<CaStatus> {
    return this.serialised(async () => {
      this.assertOpen();
      const prepared = this.authorities.find((a) => a.record.state === 'prepared');
      if (prepared !== undefined) {
        throw new CausewayError(ErrorCodes.CA_ROTATION,
          `a rotation is already in progress: authority ${prepared.record.id} starts signing at ${new Date(prepared.record.activateAt ?? 0).toISOString()}`);
      }
      if (this.options.intermediate !== undefined) await this.adoptIntermediate({ activateNow: false });
      else await this.createRoot({ activateNow: false });
      await this.advanceNow();
      return this.status();
    });
  }

  /**
   * Takes up operator material its source announced by itself (a renewed Kubernetes Secret)
   * as `rotate()` would take it up from the source: checked whole before anything is written
   * (a refusal changes nothing), signing at once under a root already published and after the
   * publish window under a new one. Material the CA signs with, or is about to, is no change
   * (undefined). Unlike `rotate()`, material arriving while a rotation is prepared supersedes
   * the prepared authority, as a restart would, keeping its publish clock when the roots agree.
   */
  adoptSupplied(material: OperatorIntermediate): Promise<CaStatus | undefined> {
    return this.serialised(async () => {
      this.assertOpen();
      if (this.options.intermediate === undefined) {
        throw new CausewayError(ErrorCodes.CA_ROTATION, `trust domain ${this.trustDomain} signs with a self-managed root; it takes no operator intermediate`);
      }
      const held = this.authorities.some((a) => a.record.state !== 'retiring' && a.signingCertPem.trim() === material.signingCertPem.trim());
      if (held) return undefined;
      await this.adoptIntermediate({ activateNow: false }, material);
      await this.advanceNow();
      return this.status();
    });
  }

  /** Applies every rotation step that is due (also run by the CA's own timer). */
  advance(): Promise<void> {
    return this.serialised(() => this.advanceNow());
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.listeners.clear();
  }

  private async advanceNow(): Promise<void> {
    if (this.closed) return;
    const now = this.options.now();
    let next = this.authorities;
    const prepared = next.find((a) => a.record.state === 'prepared' && (a.record.activateAt ?? 0) <= now);
    if (prepared !== undefined) {
      next = next.map((a) => (a === prepared ? { ...a, record: { ...a.record, state: 'active', activatedAt: now } }
        : a.record.state === 'active' ? this.retiring(a, now) : a));
    }
    const retired = next.filter((a) => a.record.state === 'retiring' && (a.record.retireAt ?? 0) <= now);
    next = next.filter((a) => !retired.includes(a));
    if (next === this.authorities) {
      this.schedule();
      return;
    }
    const events = await this.commit(next, this.state.nextId);
    if (prepared !== undefined) this.logger.info({ authority: prepared.record.id }, 'new CA authority is now signing');
    for (const a of retired) {
      await rm(path.join(this.options.dir, a.record.keyFile), { force: true });
      this.logger.info({ authority: a.record.id }, 'CA authority retired: every SVID it signed has expired');
    }
    this.schedule();
    this.emitAll(events);
  }

  private retiring(authority: SigningAuthority, now: number): SigningAuthority {
    return { ...authority, record: { ...authority.record, state: 'retiring', retireAt: now + this.options.maxSvidTtlSeconds * 1000 } };
  }

  private async createRoot(options: { activateNow: boolean }): Promise<void> {
    const now = this.options.now();
    const id = this.state.nextId;
    // The first root keeps the historical file names root.crt / root.key.
    const base = id === 1 ? 'root' : `root-${id}`;
    // ECDSA P-256: quick to make and to sign with (an RSA-2048 key takes ~50 ms to generate).
    const key = newKeyPair('ec-p256');
    const certPem = createSelfSignedRoot(this.trustDomain, key, now, this.options.rootTtlDays, `root ${id}`);
    await writeAtomic(path.join(this.options.dir, `${base}.key`), key.privateKeyPem, 0o600);
    await writeAtomic(path.join(this.options.dir, `${base}.crt`), certPem, 0o644);
    const record: AuthorityRecord = {
      id, kind: 'self-managed', state: options.activateNow ? 'active' : 'prepared',
      certFile: `${base}.crt`, keyFile: `${base}.key`, publishedAt: now,
      ...(options.activateNow ? { activatedAt: now } : { activateAt: now + this.options.publishWindowSeconds * 1000 }),
    };
    await this.addAuthority(await loadAuthority(this.options.dir, this.trustDomain, record, now), options.activateNow);
    this.logger.info({ authority: id, activateAt: record.activateAt }, options.activateNow ? 'created trust domain root CA' : 'new root published; it signs after the publish window');
  }

  private async adoptIntermediate(options: { activateNow: boolean }, supplied?: OperatorIntermediate): Promise<void> {
    const source = this.options.intermediate;
    if (source === undefined) return;
    const now = this.options.now();
    const material = supplied ?? await source.read();
    if (this.authorities.some((a) => a.record.state !== 'retiring' && a.signingCertPem.trim() === material.signingCertPem.trim())) {
      throw new CausewayError(ErrorCodes.CA_ROTATION, `the intermediate in ${source.describe} is already in use; supply the new intermediate first`);
    }
    checkAuthorityMaterial({ what: source.describe, trustDomain: this.trustDomain, ...material, now });
    // Roots count as trusted only once published by an authority past its publish window: a
    // prepared one's roots are still on their way to consumers.
    const prepared = this.authorities.find((a) => a.record.state === 'prepared');
    const fingerprints = (list: readonly SigningAuthority[]): Set<string> => new Set(rootsOf(list).map((pem) => fingerprintOf(new X509Certificate(pem))));
    const trusted = fingerprints(this.authorities.filter((a) => a !== prepared));
    const wanted = material.rootsPem.map((pem) => fingerprintOf(new X509Certificate(pem)));
    const rootsKnown = this.authorities.length > 0 && wanted.every((f) => trusted.has(f));
    // Under roots every peer already trusts, the new intermediate can sign at once.
    const activateNow = options.activateNow || rootsKnown;
    // New material replacing a prepared authority whose roots it shares keeps that publish clock.
    const sharedClock = prepared !== undefined && wanted.every((f) => trusted.has(f) || fingerprints([prepared]).has(f));
    const activateAt = sharedClock ? (prepared.record.activateAt ?? now) : now + this.options.publishWindowSeconds * 1000;
    const id = this.state.nextId;
    const record: AuthorityRecord = {
      id, kind: 'intermediate', state: activateNow ? 'active' : 'prepared',
      certFile: `intermediate-${id}.crt`, keyFile: `intermediate-${id}.key`, rootsFile: `intermediate-${id}-roots.crt`, publishedAt: now,
      ...(activateNow ? { activatedAt: now } : { activateAt }),
    };
    await writeAtomic(path.join(this.options.dir, record.keyFile), material.keyPem, 0o600);
    await writeAtomic(path.join(this.options.dir, record.certFile), [material.signingCertPem, ...material.upperChainPem].join(''), 0o644);
    await writeAtomic(path.join(this.options.dir, record.rootsFile ?? ''), material.rootsPem.join(''), 0o644);
    await this.addAuthority(await loadAuthority(this.options.dir, this.trustDomain, record, now), activateNow, prepared);
    this.logger.info({ authority: id, activateAt: record.activateAt }, 'operator intermediate adopted');
  }

  /** Adds an authority (superseding a prepared one, if given); the previous active one retires if this one is active. */
  private async addAuthority(authority: SigningAuthority, activateNow: boolean, supersedes?: SigningAuthority): Promise<void> {
    const now = this.options.now();
    const kept = this.authorities.filter((a) => a !== supersedes).map((a) => (activateNow && a.record.state === 'active' ? this.retiring(a, now) : a));
    const events = await this.commit([...kept, authority], this.state.nextId + 1);
    if (supersedes !== undefined) this.logger.info({ authority: supersedes.record.id, by: authority.record.id }, 'a prepared authority was superseded before it signed');
    this.emitAll(events);
  }

  /**
   * Saves the next state, and only then adopts it: a failed write changes nothing in memory
   * or on disk (the CA keeps signing as before and no listener hears of a change).
   * Returns the events to emit: 'bundle' when the published roots changed (the sequence
   * goes up), 'activated' when another authority signs now.
   */
  private async commit(next: SigningAuthority[], nextId: number): Promise<Set<CaEvent>> {
    // The set of published roots, not their order (active first), decides a bundle change.
    const rootSet = (list: SigningAuthority[]): string => rootsOf(list).map((pem) => fingerprintOf(new X509Certificate(pem))).sort().join();
    const bundleChanged = rootSet(next) !== rootSet(this.authorities);
    const activeId = (list: SigningAuthority[]): number | undefined => list.find((a) => a.record.state === 'active')?.record.id;
    const state: CaStateFile = {
      ...this.state, nextId,
      sequence: this.state.sequence + (bundleChanged && this.authorities.length > 0 ? 1 : 0),
      authorities: next.map((a) => a.record),
    };
    await this.persist(state);
    const events = new Set<CaEvent>();
    if (bundleChanged) events.add('bundle');
    if (activeId(next) !== activeId(this.authorities)) events.add('activated');
    this.state = state;
    this.authorities = next;
    return events;
  }

  private async persist(state: CaStateFile): Promise<void> {
    try {
      await writeAtomic(path.join(this.options.dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`, 0o644);
    } catch (err) {
      throw new CausewayError(ErrorCodes.CA_ROTATION, `cannot save ${path.join(this.options.dir, STATE_FILE)}: ${describeError(err)}; nothing changed`, { cause: err });
    }
  }

  private emitAll(events: Set<CaEvent>): void {
    // 'bundle' first: peers and listeners must hold a new root before anything it signs appears.
    if (events.has('bundle')) this.emit('bundle');
    if (events.has('activated')) this.emit('activated');
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.closed) return;
    const due = this.authorities.flatMap((a) =>
      a.record.state === 'prepared' ? [a.record.activateAt ?? 0] : a.record.state === 'retiring' ? [a.record.retireAt ?? 0] : []);
    if (due.length === 0) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, Math.min(...due) - this.options.now()));
    this.timer = setTimeout(() => {
      this.advance().catch((err: unknown) => {
        this.logger.error({ reason: describeError(err) }, 'CA rotation step failed; retrying in 30 s');
        this.retryLater(30_000);
      });
    }, wait);
    this.timer.unref();
  }

  private retryLater(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.schedule(), ms);
    this.timer.unref();
  }

  private active(): SigningAuthority {
    const active = this.authorities.find((a) => a.record.state === 'active');
    if (active === undefined) throw new CausewayError(ErrorCodes.CA_INIT, `trust domain ${this.trustDomain} has no active CA authority`);
    return active;
  }

  private emit(event: CaEvent): void {
    this.options.events.publish({ type: 'ca.changed', trustDomain: this.trustDomain, change: event, sequence: this.state.sequence });
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ reason: describeError(err) }, 'CA listener failed');
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new CausewayError(ErrorCodes.CLOSED, 'the CA is closed');
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

/** The roots a set of authorities publishes: active first, then prepared, then retiring; never duplicated. */
function rootsOf(authorities: readonly SigningAuthority[]): string[] {
  const order = { active: 0, prepared: 1, retiring: 2 } as const;
  const seen = new Set<string>();
  const roots: string[] = [];
  for (const authority of [...authorities].sort((a, b) => order[a.record.state] - order[b.record.state])) {
    for (const pem of authority.rootsPem) {
      const fingerprint = fingerprintOf(new X509Certificate(pem));
      if (seen.has(fingerprint)) continue;
      seen.add(fingerprint);
      roots.push(pem);
    }
  }
  return roots;
}
