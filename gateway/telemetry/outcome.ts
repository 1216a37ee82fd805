import { ErrorCodes } from '../../registry/index.js';

/**
 * What became of a request, as one bounded label: `success` (answered below 400), `denied`
 * (access policy refused it), `client_error` (another 4xx: a bad request, an unknown service),
 * `error` (5xx, or no answer at all). Success rates are `success` over all but `denied` and
 * `client_error`, which are the caller's doing (docs/observability.md).
 */
export type Outcome = 'success' | 'denied' | 'client_error' | 'error';

export function outcomeOf(status: number, code: string | undefined): Outcome {
  if (code === ErrorCodes.ACCESS_DENIED || code === ErrorCodes.IDENTITY_REFUSED) return 'denied';
  // A name the catalog does not know, or a request that is not one: answered 502 / 400, the caller's doing.
  if (isUnknownTarget(code)) return 'client_error';
  if (status === 0 || status >= 500) return 'error';
  if (status >= 400) return 'client_error';
  return 'success';
}

/**
 * Codes under which the requested name is the caller's invention, not a service we know: such
 * a name never becomes a label value (a caller could mint series at will), it is `unknown`.
 */
export function isUnknownTarget(code: string | undefined): boolean {
  return code === ErrorCodes.SERVICE_UNKNOWN || code === ErrorCodes.REQUEST_INVALID;
}
