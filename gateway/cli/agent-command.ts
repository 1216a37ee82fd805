import { CausewayError, ErrorCodes, createLogger } from '../../registry/index.js';
import type { Command } from './command.js';
import { stopRequested } from './gateway-command.js';

export const agentCommand: Command = {
  summary: 'run the VM / bare-metal agent: join a gateway, register and check this host\'s services, be their sidecar',
  usage: 'causeway agent --config FILE   (SIGTERM deregisters the services, then exits)',
  options: { config: { type: 'string' } },
  async run({ values }) {
    if (typeof values.config !== 'string') throw new CausewayError(ErrorCodes.USAGE, 'agent needs --config FILE (docs/vm.md)');
    // Loaded here so that the rest of the CLI starts without the agent's modules.
    const { loadAgentConfig } = await import('../agent/agent-config.js');
    const { Agent } = await import('../agent/agent.js');
    const config = await loadAgentConfig(values.config);
    const logger = createLogger({ level: process.env.CAUSEWAY_LOG_LEVEL ?? config.logLevel, name: 'agent' });
    // SIGINT, SIGTERM, or the parent's IPC channel closing (an agent started by the demo or a test).
    const stopping = stopRequested();
    const agent = await Agent.start(config, { logger });
    const reason = await stopping;
    logger.info({ reason }, 'agent shutting down');
    await agent.stop({ deregister: true });
    logger.flush();
  },
};
