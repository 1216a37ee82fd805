import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths that may carry secrets anywhere in a log record. pino replaces them with
 * "[redacted]" before serialisation, so a secret never reaches a log line (design brief:
 * "Secrets never appear in logs").
 */
export const REDACT_PATHS: readonly string[] = [
  'secret',
  '*.secret',
  'token',
  '*.token',
  'key',
  '*.key',
  'keyPem',
  '*.keyPem',
  'privateKey',
  '*.privateKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
];

export interface LogOptions {
  level?: string;
  /** Write to this destination instead of stdout (tests pass a stream to capture lines). */
  destination?: NodeJS.WritableStream;
  name?: string;
}

/** The root logger of a process. Components take `root.child({ component: 'x' })`. */
export function createLogger(options: LogOptions = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? process.env.CAUSEWAY_LOG_LEVEL ?? 'info',
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    base: options.name === undefined ? { pid: process.pid } : { pid: process.pid, name: options.name },
  };
  return options.destination === undefined ? pino(config) : pino(config, options.destination);
}

/** A logger that discards everything; the default for library objects built without one. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
