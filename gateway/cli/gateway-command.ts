import { once } from 'node:events';
import { createLogger } from '../../registry/index.js';
import { loadConfig } from '../config/load-config.js';
import { Gateway } from '../gateway.js';
import type { Command } from './commands.js';
import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';

export const gatewayCommand: Command = {
  summary: 'run a gateway from a config file (stops gracefully on SIGINT/SIGTERM)',
  usage: 'causeway gateway --config FILE',
  options: { config: { type: 'string' } },
  async run(values, positionals) {
    if (typeof values.config !== 'string') throw new CausewayError(ErrorCodes.USAGE, 'gateway needs --config FILE');
    if (positionals.length > 0) throw new CausewayError(ErrorCodes.USAGE, `unexpected argument "${positionals[0]}"`);
    const config = await loadConfig(values.config);
    const logger = createLogger({ level: config.logLevel, name: `gateway/${config.cluster}` });
    const gateway = await Gateway.start(config, { logger, configFile: values.config });
    // SIGHUP re-reads the config (services, access rules); a bad file is logged and ignored.
    const onHangup = (): void => {
      gateway.reload().catch((err: unknown) => logger.error({ err: describeError(err) }, 'config reload refused'));
    };
    process.on('SIGHUP', onHangup);
    const signal = await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
    logger.info({ signal }, 'shutting down');
    process.off('SIGHUP', onHangup);
    await gateway.close();
    logger.flush();
  },
};
