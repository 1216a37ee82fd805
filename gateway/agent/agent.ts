import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CausewayError, ErrorCodes, describeError, silentLogger, type Logger } from '../../registry/index.js';
import { formatHostPort, isUnspecified, parseHostPort, type HostPort } from '../config/address.js';
import { formatIpAddress } from '../dataplane/mesh-address.js';
import type { AgentConfig } from './agent-config.js';
import { AGENT_HOST_PATTERN } from '../agent-channel/agent-frames.js';
import { AgentIdentity } from './agent-identity.js';
import { AgentInbound } from './agent-inbound.js';
import { AgentOutbound } from './agent-outbound.js';
import { ChannelClient } from './channel-client.js';
import { ServiceChecks } from './service-checks.js';

export const AGENT_RUNTIME_FILE = 'agent.json';

/** How long a call of the host waits for the gateway to name its outbound listener. */
const OUTBOUND_WAIT_MS = 5000;

/** Where a running agent listens, written to `<dataDir>/agent.json` (tests and operators read it). */
export interface AgentRuntime {
  pid: number;
  identity: string;
  gateway: string;
  inbound: string | undefined;
  outbound: string | undefined;
  forward: Array<{ listen: string; service: string }>;
}

/**
 * `causeway agent`: a VM or bare-metal host as a member of the mesh — "a small edge gateway"
 * (design brief). It holds the host's identity (key on the host, SVID by CSR, renewed), checks
 * the host's services, registers them over the agent channel with their health and the
 * inbound port, terminates the gateway's mTLS hop to them (inbound), and carries the host's
 * apps' calls to the gateway with its SVID (outbound). Start order: identity, listeners,
 * checks, then the channel — so nothing is registered that cannot be reached yet.
 */
export class Agent {
  private readonly logger: Logger;
  private inbound: AgentInbound | undefined;
  private inboundPort: number | undefined;
  private outbound: AgentOutbound | undefined;
  private checks: ServiceChecks | undefined;
  private channel: ChannelClient | undefined;
  private runtime: AgentRuntime | undefined;
  private stopping: Promise<void> | undefined;
  /** The gateway's outbound listener as its last register ack named it. */
  private toldOutbound: string | undefined;
  /** Settles once the outbound listener is known (config, or the first register ack). */
  private readonly outboundKnown: Promise<void>;
  private markOutboundKnown: () => void = () => {};

  private constructor(private readonly config: AgentConfig, private readonly identity: AgentIdentity, logger: Logger) {
    this.logger = logger;
    this.outboundKnown = config.gateway.outbound !== undefined ? Promise.resolve()
      : new Promise<void>((resolve) => { this.markOutboundKnown = resolve; });
  }

  /**
   * Where the host's calls go, once known: a call made before the first register ack would
   * otherwise go to the default port and be refused. After OUTBOUND_WAIT_MS without an ack
   * (the gateway is unreachable) the default is used, and the call fails on its own terms.
   */
  private async outboundAddress(): Promise<HostPort> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.outboundKnown, new Promise<void>((resolve) => { timer = setTimeout(resolve, OUTBOUND_WAIT_MS); })]);
    clearTimeout(timer);
    return this.gatewayOutbound();
  }

  static async start(config: AgentConfig, options: { logger?: Logger } = {}): Promise<Agent> {
    const logger = (options.logger ?? silentLogger()).child({ component: 'agent' });
    const identity = await AgentIdentity.open({
      dataDir: config.dataDir, joinTokenFile: config.joinTokenFile, identity: config.identity,
      identityAddress: config.gateway.identity === undefined ? undefined : formatHostPort(config.gateway.identity), logger,
    });
    const agent = new Agent(config, identity, logger);
    try {
      await agent.open();
    } catch (err) {
      await agent.stop({ deregister: false });
      throw err;
    }
    return agent;
  }

  /**
   * The gateway's outbound listener: the config's, else what the gateway said in its last
   * register ack, else port 15001 — on the identity listener's host whenever the address has
   * no host of its own (0.0.0.0).
   */
  private gatewayOutbound(): HostPort {
    if (this.config.gateway.outbound !== undefined) return this.config.gateway.outbound;
    const identity = parseHostPort(this.identity.identityAddress);
    const identityHost = typeof identity === 'string' ? '127.0.0.1' : identity.host;
    const told = this.toldOutbound === undefined ? undefined : parseHostPort(this.toldOutbound);
    if (told === undefined || typeof told === 'string') return { host: identityHost, port: 15001 };
    return isUnspecified(told.host) ? { host: identityHost, port: told.port } : told;
  }

  private async open(): Promise<void> {
    const { config, identity } = this;
    const common = { svid: identity, trust: identity.trust, trustDomain: identity.trustDomain, logger: this.logger };
    if (config.inbound !== undefined) {
      const ports = new Set(config.services.flatMap((s) => s.ports.map((p) => p.targetPort ?? p.port)));
      this.inbound = new AgentInbound({ ...common, ports: () => ports });
      const inbound = this.inbound;
      const listen = config.inbound;
      this.inboundPort = (await inbound.listen(listen.host, listen.port).catch((err: unknown) => {
        throw new CausewayError(ErrorCodes.LISTEN_FAILED, `inbound.listen ${formatHostPort(listen)}: ${describeError(err)}`, { cause: err });
      })).port;
    }
    this.outbound = new AgentOutbound({ ...common, gateway: () => this.outboundAddress() });
    const outboundAddress = config.outbound.listen === undefined ? undefined : await this.outbound.listenProxy(config.outbound.listen);
    const forward: AgentRuntime['forward'] = [];
    for (const [i, port] of config.outbound.forward.entries()) {
      const bound = await this.outbound.listenForward(port, `outbound.forward[${i}].listen`);
      forward.push({ listen: formatIpAddress(bound.address, bound.port), service: port.service });
    }
    const checks = new ServiceChecks({ logger: this.logger });
    this.checks = checks;
    for (const service of config.services) checks.set(`${service.name}.${service.namespace}`, service.check);
    this.channel = new ChannelClient({
      ...common, address: () => identity.identityAddress, maxBackoffMs: config.maxBackoffMs,
      registration: () => this.registration(),
      onOutbound: (address) => {
        this.toldOutbound = address;
        this.markOutboundKnown();
      },
    });
    checks.onChange((service, health, detail) => {
      this.logger.info({ service, health, detail }, 'service health changed');
      this.channel?.health(service, health);
    });
    this.channel.start();
    this.runtime = {
      pid: process.pid, identity: identity.spiffeId, gateway: identity.identityAddress,
      inbound: this.inboundPort === undefined || config.inbound === undefined ? undefined : formatIpAddress(config.inbound.host, this.inboundPort),
      outbound: outboundAddress === undefined ? undefined : formatIpAddress(outboundAddress.address, outboundAddress.port),
      forward,
    };
    await writeJson(path.join(config.dataDir, AGENT_RUNTIME_FILE), this.runtime);
    this.logger.info({ ...this.runtime }, 'agent running');
  }

  /** The register frame's body: every service with its health now, the inbound port, the host's facts. */
  private registration(): Record<string, unknown> {
    const { config } = this;
    const host = this.identity.host ?? hostname();
    return {
      kind: config.kind,
      // The name the token was minted for, else this host's own (shown by `causeway agents`).
      ...(AGENT_HOST_PATTERN.test(host) ? { host } : {}),
      ...(config.address === undefined ? {} : { address: config.address }),
      ...(Object.keys(config.locality).length === 0 ? {} : { locality: config.locality }),
      ...(this.inboundPort === undefined ? {} : { inbound: this.inboundPort }),
      services: config.services.map((s) => ({
        name: s.name, namespace: s.namespace, export: s.export, ports: s.ports, labels: s.labels,
        ...(s.exportTo === undefined ? {} : { exportTo: s.exportTo }),
        ...(s.weight === undefined ? {} : { weight: s.weight }),
        health: this.checks?.health(`${s.name}.${s.namespace}`) ?? 'healthy',
      })),
    };
  }

  /**
   * Stops everything. With `deregister` (SIGTERM, the default) the services are removed at the
   * gateway first, at once; without (a crash-like stop) the gateway's lease decides. Idempotent.
   */
  stop(options: { deregister?: boolean } = {}): Promise<void> {
    this.stopping ??= (async () => {
      if (options.deregister !== false && this.channel !== undefined) {
        const done = await this.channel.deregister();
        this.logger.info({ acknowledged: done }, done ? 'services deregistered' : 'deregistration not acknowledged; the gateway\'s lease will expire them');
      }
      this.channel?.close();
      this.inbound?.close();
      this.outbound?.close();
      await this.checks?.close();
      this.identity.close();
      await rm(path.join(this.config.dataDir, AGENT_RUNTIME_FILE), { force: true }).catch((err: unknown) => {
        this.logger.debug({ err: describeError(err) }, 'runtime file not removed');
      });
    })();
    return this.stopping;
  }
}

async function writeJson(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, file);
}
