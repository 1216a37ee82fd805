import { once } from 'node:events';
import { CausewayError, ErrorCodes, createLogger, describeError } from '../../registry/index.js';
import { loadConfig } from '../config/load-config.js';
import type { Command } from './command.js';

/**
 * Resolves when the gateway should stop: SIGINT, SIGTERM, or — for a gateway started by
 * another process with an IPC channel (the demo, tests) — that channel closing, which is how
 * a child learns its parent died by any signal, SIGKILL included.
 */
export async function stopRequested(): Promise<string> {
  const reasons: Array<Promise<string>> = [
    once(process, 'SIGINT').then(() => 'SIGINT'),
    once(process, 'SIGTERM').then(() => 'SIGTERM'),
  ];
  if (process.channel !== undefined) {
    // The channel must not by itself keep the process alive; the listeners do that.
    process.channel.unref();
    reasons.push(once(process, 'disconnect').then(() => 'parent gone'));
  }
  return Promise.race(reasons);
}

export const gatewayCommand: Command = {
  summary: 'run a gateway from a config file (stops gracefully on SIGINT/SIGTERM)',
  usage: 'causeway gateway --config FILE',
  options: { config: { type: 'string' } },
  async run({ values }) {
    if (typeof values.config !== 'string') throw new CausewayError(ErrorCodes.USAGE, 'gateway needs --config FILE');
    const config = await loadConfig(values.config);
    const logger = createLogger({ level: config.logLevel, name: `gateway/${config.cluster}` });
    const stopping = stopRequested();
    // Loaded here, not at the top: every other command of the CLI starts without the whole
    // gateway (the data plane, the CA, the policy compiler), in a fraction of the time.
    const { Gateway } = await import('../gateway.js');
    const gateway = await Gateway.start(config, { logger, configFile: values.config });
    // SIGHUP re-reads the config (services, access rules); a bad file is logged and ignored.
    const onHangup = (): void => {
      gateway.reload().catch((err: unknown) => logger.error({ err: describeError(err) }, 'config reload refused'));
    };
    process.on('SIGHUP', onHangup);
    const reason = await stopping;
    logger.info({ reason }, 'shutting down');
    process.off('SIGHUP', onHangup);
    await gateway.close();
    logger.flush();
  },
};
