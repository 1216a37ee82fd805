import { CausewayError, ErrorCodes, describeError } from '../errors.js';
import { deepFreeze } from '../immutable.js';
import { silentLogger, type Logger } from '../log.js';
import type { Health, ServiceDeclaration, ServiceKey } from '../model.js';
import type { Source, SourceSink, Store } from '../catalog-types.js';
import { validateDeclaration } from '../validate.js';

/**
 * Where an agent stands: `connected` (its channel is open), `lease` (its channel dropped at
 * `since`; it has until `since + lease` to come back), `expired` (it did not: its endpoints
 * are unhealthy until it registers again).
 */
export type AgentState = 'connected' | 'lease' | 'expired';

export interface AgentStatus {
  agent: string;
  state: AgentState;
  /** The host name the agent reported (the one its join token was minted for, or its own). */
  host: string | undefined;
  services: ServiceKey[];
  /** Each service's health as the agent reported it (or `unhealthy` once the lease ran out). */
  health: Record<ServiceKey, Health>;
  /** When the lease runs out (state `lease`), epoch ms. */
  leaseExpiresAtMs: number | undefined;
}

interface AgentEntry {
  agent: string;
  state: AgentState;
  host?: string | undefined;
  leaseExpiresAtMs: number | undefined;
  declarations: ServiceDeclaration[];
  timer: NodeJS.Timeout | undefined;
}

interface AgentFile {
  version: 1;
  agents: Array<{ agent: string; state: AgentState; host?: string; leaseExpiresAtMs?: number; declarations: unknown[] }>;
}

export interface AgentSourceOptions {
  store: Store;
  /** How long an agent whose channel dropped keeps its endpoints' health (default 15 s). */
  leaseMs?: number;
  name?: string;
  logger?: Logger;
  now?: () => number;
}

const STORE_NAME = 'agent-registrations';

/**
 * The registry source of the VM and bare-metal agents (kind `agent`). The agent control
 * channel feeds it; each agent's services are declared under their own source name
 * (`agent:<SPIFFE ID>`), so replacing one agent's registration is one atomic replaceSource
 * that never touches another agent. Registrations and leases are persisted (store entry
 * `agent-registrations`) BEFORE they are acknowledged, so a restarted gateway serves them at
 * once; an agent that was connected when the gateway stopped gets a fresh lease to reconnect.
 * An agent that does not come back within its lease has its endpoints marked unhealthy —
 * never silently kept healthy; a deregistering agent's services are removed.
 */
export class AgentSource implements Source {
  readonly kind = 'agent';
  readonly name: string;
  private readonly agents = new Map<string, AgentEntry>();
  private readonly leaseMs: number;
  private readonly now: () => number;
  private readonly logger: Logger;
  private sink: SourceSink | undefined;
  private saving: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: AgentSourceOptions) {
    this.name = options.name ?? 'agents';
    this.leaseMs = options.leaseMs ?? 15_000;
    this.now = options.now ?? Date.now;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'agent-source' });
  }

  /** Restores the persisted registrations; synced at once (they are all an agent source knows). */
  async start(sink: SourceSink): Promise<void> {
    if (this.closed) return;
    const file = parseAgentFile(await this.options.store.load<unknown>(STORE_NAME));
    this.sink = sink;
    const now = this.now();
    for (const saved of file) {
      // The gateway was down: a connected agent's channel has dropped, so its lease runs from now.
      const entry: AgentEntry = { ...saved, timer: undefined };
      if (entry.state === 'connected' || (entry.state === 'lease' && (entry.leaseExpiresAtMs ?? 0) <= now)) {
        entry.state = 'lease';
        entry.leaseExpiresAtMs = now + this.leaseMs;
      }
      this.agents.set(entry.agent, entry);
      sink.replaceSource(sourceName(entry.agent), entry.declarations);
      if (entry.state === 'lease') this.armLease(entry);
    }
    await this.persist();
    this.logger.info({ agents: this.agents.size }, 'agent registrations restored');
  }

  /** An agent's channel opened: its lease (if any) stops running. */
  connected(agent: string): void {
    const entry = this.agents.get(agent);
    if (entry === undefined || this.closed) return;
    this.clearLease(entry);
    if (entry.state === 'lease') entry.state = 'connected';
    void this.persist();
  }

  /** An agent's channel dropped without a deregister: its lease starts. */
  disconnected(agent: string): void {
    const entry = this.agents.get(agent);
    if (entry === undefined || this.closed || entry.state !== 'connected') return;
    entry.state = 'lease';
    entry.leaseExpiresAtMs = this.now() + this.leaseMs;
    this.armLease(entry);
    void this.persist();
  }

  /**
   * Replaces everything `agent` registered (validated declarations). The registry refuses a
   * conflicting set whole (CW_CATALOG_INVALID) and then nothing changed. Resolves once persisted.
   */
  async register(agent: string, declarations: readonly ServiceDeclaration[], host?: string): Promise<void> {
    this.usable();
    const next = deepFreeze(structuredClone([...declarations]));
    this.sink?.replaceSource(sourceName(agent), next);
    const entry = this.agents.get(agent) ?? { agent, state: 'connected' as AgentState, leaseExpiresAtMs: undefined, declarations: [], timer: undefined };
    this.clearLease(entry);
    entry.state = 'connected';
    entry.declarations = next;
    if (host !== undefined) entry.host = host;
    this.agents.set(agent, entry);
    this.logger.info({ agent, services: next.map((d) => `${d.name}.${d.namespace}`) }, 'agent registered');
    await this.persist();
  }

  /** The health of one of `agent`'s services changed (its own check). CW_NOT_FOUND for a service it did not register. */
  async setHealth(agent: string, key: ServiceKey, health: Health): Promise<void> {
    this.usable();
    const entry = this.agents.get(agent);
    const index = entry?.declarations.findIndex((d) => `${d.name}.${d.namespace}` === key) ?? -1;
    if (entry === undefined || index < 0) throw new CausewayError(ErrorCodes.NOT_FOUND, `${key} is not registered by this agent`);
    const next = entry.declarations.map((d, i) => (i === index ? withHealth(d, health) : d));
    this.sink?.replaceSource(sourceName(agent), next);
    entry.declarations = next;
    await this.persist();
  }

  /** A clean shutdown of the agent: its services are removed. */
  async deregister(agent: string): Promise<void> {
    this.usable();
    const entry = this.agents.get(agent);
    if (entry === undefined) return;
    this.clearLease(entry);
    this.sink?.replaceSource(sourceName(agent), []);
    this.agents.delete(agent);
    this.logger.info({ agent }, 'agent deregistered');
    await this.persist();
  }

  status(): AgentStatus[] {
    return [...this.agents.values()].map((e) => ({
      agent: e.agent, state: e.state, host: e.host, services: e.declarations.map((d) => `${d.name}.${d.namespace}`),
      health: Object.fromEntries(e.declarations.map((d) => [`${d.name}.${d.namespace}`, d.endpoints[0]?.health ?? 'unknown'])),
      leaseExpiresAtMs: e.state === 'lease' ? e.leaseExpiresAtMs : undefined,
    }));
  }

  /** Stops the lease timers; registrations stay in the registry and in the store. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.agents.values()) this.clearLease(entry);
    await this.saving;
    this.sink = undefined;
  }

  private usable(): void {
    if (this.closed) throw new CausewayError(ErrorCodes.CLOSED, 'the agent source is closed');
  }

  private armLease(entry: AgentEntry): void {
    this.clearLease(entry);
    const delay = Math.max(0, (entry.leaseExpiresAtMs ?? 0) - this.now());
    entry.timer = setTimeout(() => this.expire(entry), delay);
    entry.timer.unref();
  }

  private clearLease(entry: AgentEntry): void {
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = undefined;
  }

  /** The lease ran out: every endpoint of the agent is unhealthy (declared health wins over checks). */
  private expire(entry: AgentEntry): void {
    entry.timer = undefined;
    if (this.closed || this.agents.get(entry.agent) !== entry || entry.state !== 'lease') return;
    const next = entry.declarations.map((d) => withHealth(d, 'unhealthy'));
    try {
      this.sink?.replaceSource(sourceName(entry.agent), next);
    } catch (err) {
      this.logger.error({ agent: entry.agent, reason: describeError(err) }, 'cannot mark an expired agent unhealthy');
      return;
    }
    entry.declarations = next;
    entry.state = 'expired';
    entry.leaseExpiresAtMs = undefined;
    this.logger.warn({ agent: entry.agent }, 'agent lease expired; its endpoints are unhealthy');
    void this.persist();
  }

  /** Saves the whole state, one save at a time, in call order. */
  private persist(): Promise<void> {
    const file: AgentFile = {
      version: 1,
      agents: [...this.agents.values()].map((e) => ({
        agent: e.agent, state: e.state, ...(e.host === undefined ? {} : { host: e.host }), declarations: e.declarations.map(toSaved),
        ...(e.leaseExpiresAtMs === undefined ? {} : { leaseExpiresAtMs: e.leaseExpiresAtMs }),
      })),
    };
    const saved = this.saving.then(() => this.options.store.save(STORE_NAME, file));
    this.saving = saved.catch((err: unknown) => this.logger.error({ reason: describeError(err) }, 'cannot persist agent registrations'));
    return saved;
  }
}

/** The registry source name of one agent's declarations. */
export function sourceName(agent: string): string {
  return `agent:${agent}`;
}

/** A declaration as validateDeclaration reads it back (`export`, not `exported`). */
function toSaved(d: ServiceDeclaration): unknown {
  return {
    name: d.name, namespace: d.namespace, export: d.exported, ...(d.exportTo === undefined ? {} : { exportTo: d.exportTo }),
    ports: d.ports, endpoints: d.endpoints,
  };
}

function withHealth(declaration: ServiceDeclaration, health: Health): ServiceDeclaration {
  return deepFreeze({ ...declaration, endpoints: declaration.endpoints.map((e) => ({ ...e, health })) });
}

function parseAgentFile(value: unknown): Array<Omit<AgentEntry, 'timer'>> {
  if (value === undefined) return [];
  const corrupt = (problem: string): CausewayError => new CausewayError(ErrorCodes.STORE_CORRUPT, `${STORE_NAME}: ${problem}`);
  const file = value as AgentFile;
  if (value === null || typeof value !== 'object' || file.version !== 1 || !Array.isArray(file.agents)) {
    throw corrupt('expected {"version": 1, "agents": [...]}');
  }
  return file.agents.map((a, i) => {
    if (a === null || typeof a !== 'object' || typeof a.agent !== 'string' || !['connected', 'lease', 'expired'].includes(a.state)
      || !Array.isArray(a.declarations) || (a.leaseExpiresAtMs !== undefined && !Number.isSafeInteger(a.leaseExpiresAtMs))
      || (a.host !== undefined && typeof a.host !== 'string')) {
      throw corrupt(`agents[${i}] is not an agent registration`);
    }
    const errors: string[] = [];
    const declarations = a.declarations.flatMap((d, j) => {
      // Saved endpoints are complete, so the defaults never apply; they only satisfy the signature.
      const endpoint = (d as { endpoints?: Array<{ locality?: ServiceDeclaration['endpoints'][number]['locality'] }> })?.endpoints?.[0];
      const locality = endpoint?.locality ?? { cloud: '', region: '', zone: '', cluster: '' };
      const parsed = validateDeclaration(d, `agents[${i}].declarations[${j}]`, errors, { locality });
      return parsed === undefined ? [] : [deepFreeze(parsed)];
    });
    if (errors.length > 0) throw corrupt(errors[0] ?? '');
    return { agent: a.agent, state: a.state, host: a.host, leaseExpiresAtMs: a.leaseExpiresAtMs, declarations };
  });
}
