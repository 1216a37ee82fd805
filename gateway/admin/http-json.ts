import type { IncomingMessage, ServerResponse } from 'node:http';
import { CausewayError, ErrorCodes } from '../../registry/index.js';

export const MAX_BODY_BYTES = 64 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** HTTP status for an error code: bad input 400, auth 401/403, missing 404, conflict 409, refused content 422, upstream 502, not served here 503. */
export function statusFor(err: CausewayError): number {
  switch (err.code) {
    case ErrorCodes.BODY_INVALID:
    case ErrorCodes.REQUEST_INVALID:
    case ErrorCodes.CONFIG_INVALID:
    case ErrorCodes.CONFIG_READ:
    case ErrorCodes.TOKEN_MALFORMED:
    case ErrorCodes.TOKEN_TAMPERED:
    case ErrorCodes.TOKEN_EXPIRED:
    case ErrorCodes.TOKEN_USED:
    case ErrorCodes.TOKEN_UNKNOWN:
    case ErrorCodes.USAGE:
      return 400;
    case ErrorCodes.ADMIN_UNAUTHORIZED:
      return 401;
    case ErrorCodes.PEER_REFUSED:
    case ErrorCodes.ORIGIN_REFUSED:
      return 403;
    case ErrorCodes.SERVICE_UNKNOWN:
    case ErrorCodes.PEER_UNKNOWN:
    case ErrorCodes.POLICY_UNKNOWN:
    case ErrorCodes.NOT_FOUND:
      return 404;
    case ErrorCodes.PEER_EXISTS:
    case ErrorCodes.CA_ROTATION:
    case ErrorCodes.POLICY_FILE_OWNED:
      return 409;
    // RFC 9110 §15.5.21: the body was understood, its content cannot be applied.
    case ErrorCodes.POLICY_INVALID:
      return 422;
    case ErrorCodes.PEER_UNREACHABLE:
      return 502;
    case ErrorCodes.DASHBOARD_UNAVAILABLE:
      return 503;
    default:
      return 500;
  }
}

export function sendError(res: ServerResponse, err: CausewayError): void {
  sendJson(res, statusFor(err), { error: err.toJSON() });
}

/**
 * The decoded segments of a URL path (without the leading "/"). A malformed percent-encoding
 * (RFC 3986 §2.1: "%" must be followed by two hex digits, and the octets must be UTF-8) is
 * the client's mistake: CW_REQUEST_INVALID, which the admin API answers with 400.
 */
export function decodePath(pathname: string): string[] {
  return pathname.replace(/^\//, '').split('/').map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw new CausewayError(ErrorCodes.REQUEST_INVALID, `the path segment "${segment.slice(0, 100)}" is not valid percent-encoded UTF-8 (RFC 3986 §2.1)`);
    }
  });
}

/** Reads a JSON object body of at most `maxBytes`; anything else is CW_BODY_INVALID. */
export async function readJsonObject(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) {
    throw new CausewayError(ErrorCodes.BODY_INVALID, `request body must be application/json, got "${type || 'none'}"`);
  }
  const text = await readBodyText(req, maxBytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CausewayError(ErrorCodes.BODY_INVALID, `request body is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CausewayError(ErrorCodes.BODY_INVALID, 'request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** The body as UTF-8 text; past `maxBytes` it is CW_BODY_INVALID. */
export async function readBodyText(req: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new CausewayError(ErrorCodes.BODY_INVALID, `request body exceeds ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
