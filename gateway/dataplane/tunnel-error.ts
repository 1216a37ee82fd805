import { CausewayError, type ErrorCode } from '../../registry/index.js';

/**
 * Why a tunnel did not open. `status` is the remote gateway's HTTP status when it answered;
 * undefined when it never did (connect, TLS or identity failure, timeout, dead session) — the
 * caller's outlier detection counts those and 5xx answers, not refusals.
 */
export class TunnelError extends CausewayError {
  readonly status: number | undefined;
  constructor(code: ErrorCode, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.status = options.status;
  }
}
