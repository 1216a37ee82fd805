/**
 * The one error module. Every user-facing error carries a stable code (never reused),
 * a one-line message, and — for the CLI — an exit code. docs/errors.md lists every code;
 * test/unit/registry/errors.test.ts fails when the two disagree.
 */

export const ErrorCodes = {
  // Configuration and input validation (exit 2).
  CONFIG_INVALID: 'CW_CONFIG_INVALID',
  CONFIG_READ: 'CW_CONFIG_READ',
  USAGE: 'CW_USAGE',
  // Registry.
  CATALOG_INVALID: 'CW_CATALOG_INVALID',
  STORE_CORRUPT: 'CW_STORE_CORRUPT',
  STORE_WRITE: 'CW_STORE_WRITE',
  // Trust and identity.
  SPIFFE_ID_INVALID: 'CW_SPIFFE_ID_INVALID',
  SVID_INVALID: 'CW_SVID_INVALID',
  BUNDLE_INVALID: 'CW_BUNDLE_INVALID',
  BUNDLE_STALE: 'CW_BUNDLE_STALE',
  CHAIN_UNTRUSTED: 'CW_CHAIN_UNTRUSTED',
  CA_INIT: 'CW_CA_INIT',
  CA_ROTATION: 'CW_CA_ROTATION',
  CA_RENEWAL_REFUSED: 'CW_CA_RENEWAL_REFUSED',
  CSR_INVALID: 'CW_CSR_INVALID',
  IDENTITY_NOT_GRANTED: 'CW_IDENTITY_NOT_GRANTED',
  SA_TOKEN_INVALID: 'CW_SA_TOKEN_INVALID',
  SA_JWKS_UNAVAILABLE: 'CW_SA_JWKS_UNAVAILABLE',
  RATE_LIMITED: 'CW_RATE_LIMITED',
  // Peering.
  TOKEN_MALFORMED: 'CW_TOKEN_MALFORMED',
  TOKEN_TAMPERED: 'CW_TOKEN_TAMPERED',
  TOKEN_EXPIRED: 'CW_TOKEN_EXPIRED',
  TOKEN_USED: 'CW_TOKEN_USED',
  TOKEN_UNKNOWN: 'CW_TOKEN_UNKNOWN',
  TOKEN_WRONG_PEER: 'CW_TOKEN_WRONG_PEER',
  BOOTSTRAP_DISABLED: 'CW_BOOTSTRAP_DISABLED',
  PEER_EXISTS: 'CW_PEER_EXISTS',
  PEER_UNKNOWN: 'CW_PEER_UNKNOWN',
  PEER_UNREACHABLE: 'CW_PEER_UNREACHABLE',
  PEER_REFUSED: 'CW_PEER_REFUSED',
  FRAME_INVALID: 'CW_FRAME_INVALID',
  FRAME_TOO_LARGE: 'CW_FRAME_TOO_LARGE',
  // Data plane.
  LISTEN_FAILED: 'CW_LISTEN_FAILED',
  SERVICE_UNKNOWN: 'CW_SERVICE_UNKNOWN',
  NO_HEALTHY_ENDPOINT: 'CW_NO_HEALTHY_ENDPOINT',
  UPSTREAM_CONNECT: 'CW_UPSTREAM_CONNECT',
  UPSTREAM_TIMEOUT: 'CW_UPSTREAM_TIMEOUT',
  UPSTREAM_BROKEN: 'CW_UPSTREAM_BROKEN',
  IDENTITY_REFUSED: 'CW_IDENTITY_REFUSED',
  ACCESS_DENIED: 'CW_ACCESS_DENIED',
  REQUEST_INVALID: 'CW_REQUEST_INVALID',
  // Policy resources.
  POLICY_INVALID: 'CW_POLICY_INVALID',
  POLICY_UNKNOWN: 'CW_POLICY_UNKNOWN',
  POLICY_FILE_OWNED: 'CW_POLICY_FILE_OWNED',
  // Admin API and CLI.
  ADMIN_UNAUTHORIZED: 'CW_ADMIN_UNAUTHORIZED',
  ADMIN_UNREACHABLE: 'CW_ADMIN_UNREACHABLE',
  BODY_INVALID: 'CW_BODY_INVALID',
  NOT_FOUND: 'CW_NOT_FOUND',
  DASHBOARD_UNAVAILABLE: 'CW_DASHBOARD_UNAVAILABLE',
  ORIGIN_REFUSED: 'CW_ORIGIN_REFUSED',
  INTERNAL: 'CW_INTERNAL',
  CLOSED: 'CW_CLOSED',
  // Process and state.
  DATA_DIR_LOCKED: 'CW_DATA_DIR_LOCKED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Exit codes for the CLI: 2 for bad input (config, usage, tokens), 1 for everything else. */
const INPUT_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.CONFIG_INVALID,
  ErrorCodes.CONFIG_READ,
  ErrorCodes.USAGE,
  ErrorCodes.TOKEN_MALFORMED,
  ErrorCodes.TOKEN_TAMPERED,
  ErrorCodes.TOKEN_EXPIRED,
  ErrorCodes.TOKEN_USED,
  ErrorCodes.TOKEN_UNKNOWN,
  ErrorCodes.TOKEN_WRONG_PEER,
  ErrorCodes.PEER_EXISTS,
  ErrorCodes.PEER_UNKNOWN,
  ErrorCodes.BODY_INVALID,
  ErrorCodes.CSR_INVALID,
  ErrorCodes.IDENTITY_NOT_GRANTED,
  ErrorCodes.SA_TOKEN_INVALID,
  ErrorCodes.DATA_DIR_LOCKED,
  ErrorCodes.POLICY_INVALID,
  ErrorCodes.POLICY_UNKNOWN,
  ErrorCodes.POLICY_FILE_OWNED,
]);

export class CausewayError extends Error {
  readonly code: ErrorCode;
  /** Further detail lines (e.g. every config problem found), printed after the message. */
  readonly details: readonly string[];

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: readonly string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CausewayError';
    this.code = code;
    this.details = options.details ?? [];
  }

  get exitCode(): number {
    return INPUT_ERRORS.has(this.code) ? 2 : 1;
  }

  toJSON(): { code: ErrorCode; message: string; details?: readonly string[] } {
    return this.details.length > 0
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/** Whether a code that came over the wire (an API answer) is one of ours. */
export function isErrorCode(code: string): code is ErrorCode {
  return KNOWN_CODES.has(code);
}

export function isCausewayError(err: unknown, code?: ErrorCode): err is CausewayError {
  return err instanceof CausewayError && (code === undefined || err.code === code);
}

/** A one-line description of any thrown value, for logs and wrapped errors. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
