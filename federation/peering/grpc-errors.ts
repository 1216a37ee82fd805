import * as grpc from '@grpc/grpc-js';
import { CausewayError, ErrorCodes, describeError, type ErrorCode } from '../../registry/index.js';

/**
 * CausewayError ↔ gRPC status. The stable CW_* code travels in the trailing metadata
 * `causeway-error-code`, so the redeeming gateway can relay the issuer's exact verdict
 * (CW_TOKEN_USED, …) to its operator; the gRPC status code is chosen for generic clients.
 */
export const ERROR_CODE_METADATA = 'causeway-error-code';

const STATUS_OF: Partial<Record<ErrorCode, grpc.status>> = {
  [ErrorCodes.TOKEN_MALFORMED]: grpc.status.INVALID_ARGUMENT,
  [ErrorCodes.TOKEN_TAMPERED]: grpc.status.PERMISSION_DENIED,
  [ErrorCodes.TOKEN_UNKNOWN]: grpc.status.PERMISSION_DENIED,
  [ErrorCodes.TOKEN_EXPIRED]: grpc.status.FAILED_PRECONDITION,
  [ErrorCodes.TOKEN_USED]: grpc.status.FAILED_PRECONDITION,
  [ErrorCodes.TOKEN_WRONG_PEER]: grpc.status.PERMISSION_DENIED,
  [ErrorCodes.BOOTSTRAP_DISABLED]: grpc.status.FAILED_PRECONDITION,
  [ErrorCodes.PEER_EXISTS]: grpc.status.ALREADY_EXISTS,
  [ErrorCodes.PEER_REFUSED]: grpc.status.PERMISSION_DENIED,
  [ErrorCodes.PEER_UNKNOWN]: grpc.status.UNAUTHENTICATED,
  [ErrorCodes.FRAME_INVALID]: grpc.status.INVALID_ARGUMENT,
  [ErrorCodes.CLOSED]: grpc.status.UNAVAILABLE,
};

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/** A server-side status object for `err` (unexpected errors become INTERNAL, message kept). */
export function toGrpcStatus(err: unknown, fallback: ErrorCode = ErrorCodes.INTERNAL): Partial<grpc.StatusObject> {
  const code = err instanceof CausewayError ? err.code : fallback;
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_METADATA, code);
  return { code: STATUS_OF[code] ?? grpc.status.INTERNAL, details: describeError(err), metadata };
}

/**
 * A client-side gRPC error as a CausewayError: the peer's CW_* code when it sent a known one;
 * CW_PEER_UNREACHABLE when no answer came (connection refused, TLS failure, deadline);
 * CW_PEER_REFUSED otherwise.
 */
export function fromGrpcError(err: unknown, peer: string): CausewayError {
  const e = err as Partial<grpc.ServiceError>;
  const sent = e.metadata?.get(ERROR_CODE_METADATA)[0];
  const details = typeof e.details === 'string' && e.details !== '' ? e.details : describeError(err);
  if (typeof sent === 'string' && KNOWN_CODES.has(sent)) {
    return new CausewayError(sent as ErrorCode, `${peer}: ${details}`, { cause: err });
  }
  if (e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED || e.code === grpc.status.CANCELLED) {
    return new CausewayError(ErrorCodes.PEER_UNREACHABLE, `${peer} did not answer: ${details}`, { cause: err });
  }
  return new CausewayError(ErrorCodes.PEER_REFUSED, `${peer} refused: ${details}`, { cause: err });
}
